"""Finished training runs as the tradeoff and the study read them: a run folder's `summary.json` (written by
`inceptcost train`) and, beside it, its `config.yaml` (the image size and seed it was trained with).

Read tolerantly but strictly: a run missing a key a table needs is reported by name, never silently dropped;
inf, NaN, deep nesting and oversized files are refused in one line. No torch.
"""

from __future__ import annotations

import json
import math
import os
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


# The checks of one field of a file a user may edit or a crash may truncate: its type, finiteness and range.
# Each names the file, the line where there is one (config.yaml) and the field.
MAX_COUNT = 1 << 62  # a count or size beyond this is no real run's
MAX_NUMBER = 1e30  # a rate, a cost or a duration beyond this is no real run's


def _bad(path: Path, where: str, message: str, line: int | None = None, hint: str | None = None) -> InceptcostError:
    return InceptcostError(message, file=str(path), line=line, where=where, hint=hint or "fix or remove the value")


def field_int(value, path: Path, where: str, least: int = 0, line: int | None = None) -> int:
    """A whole number in [least, MAX_COUNT] (a bool, a float or text is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(path, where, f"must be a whole number, got {_shown(value)}", line)
    if not least <= value <= MAX_COUNT:
        raise _bad(path, where, f"must be from {least} to {MAX_COUNT:,}, got {value:,}", line)
    return value


def field_number(value, path: Path, where: str, lo: float, hi: float, line: int | None = None) -> float:
    """A finite number in [lo, hi] (a bool or text is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(path, where, f"must be a number, got {_shown(value)}", line)
    try:
        number = float(value)
    except OverflowError:  # an int with 400 digits
        number = math.inf
    if not (math.isfinite(number) and lo <= number <= hi):
        raise _bad(path, where, f"must be a finite number from {lo:g} to {hi:g}, got {_shown(value)}", line)
    return number


def field_positive(value, path: Path, where: str, line: int | None = None) -> float:
    """A finite number above 0 (at most MAX_NUMBER)."""
    number = field_number(value, path, where, 0, MAX_NUMBER, line)
    if number == 0:
        raise _bad(path, where, "must be above 0, got 0", line)
    return number


def field_seed(value, path: Path, where: str, line: int | None = None) -> int:
    """A whole number, negative or not."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_COUNT:
        raise _bad(path, where, f"must be a whole number, got {_shown(value)}", line)
    return value


def field_text(value, path: Path, where: str, line: int | None = None) -> str:
    if not isinstance(value, str):
        raise _bad(path, where, f"must be text, got {_shown(value)}", line)
    return value


def _shown(value) -> str:
    from ..errors import printable

    text = repr(value)
    return printable(text if len(text) <= 40 else text[:37] + "...")


@dataclass(frozen=True)
class RunConfig:
    """What the tradeoff and the study read from a run's config.yaml: the spec as trained and the seed."""

    input: tuple[int, int, int] | None  # (C, H, W)
    classes: int | None
    seed: int | None

    @property
    def size(self) -> str | None:
        return f"{self.input[1]}x{self.input[2]}" if self.input else None


def read_config(config: Path) -> RunConfig:
    """The run's config.yaml, checked field by field; a run without one (an older run) knows none of them."""
    if not os.path.lexists(config):
        return RunConfig(None, None, None)
    from ..spec.yamlsafe import LineMap, load_yaml

    data, _ = load_yaml(config, kind="run config", error=InceptcostError)

    def line(d, key) -> int | None:
        return d.line_of(key) if isinstance(d, LineMap) else None

    if not isinstance(data, dict):
        raise _bad(config, "config.yaml", "is not a mapping of settings", line(data, None))
    spec, run = data.get("spec"), data.get("run")
    for key, part in (("spec", spec), ("run", run)):
        if part is not None and not isinstance(part, dict):
            raise _bad(config, key, f"must be a mapping, got {_shown(part)}", line(data, key))
    spec, run = spec or {}, run or {}
    chw = None
    if spec.get("input") is not None:
        value, at = spec["input"], line(spec, "input")
        if not isinstance(value, list) or len(value) != 3:
            raise _bad(config, "spec.input", f"must be [channels, height, width], got {_shown(value)}", at)
        chw = tuple(field_int(v, config, f"spec.input[{i}]", 1, at) for i, v in enumerate(value))
    classes = spec.get("classes")
    if classes is not None:
        classes = field_int(classes, config, "spec.classes", 1, line(spec, "classes"))
    seed = run.get("seed")
    if seed is not None:
        seed = field_seed(seed, config, "run.seed", line(run, "seed"))
    return RunConfig(chw, classes, seed)  # type: ignore[arg-type]


# summary.json key -> its check
def _count(least: int):
    return lambda v, path, key: field_int(v, path, key, least)


def _number(lo: float, hi: float):
    return lambda v, path, key: field_number(v, path, key, lo, hi)


CHECKS = {
    "spec": field_text,
    "params": _count(0),
    "macs": lambda v, path, key: field_positive(v, path, key),
    "best_val_top1": _number(0, 100),  # percent
    "final_val_top1": _number(0, 100),
    "images_per_s": _number(0, MAX_NUMBER),
    "total_seconds": _number(0, MAX_NUMBER),
    "device": field_text,
    "world_size": _count(1),
    "spec_file": field_text,
    "data": field_text,
    "epochs": _count(1),
    "seed": lambda v, path, key: field_seed(v, path, key),
    "finished": field_text,
    "device_type": field_text,
}


def read_summary(summary: Path) -> dict:
    """A run's summary.json: a JSON object whose known keys each pass their check (None: not recorded)."""
    data = read_json(summary, "summary.json")
    if not isinstance(data, dict):
        raise InceptcostError("summary.json is not a JSON object", file=str(summary))
    return {
        key: (check(data[key], summary, key) if data.get(key) is not None else None) for key, check in CHECKS.items()
    }


def run_files(paths: list[str | Path]) -> list[Path]:
    """The files a list of runs is read from: each run's summary.json and the config.yaml beside it."""
    found = []
    for p in paths:
        summary = _summary_path(Path(p))
        found += [summary, summary.parent / "config.yaml"]
    return found


def read_run(path: str | Path) -> Run:
    p = Path(path)
    summary = _summary_path(p)
    if not summary.is_file():
        raise InceptcostError("no summary.json here", file=str(p), hint="pass run folders (reports/runs/NAME)")
    data = read_summary(summary)
    values = {f: data[key] for f, key in KEYS.items()}
    missing = [f for f in REQUIRED if values[f] is None]
    if missing:
        raise InceptcostError(
            f"summary.json lacks {', '.join(KEYS[f] for f in missing)}",
            file=str(summary),
            hint="an unfinished run has no best top-1 yet; leave it out" if "best_top1" in missing else None,
        )
    name = (summary.parent if summary.name == "summary.json" else summary).name
    config = read_config(summary.parent / "config.yaml")
    return Run(
        name=name,
        path=str(summary),
        input=config.size,
        **{**values, "seed": values["seed"] if values["seed"] is not None else config.seed},
    )


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
