"""Typed errors of the trainer; the CLI prints them as one line and exits 2."""

from __future__ import annotations

from inceptcost.errors import InceptcostError


class TrainError(InceptcostError):
    """Bad training input (data, recipe, device request) or a run that had to stop."""


class CheckpointError(TrainError):
    """A checkpoint that cannot be read: missing, truncated, corrupted or from another run."""


class DivergedError(TrainError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class Interrupted(TrainError):
    """Ctrl-C (or SIGTERM): the workers stopped together at a step boundary and saved a checkpoint."""

    exit_code = 130
