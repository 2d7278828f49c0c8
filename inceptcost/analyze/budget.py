"""The compute budget: the spec's `budget: {macs: ...}` or a `--budget 1.2G` override, and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InceptcostError
from ..quantities import parse_count


@dataclass(frozen=True)
class Budget:
    limit_macs: float | None  # multiply-adds per image at inference; None: no budget given
    macs: int
    source: str | None  # "spec", "--budget" or None

    @property
    def within(self) -> bool | None:
        return None if self.limit_macs is None else self.macs <= self.limit_macs

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "within": self.within}


def parse_budget(text: str | None) -> float | None:
    """`1.2G` -> 1.2e9 multiply-adds (M = 10^6, G = 10^9); None stays None."""
    if text is None:
        return None
    try:
        value = parse_count(text)
    except ValueError as exc:
        raise InceptcostError(f"--budget: {exc}", hint="give multiply-adds like 1.5G or 800M") from None
    if value <= 0:
        raise InceptcostError(f"--budget must be positive, got {text!r}", hint="e.g. --budget 1.5G")
    return value


def budget_verdict(macs: int, spec_limit: float | None, override: float | None = None) -> Budget:
    """The override wins over the spec's budget; no budget at all gives `within = None`."""
    if override is not None:
        return Budget(override, macs, "--budget")
    if spec_limit is not None:
        return Budget(spec_limit, macs, "spec")
    return Budget(None, macs, None)
