"""The training recipe: the paper's by default, modern options as fields, loadable from YAML."""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from pathlib import Path

from inceptcost.spec.yamlsafe import load_yaml
from inceptcost.train.errors import TrainError

SCHEDULES = ("step", "cosine", "constant")
FP32_MAX = 3.4028234663852886e38  # torch.finfo(torch.float32).max, without importing torch


@dataclass(frozen=True)
class Recipe:
    # Optimizer: the paper's "asynchronous SGD with 0.9 momentum"; it states no weight decay or base lr.
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    # Schedule: the paper's "decreasing the learning rate by 4% every 8 epochs" is step(0.96, 8).
    schedule: str = "step"
    step_epochs: float = 8.0
    step_gamma: float = 0.96
    warmup_epochs: float = 0.0
    min_lr_ratio: float = 0.0  # cosine floor, as a fraction of lr
    # Loss: aux_weight None takes the weight declared in the spec (0.3 in the paper).
    aux_weight: float | None = None
    label_smoothing: float = 0.0
    grad_clip: float | None = None  # max global grad norm; None = no clipping
    # Augmentation: "patches of 8%-100% of the image area, aspect ratio 3/4..4/3" + photometric distortion.
    crop_area: tuple[float, float] = (0.08, 1.0)
    crop_aspect: tuple[float, float] = (3 / 4, 4 / 3)
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.4
    hflip: bool = False  # off by default: digits are not mirror-symmetric; on for natural images
    augment: bool = True

    def validate(self) -> Recipe:
        """Every combination torch's SGD, schedulers and losses would refuse, refused here first; the error
        names the recipe keys at fault (`keys`), which recipe_from_dict turns into the file's line."""

        def bad(msg: str, *keys: str) -> TrainError:
            error = TrainError(f"recipe: {msg}")
            error.keys = keys
            return error

        for f in dataclasses.fields(self):  # NaN passes every comparison below, inf most: refuse both first
            value = getattr(self, f.name)
            for v in value if isinstance(value, tuple) else (value,):
                if isinstance(v, float) and not math.isfinite(v):
                    raise bad(f"{f.name} must be a finite number, got {v}", f.name)
                if isinstance(v, float) and abs(v) > FP32_MAX:  # torch turns lr, decay, clip into fp32 scalars
                    raise bad(f"{f.name} must be at most {FP32_MAX:.3g} (the largest fp32 number), got {v:g}", f.name)
        if not self.lr > 0:
            raise bad(f"lr must be a positive number, got {self.lr}", "lr")
        if not 0 <= self.momentum < 1:
            raise bad(f"momentum must be in [0, 1), got {self.momentum}", "momentum")
        if self.nesterov and self.momentum == 0:
            raise bad("nesterov needs a momentum above 0 (torch's SGD refuses it)", "nesterov", "momentum")
        if self.schedule not in SCHEDULES:
            hint = _did_you_mean(self.schedule, SCHEDULES)
            raise bad(f"unknown schedule {self.schedule!r}{hint}; choose one of {', '.join(SCHEDULES)}", "schedule")
        if self.step_epochs <= 0 or not 0 < self.step_gamma <= 1:
            raise bad("step schedule needs step_epochs > 0 and 0 < step_gamma <= 1", "step_epochs", "step_gamma")
        if self.weight_decay < 0 or self.warmup_epochs < 0:
            raise bad("weight_decay and warmup_epochs must be >= 0", "weight_decay", "warmup_epochs")
        if self.aux_weight is not None and self.aux_weight < 0:
            raise bad(f"aux_weight must be >= 0 (or null for the spec's weight), got {self.aux_weight}", "aux_weight")
        if not 0 <= self.min_lr_ratio <= 1:
            raise bad(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}", "min_lr_ratio")
        if not 0 <= self.label_smoothing < 1:
            raise bad(f"label_smoothing must be in [0, 1), got {self.label_smoothing}", "label_smoothing")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise bad(f"grad_clip must be > 0 (or null), got {self.grad_clip}", "grad_clip")
        lo, hi = self.crop_area
        if not 0 < lo <= hi <= 1:
            raise bad(f"crop_area must satisfy 0 < min <= max <= 1, got {list(self.crop_area)}", "crop_area")
        if not 0 < self.crop_aspect[0] <= self.crop_aspect[1]:
            raise bad(f"crop_aspect must satisfy 0 < min <= max, got {list(self.crop_aspect)}", "crop_aspect")
        for name in ("brightness", "contrast", "saturation"):
            if not 0 <= getattr(self, name) < 1:
                raise bad(f"{name} must be in [0, 1), got {getattr(self, name)}", name)
        return self

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def recipe_from_dict(data: dict, source: str = "recipe", base: Recipe | None = None, file: str | None = None) -> Recipe:
    """Overlay `data` on `base` (the paper's recipe by default); unknown keys are errors. With `file` (the
    recipe or plan it was read from) every error names that file and the line of the key at fault."""
    base = base or Recipe()
    names = {f.name: f for f in dataclasses.fields(Recipe)}

    def line(key: object = None) -> int | None:
        if file is None:
            return None
        if key is not None and hasattr(data, "line_of"):
            return data.line_of(key)
        return getattr(data, "line", None)

    def fail(message: str, key: object) -> TrainError:
        return TrainError(message, file=file, line=line(key))

    values = {}
    for key, value in data.items():
        if key not in names:
            raise fail(f"unknown key {key!r} in {source}{_did_you_mean(str(key), names)}", key)
        if key in ("crop_area", "crop_aspect"):
            if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_is_number, value))):
                raise fail(f"{key} in {source} must be a list of two numbers, got {value!r}", key)
            try:
                value = (float(value[0]), float(value[1]))
            except OverflowError:  # an int beyond a float's range
                raise fail(f"{key} in {source} is too large, got {value!r}", key) from None
        elif value is not None and names[key].type in ("float", "float | None"):
            given = value
            if isinstance(value, str):  # YAML 1.1 reads `1e-4` (no dot) as a string
                value = _number_or_none(value)
            if not _is_number(value):
                raise fail(f"{key} in {source} must be a number, got {given!r}", key)
            try:
                value = float(value)
            except OverflowError:  # an int beyond a float's range
                raise fail(f"{key} in {source} is too large, got {given!r}", key) from None
        elif names[key].type == "bool" and not isinstance(value, bool):
            raise fail(f"{key} in {source} must be true or false, got {value!r}", key)
        elif names[key].type == "str" and not isinstance(value, str):
            raise fail(f"{key} in {source} must be a string, got {value!r}", key)
        values[key] = value
    try:
        return dataclasses.replace(base, **values).validate()
    except TrainError as exc:
        if file is not None and exc.file is None:  # the first key at fault that this file sets, else its start
            keys = [k for k in getattr(exc, "keys", ()) if k in data]
            exc.file, exc.line = file, line(keys[0] if keys else None)
        raise


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def load_recipe(path: str | Path, base: Recipe | None = None) -> Recipe:
    """Read a YAML recipe with the spec loader's hardening (size, aliases, tags, duplicate keys, FIFOs)."""
    data, shown = load_yaml(path, kind="recipe", error=TrainError)
    if not isinstance(data, dict):
        raise TrainError(
            f"must be a mapping of recipe keys, got {'a list' if isinstance(data, list) else repr(data)[:40]}",
            file=shown,
            hint="write one 'key: value' per line, e.g. 'lr: 0.1'",
        )
    return recipe_from_dict(data, source="the recipe", base=base, file=shown)


def lr_factor(recipe: Recipe, step: int, steps_per_epoch: int, total_epochs: int) -> float:
    """Multiplier of recipe.lr at optimizer step `step` (0-based); drives a LambdaLR."""
    epoch = step / max(1, steps_per_epoch)
    if recipe.warmup_epochs > 0 and epoch < recipe.warmup_epochs:
        return (step + 1) / (recipe.warmup_epochs * steps_per_epoch)
    if recipe.schedule == "step":
        # Epoch granularity, as in the paper: the drop lands at whole multiples of step_epochs.
        return recipe.step_gamma ** math.floor((epoch + 1e-9) // recipe.step_epochs)
    if recipe.schedule == "cosine":
        span = max(1e-9, total_epochs - recipe.warmup_epochs)
        t = min(1.0, max(0.0, (epoch - recipe.warmup_epochs) / span))
        floor = recipe.min_lr_ratio
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))
    return 1.0
