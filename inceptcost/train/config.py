"""The typed configuration of one training run (everything but the recipe's hyper-parameters)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from inceptcost.train.errors import TrainError
from inceptcost.train.recipe import Recipe


@dataclass(frozen=True)
class TrainConfig:
    spec: str
    data: str = "digits"
    epochs: int = 10
    batch_size: int = 64  # global: split evenly over the workers
    device: str = "auto"  # cpu | cuda | auto
    gpus: int | None = None  # local CUDA workers
    nproc: int | None = None  # local CPU workers (gloo)
    amp: bool | None = None  # bf16 autocast; None = on for cuda, off for cpu
    channels_last: bool = False
    compile: bool = False
    out: str | None = None  # run folder; default reports/runs/<spec>-<data>
    resume: bool = False
    seed: int = 0
    save_every: int = 0  # also checkpoint every K optimizer steps (0 = only at epoch ends)
    steps_per_epoch: int | None = None  # cap, for quick trials
    eval_batch_size: int = 256
    log_every: int = 20
    download: bool = False
    recipe: Recipe = field(default_factory=Recipe)

    def validate(self) -> TrainConfig:
        for name in ("epochs", "batch_size", "eval_batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise TrainError(f"{{{name}}} must be >= 1, got {getattr(self, name)}", settings=True)
        if self.save_every < 0:
            raise TrainError(f"{{save_every}} must be >= 0, got {self.save_every}", settings=True)
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise TrainError(f"{{steps_per_epoch}} must be >= 1, got {self.steps_per_epoch}", settings=True)
        for name in ("gpus", "nproc"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TrainError(f"{{{name}}} must be >= 1, got {getattr(self, name)}", settings=True)
        if self.gpus is not None and self.device == "cpu":
            raise TrainError(
                "{gpus} starts CUDA workers; use {nproc} N for CPU workers with {device} cpu", settings=True
            )
        if self.nproc is not None and self.gpus is not None and self.nproc != self.gpus:
            raise TrainError(
                f"{{nproc}} {self.nproc} and {{gpus}} {self.gpus} disagree; give one of them", settings=True
            )
        self.recipe.validate()
        return self

    def run_dir(self, spec_name: str) -> Path:
        if self.out:
            return Path(self.out)
        tag = re.sub(r"[^A-Za-z0-9._-]+", "-", self.data.split(":")[0])
        return Path("reports") / "runs" / f"{spec_name}-{tag}"

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["recipe"] = self.recipe.to_dict()
        return d


# Settings that must match for a resumed run to continue the same run exactly.
RESUME_MUST_MATCH = ("spec", "data", "batch_size", "seed", "steps_per_epoch", "recipe")
