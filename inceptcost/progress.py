"""Progress of the long phases (training, benchmarking) as events, for a callback: the Python API's `progress=`
and the command line's terminal display both read them. Nothing here imports torch or rich."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """One report. `phase` says what runs: "loading data", "building", "compiling", "epoch" (`done` of `total`
    steps, `values`: epoch, epochs, and at log steps loss, images_per_s, lr, seconds_left, run_seconds_left),
    "evaluating", "epoch done" (`values`: the metrics row), "warming up" and "timing" (`done` of `total` steps or
    repeats), "message" (a line for the user). `text` is the line to show."""

    phase: str
    text: str = ""
    done: int | None = None
    total: int | None = None
    values: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[Event], object]
