"""The typed configuration of one training run (everything but the recipe's hyper-parameters)."""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from inceptcost.io import usable_cpus
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
    fast: bool = False  # the fast build of the same model (same state dict: resumable either way)
    out: str | None = None  # run folder; default reports/runs/<spec>-<data>
    resume: bool = False
    seed: int = 0
    save_every: int = 0  # also checkpoint every K optimizer steps (0 = only at epoch ends)
    steps_per_epoch: int | None = None  # cap, for quick trials
    eval_batch_size: int = 256
    log_every: int = 20
    download: bool = False
    init: str | None = None  # a weights file to start from (train.weights); ignored by --resume
    reset_head: bool = False  # with init: a classifier of another size starts afresh (timm's rule)
    allow_change: tuple[str, ...] = ()  # settings --resume may find changed (e.g. lr after a diverged run)
    tensorboard: bool = False  # also write TensorBoard event files into the run folder
    recipe: Recipe = field(default_factory=Recipe)

    def validate(self) -> TrainConfig:
        for name in ("epochs", "batch_size", "eval_batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise TrainError(f"{{{name}}} must be >= 1, got {getattr(self, name)}", settings=True)
        if not 0 <= self.seed < 1 << 32:
            raise TrainError(f"{{seed}} must be in 0..{(1 << 32) - 1}, got {self.seed}", settings=True)
        unknown = [name for name in self.allow_change if name not in RESUME_FIELDS]
        if unknown:
            raise TrainError(
                f"{{allow_change}}: unknown setting {unknown[0]!r}{did_you_mean_hint(unknown[0])}; "
                f"settings: {', '.join(RESUME_FIELDS)}",
                settings=True,
            )
        if self.reset_head and not self.init:
            raise TrainError("{reset_head} applies to the weights of {init}; give both or neither", settings=True)
        if self.save_every < 0:
            raise TrainError(f"{{save_every}} must be >= 0, got {self.save_every}", settings=True)
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise TrainError(f"{{steps_per_epoch}} must be >= 1, got {self.steps_per_epoch}", settings=True)
        for name in ("gpus", "nproc"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise TrainError(f"{{{name}}} must be >= 1, got {getattr(self, name)}", settings=True)
        if self.nproc is not None and self.nproc > usable_cpus():
            raise TrainError(
                f"{{nproc}} {self.nproc} is more than the {usable_cpus()} CPUs this machine gives the process",
                hint=f"give {{nproc}} {usable_cpus()} or fewer",
                settings=True,
            )
        if self.gpus is not None and self.device == "cpu":
            raise TrainError(
                "{gpus} starts CUDA workers; use {nproc} N for CPU workers with {device} cpu", settings=True
            )
        if self.nproc is not None and self.gpus is not None and self.nproc != self.gpus:
            raise TrainError(
                f"{{nproc}} {self.nproc} and {{gpus}} {self.gpus} disagree; give one of them", settings=True
            )
        if self.tensorboard:
            from inceptcost.train.tensorboard import require_tensorboard

            require_tensorboard()
        self.recipe.validate()
        return self

    def run_dir(self, spec_name: str) -> Path:
        if self.out:
            return Path(self.out)
        return Path("reports") / "runs" / safe_folder_name(f"{spec_name}-{self.data.split(':')[0]}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["recipe"] = self.recipe.to_dict()
        return d


def safe_folder_name(text: str) -> str:
    """One path component from any text (a spec's name may hold '../', '/', NUL or 300 characters)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:100]
    return name or "run"


RUN_FILES = ("config.yaml", "metrics.csv", "summary.json", "checkpoint.pt")  # what a run writes in its folder

# Settings that must match for --resume to continue the same run exactly (recipe keys by their own names);
# `spec` is the spec file's content. Anything else (workers, device, logging, output) may change freely.
RUN_FIELDS = ("spec", "data", "epochs", "batch_size", "seed", "steps_per_epoch")
RESUME_FIELDS = RUN_FIELDS + tuple(f.name for f in dataclasses.fields(Recipe))


def resume_settings(config: TrainConfig, spec_sha256: str) -> dict:
    """What a checkpoint records and --resume compares: the spec's content hash and the settings above."""
    values = {k: getattr(config, k) for k in RUN_FIELDS if k != "spec"} | config.recipe.to_dict()
    return {"spec": spec_sha256, **values}


def resume_changes(old: dict, new: dict) -> list[str]:
    """The settings that differ, in order. Epochs count only where the schedule depends on them (cosine):
    with a step or constant schedule, training longer continues the same run."""
    changed = [k for k in RESUME_FIELDS if old.get(k) != new.get(k)]
    if "epochs" in changed and old.get("schedule") != "cosine" and new.get("schedule") != "cosine":
        changed.remove("epochs")
    return changed


def did_you_mean_hint(word: str) -> str:
    close = difflib.get_close_matches(word, RESUME_FIELDS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
