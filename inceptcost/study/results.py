"""Finished training runs as the tradeoff and the study read them: a run folder's `summary.json` (written by
`inceptcost train`) and, beside it, its `config.yaml` (the image size and seed it was trained with).

Read tolerantly but strictly: a run missing a key a table needs is reported by name, never silently dropped;
inf, NaN, deep nesting and oversized files are refused in one line. No torch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import InceptcostError
from ..readsafe import read_regular

MAX_SUMMARY_BYTES = 1 << 20  # a summary.json is about 1 KB

# Run field -> its key in summary.json
KEYS: dict[str, str] = {
    "spec": "spec",
    "params": "params",
    "macs": "macs",
    "best_top1": "best_val_top1",
    "final_top1": "final_val_top1",
    "images_per_s": "images_per_s",
    "total_seconds": "total_seconds",
    "device": "device",
    "world_size": "world_size",
    "spec_file": "spec_file",
    "data": "data",
    "epochs": "epochs",
    "seed": "seed",
    "finished": "finished",
    "device_type": "device_type",
}
REQUIRED = ("spec", "macs", "best_top1")


@dataclass
class Run:
    name: str  # the run folder's name
    path: str  # its summary.json
    spec: str
    params: int | None
    macs: float
    best_top1: float
    final_top1: float | None
    images_per_s: float | None
    total_seconds: float | None
    device: str | None
    world_size: int | None
    spec_file: str | None = None
    data: str | None = None
    epochs: int | None = None
    seed: int | None = None
    finished: str | None = None  # ISO date the run finished
    device_type: str | None = None  # cpu | cuda
    input: str | None = None  # HxW the images were trained at, from config.yaml

    @property
    def ms_per_image(self) -> float | None:
        return 1000 / self.images_per_s if self.images_per_s else None


def _summary_path(p: Path) -> Path:
    return p / "summary.json" if p.is_dir() else p


def read_json(path: Path, what: str):
    raw = read_regular(path, limit=MAX_SUMMARY_BYTES, what=what)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: bad JSON, inf or NaN, a 5000-digit number
        raise InceptcostError(f"cannot read {what} ({exc})", file=str(path)) from None
    except RecursionError:
        raise InceptcostError(f"cannot read {what} (nested too deeply)", file=str(path)) from None


def _config(config: Path) -> tuple[str | None, int | None]:
    """(HxW as trained, seed) from the run's config.yaml, or None for what it lacks (older runs, no file)."""
    if not config.is_file():
        return None, None
    from ..spec.yamlsafe import load_yaml

    try:
        data, _ = load_yaml(config)
        _, h, w = data["spec"]["input"]
        size = f"{int(h)}x{int(w)}"
    except (InceptcostError, KeyError, TypeError, ValueError):
        return None, None  # the setting is then unknown; the run itself stays readable
    seed = data.get("run", {}).get("seed") if isinstance(data.get("run"), dict) else None
    return size, seed if isinstance(seed, int) else None


def read_run(path: str | Path) -> Run:
    p = Path(path)
    summary = _summary_path(p)
    if not summary.is_file():
        raise InceptcostError("no summary.json here", file=str(p), hint="pass run folders (reports/runs/NAME)")
    data = read_json(summary, "summary.json")
    if not isinstance(data, dict):
        raise InceptcostError("summary.json is not a JSON object", file=str(summary))
    values = {f: data.get(key) for f, key in KEYS.items()}
    missing = [f for f in REQUIRED if values[f] is None]
    if missing:
        raise InceptcostError(
            f"summary.json lacks {', '.join(KEYS[f] for f in missing)}",
            file=str(summary),
            hint="an unfinished run has no best top-1 yet; leave it out" if "best_top1" in missing else None,
        )
    name = (summary.parent if summary.name == "summary.json" else summary).name

    size, seed = _config(summary.parent / "config.yaml")

    def opt(field: str, kind):
        return kind(values[field]) if values[field] is not None else None

    try:
        run = Run(
            name=name,
            path=str(summary),
            spec=str(values["spec"]),
            params=opt("params", int),
            macs=float(values["macs"]),
            best_top1=float(values["best_top1"]),
            final_top1=opt("final_top1", float),
            images_per_s=opt("images_per_s", float),
            total_seconds=opt("total_seconds", float),
            device=opt("device", str),
            world_size=opt("world_size", int),
            spec_file=opt("spec_file", str),
            data=opt("data", str),
            epochs=opt("epochs", int),
            seed=opt("seed", int) if values["seed"] is not None else seed,
            finished=opt("finished", str),
            device_type=opt("device_type", str),
            input=size,
        )
        for field in ("macs", "best_top1", "final_top1", "images_per_s", "total_seconds"):
            if getattr(run, field) is not None and not math.isfinite(getattr(run, field)):
                raise ValueError(f"{field} is {getattr(run, field)}")
    except (TypeError, ValueError, OverflowError) as exc:
        raise InceptcostError(f"a value has the wrong type ({exc})", file=str(summary)) from None
    if not run.macs > 0:
        raise InceptcostError(f"MACs must be a positive number, got {run.macs}", file=str(summary))
    if run.params is not None and run.params < 0:
        raise InceptcostError(f"params must be >= 0, got {run.params}", file=str(summary))
    return run


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a run can have")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is beyond a float's range")
    return value


def load_runs(paths: list[str | Path]) -> list[Run]:
    if not paths:
        raise InceptcostError("no runs given", hint="e.g. inceptcost tradeoff reports/runs/*")
    runs = [read_run(p) for p in paths]
    seen: dict[str, str] = {}
    for r in runs:  # two folders named alike would be indistinguishable on the plot
        if r.name in seen and seen[r.name] != r.path:
            r.name = f"{Path(r.path).parent.parent.name}/{r.name}"
        seen[r.name] = r.path
    return runs
