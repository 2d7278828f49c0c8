"""The one file writer: every command's output goes through `write_atomic`.

A temp file in the target's folder, fsync, then a rename: a reader (or a run killed mid-write) only ever sees
the old file or the new one. The new file gets the mode a plain open() would give it (the old file's mode, or
0666 less the umask), not mkstemp's 0600.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import OutputError


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def usable_cpus() -> int:
    """The CPUs this process may run on: the bound of every thread or worker count a user asks for (more threads
    than cores only slow a run down, and thousands fail to start)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether `a` and `b` are one file: the same path spelled another way, a symlink to it or a hard link."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one of them does not exist, or a NUL in a name
        return False


def refuse_inputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path | None]) -> None:
    """Before any work: no file a command will write is one of the files it reads (a report written over the
    spec it was made from, or a folder's summary written over the run it summarizes, would replace it)."""
    read = [Path(p) for p in inputs if p is not None]
    for out in outputs:
        for path in read:
            if same_file(out, path):
                also = "" if str(out) == str(path) else f" ({path})"
                raise OutputError(
                    f"is an input of this command{also}", file=str(out), hint="write the output to another file"
                )


def write_atomic(path: str | Path, data: str | bytes, *, parents: bool = False) -> None:
    """Write `data` to `path` atomically; `parents` creates missing folders (a run folder), else it is an error."""
    path = Path(path)
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path.parent and not path.parent.is_dir():
        raise OutputError("folder does not exist", file=str(path.parent), hint="create it first")
    if path.is_dir():
        raise OutputError("is a folder, not a file", file=str(path), hint="name a file inside it")
    # a file name's undecodable bytes (in a report's title, a header) as escapes, not a UnicodeEncodeError
    data = data.encode("utf-8", "inceptcost-escape") if isinstance(data, str) else data
    if path.exists() and not path.is_file():  # /dev/null, a pipe: write through; a rename would replace it
        _write_through(path, data)
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as exc:
        raise OutputError(
            f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable folder"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except OSError as exc:  # disk full, a read-only target
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(
            f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable file"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_through(path: Path, data: bytes) -> None:
    """Write into a device or a FIFO that a reader holds open; opened non-blocking, so a FIFO that nobody
    reads (or a socket) is refused at once instead of waiting forever."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO with no reader, or a socket
            raise OutputError(
                "is a FIFO or socket that nothing reads", file=str(path), hint="write to a regular file"
            ) from None
        raise OutputError(
            f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable file"
        ) from None
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise OutputError(
            f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable file"
        ) from None


def emit(text: str, out: str | Path | None) -> None:
    """`text` to stdout (ending in one newline) or atomically to the file `out`."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(out, text)
