"""A study plan (YAML): what to train, on what, how many seeds, and where the results go.

    name: clutter-32                 # shown in the report
    data: digits-clutter             # one data source for every run (the trainer's --data)
    epochs: 4
    batch_size: 64
    seeds: [0, 1, 2]                 # or a count: 3 -> 0, 1, 2
    device: cpu                      # cpu | cuda | auto; `gpus: N` trains each run on N GPUs (DDP)
    threads: 1                       # torch threads per CPU run and for the timed steps (default: torch's)
    recipe: {schedule: cosine}       # keys of the training recipe, over the paper's
    profile: cpu                     # device profile for the predicted time per image (optional)
    specs: [specs/a.yaml, specs/b.yaml]
    widths: {base: specs/a.yaml, values: [0.5, 0.75]}   # a width sweep of one spec (optional)

Paths are relative to the plan's folder. Every key is checked, with the line it is on, before any run starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InceptcostError, did_you_mean
from ..io import usable_cpus
from ..spec.yamlsafe import load_yaml

KEYS = (
    "name", "data", "epochs", "batch_size", "seeds", "device", "gpus", "threads", "recipe", "profile", "specs", "widths",
)  # fmt: skip
DEVICES = ("cpu", "cuda", "auto")
MAX_SEEDS = 100


class PlanError(InceptcostError):
    """A plan that cannot be run as written."""


@dataclass(frozen=True)
class Plan:
    file: Path
    name: str
    data: str
    epochs: int
    batch_size: int
    seeds: tuple[int, ...]
    specs: tuple[Path, ...]
    device: str = "auto"
    gpus: int | None = None
    threads: int | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None
    width_base: Path | None = None
    widths: tuple[float, ...] = ()
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # key -> its line in the plan file

    @property
    def folder(self) -> Path:
        return self.file.parent


class _PlanReader:
    """The checks of one plan's values, each error on the line of its key."""

    def __init__(self, path: Path, data: Any, shown: str) -> None:
        self.path, self.data, self.shown = path, data, shown

    def fail(self, key: str, message: str, hint: str | None = None) -> PlanError:
        line = self.data.line_of(key) if hasattr(self.data, "line_of") else None
        return PlanError(f"{key}: {message}", file=self.shown, line=line, hint=hint)

    def check_keys(self) -> None:
        """Every key known, the required ones there, and something to train."""
        data, shown = self.data, self.shown
        for key in data:
            if key not in KEYS:
                raise self.fail(str(key), "unknown key", did_you_mean(str(key), KEYS))
        for key in ("data", "epochs", "batch_size", "seeds"):
            if key not in data:
                raise PlanError(f"the plan has no '{key}'", file=shown, hint="see `inceptcost study --help`")
        if "specs" not in data and "widths" not in data:
            raise PlanError("the plan names no specs", file=shown, hint="add specs: [...] or widths: {base, values}")

    def count(self, key: str, low: int = 1, high: int | None = None, why: str = "") -> int:
        v = self.data[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise self.fail(key, f"must be a whole number >= {low}, got {v!r}")
        if high is not None and v > high:
            raise self.fail(key, f"must be at most {high}{why}, got {v}", f"give {key}: {high} or fewer")
        return v

    def text(self, key: str) -> str:
        v = self.data[key]
        if not isinstance(v, str) or not v.strip():
            raise self.fail(key, f"must be text, got {v!r}")
        return v

    def spec_path(self, key: str, v: Any) -> Path:
        if not isinstance(v, str) or not v.strip():
            raise self.fail(key, f"a spec is a file path, got {v!r}")
        p = self.path.parent / v
        if not p.is_file():
            raise self.fail(key, f"no spec file {v!r} (paths are relative to the plan's folder)")
        return p

    def seeds(self) -> list[int]:
        """A count (0, 1, ... n-1) or a list of distinct seeds."""
        seeds = self.data["seeds"]
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            if not 1 <= seeds <= MAX_SEEDS:
                raise self.fail("seeds", f"a seed count is 1..{MAX_SEEDS}, got {seeds}")
            seeds = list(range(seeds))
        if (
            not isinstance(seeds, list)
            or not seeds
            or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 1 << 32 for s in seeds)
            or len(set(seeds)) != len(seeds)
        ):
            raise self.fail("seeds", f"must be a count or a list of distinct whole numbers >= 0, got {seeds!r}")
        return seeds

    def widths(self) -> tuple[Path | None, tuple[float, ...]]:
        """The width sweep's base spec and its widths, or (None, ()) without one."""
        if "widths" not in self.data:
            return None, ()
        w = self.data["widths"]
        if not isinstance(w, dict) or set(w) != {"base", "values"}:
            raise self.fail("widths", "must be {base: SPEC, values: [w, ...]}")
        values = w["values"]
        if (
            not isinstance(values, list)
            or not values
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 16 for v in values)
        ):
            raise self.fail("widths", f"values must be a list of widths in (0, 16], got {values!r}")
        return self.spec_path("widths", w["base"]), tuple(float(v) for v in values)

    def profile(self) -> str | None:
        """The device profile's name, loaded once here: before any run trains, not when the report is written."""
        profile = self.text("profile") if self.data.get("profile") is not None else None
        if profile is not None:
            from ..analyze.timing.profile import load_profile, resolve_profile

            try:
                load_profile(resolve_profile(profile))
            except InceptcostError as exc:
                raise self.fail("profile", f"{profile}: {exc.message}", exc.hint) from None
        return profile


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    data, shown = load_yaml(path, kind="plan", error=PlanError)
    if not isinstance(data, dict):
        raise PlanError("a plan is a mapping of keys (name, data, epochs, specs, ...)", file=shown)
    r = _PlanReader(path, data, shown)
    r.check_keys()
    seeds = r.seeds()
    specs = data.get("specs", [])
    if not isinstance(specs, list):
        raise r.fail("specs", "must be a list of spec files")
    device = data.get("device", "auto")
    if device not in DEVICES:
        raise r.fail("device", f"must be one of {', '.join(DEVICES)}, got {device!r}")
    recipe = data.get("recipe", {})
    if not isinstance(recipe, dict):
        raise r.fail("recipe", "must be a mapping of recipe keys, e.g. {schedule: cosine}")
    base, widths = r.widths()
    profile = r.profile()
    return Plan(
        file=path,
        name=r.text("name") if "name" in data else path.stem,
        data=r.text("data"),
        epochs=r.count("epochs"),
        batch_size=r.count("batch_size"),
        seeds=tuple(seeds),
        specs=tuple(r.spec_path("specs", s) for s in specs),
        device=device,
        gpus=r.count("gpus") if data.get("gpus") is not None else None,
        threads=r.count("threads", high=usable_cpus(), why=" (the CPUs this machine gives the study)")
        if data.get("threads") is not None
        else None,
        recipe=recipe,  # a LineMap: its keys keep their lines for the recipe's errors
        profile=profile,
        width_base=base,
        widths=widths,
        lines={str(k): data.line_of(k) for k in data} if hasattr(data, "line_of") else {},
    )


# a trainer's setting -> the plan key that gives it (the rest come from the plan's recipe)
PLAN_KEYS = {"data": "data", "epochs": "epochs", "batch_size": "batch_size", "seed": "seeds", "device": "device"}
PLAN_KEYS |= {"gpus": "gpus", "spec": "specs"}


def plan_error(plan: Plan, exc: InceptcostError) -> InceptcostError:
    """An error about a value the plan passed down to a run, as the plan's own: its file, the line of the key
    that gave the value, and the key's name where a flag would be named. Other errors are returned as they are."""
    from ..train.recipe import Recipe

    recipe_keys = {f.name for f in dataclasses.fields(Recipe)}
    names = exc.setting_names()
    if not names or not all(n in PLAN_KEYS or n in recipe_keys for n in names):
        return exc  # not (only) the plan's: a flag of the command, such as --out, spelled as the command line's
    key = PLAN_KEYS.get(names[0], "recipe")
    spell = lambda name: PLAN_KEYS.get(name, f"recipe.{name}")  # noqa: E731
    message = InceptcostError(exc.message, where=exc.where, settings=True).shown(spell)
    if exc.file:  # a run's own file (its folder, a checkpoint) stays named in the message
        message = f"{exc.file}{f':{exc.line}' if exc.line else ''}: {message}"
    hint = InceptcostError(exc.hint, settings=True).shown(spell) if exc.hint else None
    error = PlanError(message, file=str(plan.file), line=plan.lines.get(key), hint=hint)
    return error
