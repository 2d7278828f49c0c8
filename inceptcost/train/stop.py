"""Stopping a run cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading


class StopOnSignal:
    """Ctrl-C and SIGTERM ask the trainer to stop at the next step boundary, where it saves a checkpoint (a
    checkpoint taken there resumes exactly). A second Ctrl-C stops at once. In a terminal every worker gets
    the Ctrl-C, and the launcher passes it on too: all of them only set this flag."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
