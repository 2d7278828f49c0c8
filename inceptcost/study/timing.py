"""Each spec's training step timed on its own, as `inceptcost bench` times it: synthetic data on the plan's device,
warm-up, then the median of repeated timed steps, at the plan's batch with the aux heads on (as the runs train).

The runs' own images/s are kept in the table too, but they carry whatever else the machine was doing while they
trained; this is the figure the predicted time is compared with. A result is kept in `bench/SPEC.json` beside the
runs and reused while the spec file, the batch, the device and the thread count are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InceptcostError
from ..io import write_atomic
from ..readsafe import read_regular
from ..spec import Spec

MAX_CACHE_BYTES = 1 << 20  # a cached timing is about 1 KB


def _kept(cache: Path) -> dict[str, Any] | None:
    """The cached timing, or None when there is none or it cannot be used (then it is timed again and replaced);
    a cache that is not a regular file (a FIFO would block the read and the write) or is too large is refused."""
    if not os.path.lexists(cache):
        return None
    try:
        raw = read_regular(cache, limit=MAX_CACHE_BYTES, what="timing cache")
    except InceptcostError as exc:
        raise InceptcostError(
            f"timing cache: {exc.message}", file=str(cache), hint="delete it; the study times the spec again"
        ) from None
    try:
        kept = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return kept if isinstance(kept, dict) else None


def timed(spec: Spec, spec_file: str | Path, batch: int, device: str, out: Path, threads: int | None) -> dict[str, Any]:
    """{'ms_per_image', 'min', 'max' (ms per image over the repeats), 'threads', ...} for a training step, on
    `threads` torch threads (None: as many as torch uses now)."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    from ..bench.runner import BenchConfig, run_bench

    key = {
        "spec_sha256": hashlib.sha256(Path(spec_file).read_bytes()).hexdigest(),
        "input": list(spec.input),
        "classes": spec.classes,
        "batch": batch,
        "device": device,
        "threads": torch.get_num_threads(),
    }
    cache = out / "bench" / f"{spec.name}.json"
    kept = _kept(cache)
    if kept is not None and {k: kept.get(k) for k in key} == key:
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
