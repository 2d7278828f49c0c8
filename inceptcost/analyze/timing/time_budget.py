"""Time budgets for `sweep` and `fit`: predicted step time of width-scaled variants. No torch.

Time grows with the width (more MACs and more bytes per layer, the same layers), so the widest variant within
a time budget is found by binary search over the grid, as for a MAC budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...errors import BadValue, CheckFailed, InceptcostError
from ...graph.compile import compile_graph
from ...quantities import OutOfRange, parse_ms
from ...spec import Spec
from ..costs.sweep import scale_spec
from .predict import predict
from .profile import Profile


def parse_duration(text: str) -> float:
    """'4ms' -> 4.0, '0.5s' -> 500.0, '250us' -> 0.25 (milliseconds)."""
    try:
        return parse_ms(text)
    except OutOfRange:  # 1e400 or 400 nines read as inf; 1e-320 as a denormal nothing fits in
        raise InceptcostError(
            f"--time {text[:40]!r} is out of range", hint="give a step time from 1us to 1000000s, like 4ms"
        ) from None
    except BadValue:
        raise InceptcostError(
            f"--time: cannot read {text!r} as a time", hint="write it like 4ms, 0.5s or 250us"
        ) from None


@dataclass(frozen=True)
class TimeRun:
    """What a predicted step is: the profile, batch, dtype and mode."""

    profile: Profile
    batch: int
    dtype: str = "fp32"
    mode: str = "train"

    def step_ms(self, spec: Spec) -> float:
        return predict(compile_graph(spec), self.profile, self.batch, self.dtype, self.mode).step_ms

    def describe(self) -> str:
        return (
            f"{self.mode} step, batch {self.batch}, {self.dtype}, profile {self.profile.name} ({self.profile.source})"
        )


def predicted_ms(spec: Spec, widths: list[float], run: TimeRun) -> list[float]:
    return [run.step_ms(scale_spec(spec, w)) for w in widths]


def fit_time(spec: Spec, limit_ms: float, widths: list[float], run: TimeRun) -> tuple[dict[str, Any], Spec]:
    """The widest grid width whose predicted step time is within `limit_ms`; (record, fitted spec)."""
    widths = sorted(widths)
    cache: dict[int, float] = {}

    def at(i: int) -> float:
        if i not in cache:
            cache[i] = run.step_ms(scale_spec(spec, widths[i]))
        return cache[i]

    if at(0) > limit_ms:
        raise CheckFailed(
            f"even the narrowest width {widths[0]:g} is predicted at {at(0):.3g} ms, over the budget {limit_ms:g} ms",
            file=spec.file,
            hint="lower the grid's start (--width), the batch, or raise --time",
        )
    lo, hi = 0, len(widths) - 1
    if at(hi) <= limit_ms:
        lo = hi
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if at(mid) <= limit_ms:
                lo = mid
            else:
                hi = mid
    nxt = lo + 1 if lo + 1 < len(widths) else None
    fitted = scale_spec(spec, widths[lo])
    record = {
        "width": widths[lo],
        "predicted_ms": at(lo),
        "budget_ms": limit_ms,
        "next_width": widths[nxt] if nxt is not None else None,
        "next_ms": at(nxt) if nxt is not None else None,
        "run": run.describe(),
    }
    return record, replace(fitted, budget_macs=None)
