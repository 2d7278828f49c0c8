"""Progress reporting. The loop calls a Reporter on rank 0 only; this module has the plain-text one (for logs and
pipes) and the one that turns the calls into Events for a callback (the Python API's `progress=`; the command
line's terminal display reads the same events)."""

from __future__ import annotations

import sys
import time
from typing import Protocol

from inceptcost.progress import Event, Progress


class Reporter(Protocol):
    def phase(self, name: str, text: str = "") -> None: ...  # a long phase starts: loading data, building, ...
    def start_epoch(self, epoch: int, epochs: int, steps: int, first_step: int) -> None: ...
    def tick(self, step: int) -> None: ...  # every step, without a host sync
    def step(self, step: int, loss: float, images_per_s: float, lr: float) -> None: ...
    def end_epoch(self, row: dict) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class NullReporter:
    """What every rank but 0 gets: only rank 0 reports."""

    def phase(self, name, text=""):
        return None

    def start_epoch(self, epoch, epochs, steps, first_step):
        return None

    def tick(self, step):
        return None

    def step(self, step, loss, images_per_s, lr):
        return None

    def end_epoch(self, row):
        return None

    def message(self, text):
        return None

    def close(self):
        return None


class PlainReporter(NullReporter):
    """One line per epoch (and per log interval with verbose=True), flushed at once."""

    def __init__(self, stream=None, verbose: bool = False):
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self.epochs = 0
        self.steps = 0

    def start_epoch(self, epoch, epochs, steps, first_step):
        self.epochs, self.steps = epochs, steps

    def step(self, step, loss, images_per_s, lr):
        if self.verbose:
            self.message(f"  step {step}/{self.steps}  loss {loss:.4f}  lr {lr:.4g}  {images_per_s:,.0f} img/s")

    def end_epoch(self, row):
        self.message(format_epoch(row, self.epochs))

    def message(self, text):
        print(text, file=self.stream, flush=True)


class EventReporter(NullReporter):
    """The loop's calls as Events for `progress`, with the time left in the epoch and in the run (from the steps
    so far in this epoch; evaluation not counted). `progress` must be picklable to cross to a spawned worker."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.epoch = self.epochs = self.steps = self.first = 0
        self.t0 = time.perf_counter()

    def phase(self, name, text=""):
        self.progress(Event(name, text or name))

    def start_epoch(self, epoch, epochs, steps, first_step):
        self.epoch, self.epochs, self.steps, self.first = epoch, epochs, steps, first_step
        self.t0 = time.perf_counter()
        self._emit(first_step, {})

    def tick(self, step):
        self._emit(step, {})

    def step(self, step, loss, images_per_s, lr):
        self._emit(step, {"loss": loss, "images_per_s": images_per_s, "lr": lr})

    def _emit(self, step: int, values: dict) -> None:
        values = {"epoch": self.epoch + 1, "epochs": self.epochs, **values}
        if step > self.first:
            per_step = (time.perf_counter() - self.t0) / (step - self.first)
            values["seconds_left"] = per_step * (self.steps - step)
            values["run_seconds_left"] = values["seconds_left"] + per_step * self.steps * (self.epochs - self.epoch - 1)
        self.progress(Event("epoch", f"epoch {self.epoch + 1}/{self.epochs}", step, self.steps, values))

    def end_epoch(self, row):
        self.progress(Event("epoch done", format_epoch(row, self.epochs), values=dict(row)))

    def message(self, text):
        self.progress(Event("message", text))

    def close(self):
        getattr(self.progress, "close", lambda: None)()  # a display that draws on the terminal is stopped


def format_epoch(row: dict, epochs: int) -> str:
    return (
        f"epoch {row['epoch'] + 1}/{epochs}  lr {row['lr']:.4g}  train loss {row['train_loss']:.4f} "
        f"top-1 {row['train_top1']:.2f}%  val loss {row['val_loss']:.4f} top-1 {row['val_top1']:.2f}% "
        f"top-5 {row['val_top5']:.2f}%  {row['images_per_s']:,.0f} img/s  {row['epoch_seconds']:.1f} s"
    )


def default_reporter() -> Reporter:
    return PlainReporter()
