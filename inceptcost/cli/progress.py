"""Progress Events (training, benchmarking) shown on the terminal: a transient bar on stderr, only when stderr is
a terminal; the lines meant to stay (epoch results, messages) go to stdout."""

from __future__ import annotations

import sys

from ..progress import Event


def wanted(quiet: bool) -> bool:
    """A bar is drawn when stderr is a terminal and --quiet was not given."""
    return not quiet and sys.stderr.isatty()


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class TerminalProgress:
    """Callable with Events: the phase's line, its steps done of total, and the latest loss, images/s and time
    left. A new phase is drawn at once (a short phase is seen too); steps at rich's refresh rate."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(stderr=True),
            transient=True,
            redirect_stdout=sys.stdout.isatty(),  # a redirected stdout gets its own lines only
            redirect_stderr=False,
        )
        self.progress.start()
        self.task = None
        self.shown: tuple[str, str] = ("", "")
        self.values: dict = {}

    def __call__(self, event: Event) -> None:
        if event.phase in ("epoch done", "message"):
            print(event.text, flush=True)
            return
        if (event.phase, event.text) == self.shown:
            self.values.update(event.values)
            self.progress.update(self.task, total=event.total, completed=event.done or 0, info=self._info())
            if "loss" in event.values or event.done == event.total:  # a log step, a phase's end: drawn at once
                self.progress.refresh()
            return
        # a new phase: a task of its own (no total: a pulsing bar), drawn at once
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.shown, self.values = (event.phase, event.text), dict(event.values)
        self.task = self.progress.add_task(event.text, total=event.total, completed=event.done or 0, info=self._info())
        self.progress.refresh()

    def _info(self) -> str:
        v = self.values
        parts = []
        if "loss" in v:
            parts.append(f"loss {v['loss']:.4f}")
        if "images_per_s" in v:
            parts.append(f"{v['images_per_s']:,.0f} img/s")
        if "ms_per_step" in v:
            parts.append(f"{v['ms_per_step']:.2f} ms/step")
        if "seconds_left" in v:
            run = v.get("run_seconds_left", v["seconds_left"])
            parts.append(
                f"{_clock(v['seconds_left'])} left" + (f" (run {_clock(run)})" if run > v["seconds_left"] else "")
            )
        return "  ".join(parts)

    def close(self) -> None:
        self.progress.stop()
