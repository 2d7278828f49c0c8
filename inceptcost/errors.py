"""Typed errors. Library code raises these; only the CLI turns them into one line and an exit code."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InceptcostError(Exception):
    """Base error: `file:line: where: message; hint` on one line."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        place = ""
        if self.file:
            place = f"{self.file}:{self.line}" if self.line else self.file
        parts = [p for p in (place, self.where) if p]
        text = ": ".join(parts + [self.message])
        if self.hint:
            text += f"; {self.hint}"
        return " ".join(text.split())  # always one line


class SpecError(InceptcostError):
    """A spec that cannot be read or is not valid (bad YAML, unknown key, wrong type or range)."""


class ShapeError(SpecError):
    """A valid-looking spec whose tensor shapes do not work out (spatial collapse, concat mismatch)."""


class CheckFailed(InceptcostError):
    """A verification that did not hold (over budget, a row off the paper) where the user asked for strictness."""

    exit_code = 1


class ToolMissing(InceptcostError):
    """An external program (graphviz `dot`) or optional package that this command needs is not installed."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing them when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"expected one of: {shown}"


class WeightsError(InceptcostError):
    """A weights file that cannot be loaded into a model: missing, corrupt, hostile, or not matching it."""


class ImportFailed(InceptcostError):
    """A torch model the importer cannot turn into a spec: untraceable, or an op the spec language lacks."""
