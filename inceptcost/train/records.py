"""What a run writes about itself: config.yaml (everything it was started with) and summary.json (how it went).
Functions of the Trainer, so that the loop keeps to the loop."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from inceptcost.errors import literal
from inceptcost.train.config import RUN_FILES


def config_record(self) -> dict:
    """config.yaml of a run: the spec as trained (with its file's SHA-256), data, recipe, settings, device."""
    s = self.spec
    return {
        "spec": {
            "name": s.name,
            "file": str(s.file),
            "sha256": self.spec_sha256,
            "input": list(s.input),
            "classes": s.classes,
        },
        "data": {**self.data.describe(), "resized_to": list(self.size)},
        "recipe": self.recipe.to_dict(),
        "run": {k: v for k, v in self.config.to_dict().items() if k != "recipe"}
        | {"steps_per_epoch": self.steps_per_epoch, "per_worker_batch": self.local_batch, "amp": self.amp},
        "device": device_record(self),
        "versions": {
            "python": platform.python_version(),
            "torch": str(torch.__version__),
            "numpy": np.__version__,
            "inceptcost": _version(),
        },
    }


def device_record(self) -> dict:
    dev = self.ctx.device
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else (platform.processor() or "cpu")
    return {
        "type": dev.type,
        "name": name,
        "world_size": self.ctx.world_size,
        "backend": self.ctx.backend,
        "threads": torch.get_num_threads(),
    }


def summary(self, status: str) -> dict:
    """summary.json of a run (`status`: running, completed, diverged, interrupted)."""
    h = self.history
    best = max(h, key=lambda r: r["val_top1"]) if h else None
    return {
        "spec": self.spec.name,
        "spec_file": str(self.spec.file),
        "data": self.data.name,
        "status": status,
        "params": int(self.costs["params"]),
        "params_aux": int(self.costs.get("params_aux", 0)),
        "macs": int(self.costs["macs"]),
        "macs_aux": int(self.costs.get("macs_aux", 0)),
        "adapted_to_data": self.adapted,  # None when the data fits the spec as written
        "epochs": len(h),
        "steps": self.global_step,
        "best_val_top1": best["val_top1"] if best else None,
        "best_epoch": best["epoch"] + 1 if best else None,
        "final_val_top1": h[-1]["val_top1"] if h else None,
        "final_val_top5": h[-1]["val_top5"] if h else None,
        "total_seconds": sum(r["epoch_seconds"] for r in h),
        # the median epoch, so that the first epoch's warm-up (cuDNN autotuning, lazy init) does not count
        "images_per_s": statistics.median(r["images_per_s"] for r in h) if h else None,
        "device": device_record(self)["name"],
        "device_type": self.ctx.device.type,
        "world_size": self.ctx.world_size,
        "amp": "bf16" if self.amp else None,
        "channels_last": self.config.channels_last,
        "compile": self.config.compile,
        "seed": self.config.seed,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds") if status == "completed" else None,
    }


def check_run_dir(run_dir: Path, inputs: Iterable[str | Path | None] = ()) -> None:
    """The run folder is a folder, or can be made as one, before the first epoch (nothing is created here), and
    none of the files a run writes there is one of its inputs (a spec or weights named config.yaml there)."""
    from inceptcost.errors import OutputError
    from inceptcost.io import refuse_inputs

    refuse_inputs([run_dir / name for name in RUN_FILES], inputs)

    if run_dir.exists() and not run_dir.is_dir():
        raise OutputError("is a file, not a run folder", file=str(run_dir), hint="give {out} a folder", settings=True)
    existing = run_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"cannot make the run folder under the file {literal(existing)}",
            file=str(run_dir),
            hint="give {out} a folder",
            settings=True,
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write in {literal(existing)} (permission denied)",
            file=str(run_dir),
            hint="choose a writable folder",
        )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inceptcost")
    except PackageNotFoundError:
        return "unknown"
