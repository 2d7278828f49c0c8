"""The compute budget: the spec's `budget: {macs: ...}` or an override given by the caller, and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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


def budget_verdict(macs: int, spec_limit: float | None, override: float | None = None) -> Budget:
    """The override wins over the spec's budget; no budget at all gives `within = None`."""
    if override is not None:
        return Budget(override, macs, "--budget")
    if spec_limit is not None:
        return Budget(spec_limit, macs, "spec")
    return Budget(None, macs, None)
