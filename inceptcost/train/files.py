"""A run's files (config.yaml, metrics.csv, summary.json, the checkpoint), each written atomically by the
package's one writer into the run folder, which is created on first use."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml

from inceptcost.io import write_atomic


def write_bytes(path: str | Path, data: bytes) -> None:
    write_atomic(path, data, parents=True)


def write_json(path: str | Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2) + "\n", parents=True)


def write_yaml(path: str | Path, data: dict) -> None:
    write_atomic(path, yaml.safe_dump(data, sort_keys=False), parents=True)


def write_csv(path: str | Path, rows: list[dict], columns: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, buf.getvalue(), parents=True)
