"""Progress reporting. The loop calls a Reporter on rank 0 only; this module has the plain-text one
(for logs and pipes). The rich one lives with the CLI, where rich is allowed."""

from __future__ import annotations

import sys
from typing import Protocol


class Reporter(Protocol):
    def start_epoch(self, epoch: int, epochs: int, steps: int, first_step: int) -> None: ...
    def step(self, step: int, loss: float, images_per_s: float, lr: float) -> None: ...
    def end_epoch(self, row: dict) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class NullReporter:
    """What every rank but 0 gets: only rank 0 reports."""

    def start_epoch(self, epoch, epochs, steps, first_step):
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


def format_epoch(row: dict, epochs: int) -> str:
    return (
        f"epoch {row['epoch'] + 1}/{epochs}  lr {row['lr']:.4g}  train loss {row['train_loss']:.4f} "
        f"top-1 {row['train_top1']:.2f}%  val loss {row['val_loss']:.4f} top-1 {row['val_top1']:.2f}% "
        f"top-5 {row['val_top5']:.2f}%  {row['images_per_s']:,.0f} img/s  {row['epoch_seconds']:.1f} s"
    )


def default_reporter() -> Reporter:
    return PlainReporter()
