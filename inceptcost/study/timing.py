"""Each spec's training step timed on its own, as `inceptcost bench` times it: synthetic data on the plan's device,
warm-up, then the median of repeated timed steps, at the plan's batch with the aux heads on (as the runs train).

The runs' own images/s are kept in the table too, but they carry whatever else the machine was doing while they
trained; this is the figure the predicted time is compared with. A result is kept in `bench/SPEC.json` beside the
runs and reused while the spec file, the batch, the device and the thread count are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InceptcostError
from ..io import write_atomic
from ..spec import Spec

# the measured figures of a cached result: ms per image, each a finite number above 0
TIMES = ("ms_per_image", "min", "max")


def read_cache(cache: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """The result kept in `cache` when it was timed with `key`'s settings (None: there is none, or it was timed
    with others and is timed again). A file a user edited or a crash cut short is refused in one line naming it
    and the field: a cache that is not a regular file, not JSON, not an object, or a time that is not a number."""
    import os

    from .results import field_positive, read_json

    if not os.path.lexists(cache):
        return None
    try:  # a regular file of at most 1 MiB: never a FIFO, a folder or 4 GiB; JSON without NaN or inf
        kept = read_json(cache, "bench cache")
    except InceptcostError as exc:
        exc.hint = "delete it to time the spec again"
        raise
    if not isinstance(kept, dict):
        raise InceptcostError(
            f"the bench cache is not a JSON object (it holds a {type(kept).__name__})",
            file=str(cache),
            hint="delete it to time the spec again",
        )
    if {k: kept.get(k) for k in key} != key:
        return None
    for field in TIMES:
        try:
            field_positive(kept.get(field), cache, field)
        except InceptcostError as exc:
            exc.hint = "delete the file to time the spec again"
            raise
    if not kept["min"] <= kept["ms_per_image"] <= kept["max"]:
        raise InceptcostError(
            "the median time is not between the fastest and the slowest",
            file=str(cache),
            where="ms_per_image",
            hint="delete the file to time the spec again",
        )
    return kept


def timed(spec: Spec, spec_file: str | Path, batch: int, device: str, out: Path, threads: int | None) -> dict[str, Any]:
    """{'ms_per_image', 'min', 'max' (ms per image over the repeats), 'threads', ...} for a training step, on
    `threads` torch threads (None: as many as torch uses now)."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    from ..train.bench.runner import BenchConfig, run_bench

    key = {
        "spec_sha256": hashlib.sha256(Path(spec_file).read_bytes()).hexdigest(),
        "input": list(spec.input),
        "classes": spec.classes,
        "batch": batch,
        "device": device,
        "threads": torch.get_num_threads(),
    }
    cache = out / "bench" / f"{spec.name}.json"
    kept = read_cache(cache, key)
    if kept is not None:
        return kept
    cfg = BenchConfig(device=device, batch=batch, mode="train", aux=True, steps=10, warmup=3, repeats=5)
    (row,) = run_bench(spec, cfg)
    result = {
        **key,
        "ms_per_image": row["ms_per_step"] / row["batch"],
        "min": row["ms_per_step_min"] / row["batch"],
        "max": row["ms_per_step_max"] / row["batch"],
        "device_name": row["device_name"],
        "torch": row["torch"],
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "how": "inceptcost bench: train step, synthetic data, 3 warm-up steps, median of 5 repeats of 10 steps",
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(cache, json.dumps(result, indent=2) + "\n")
    return result
