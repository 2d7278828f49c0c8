"""The one file writer: every command's output goes through `write_atomic`.

A temp file in the target's folder, fsync, then a rename: a reader (or a run killed mid-write) only ever sees
the old file or the new one. The new file gets the mode a plain open() would give it (the old file's mode, or
0666 less the umask), not mkstemp's 0600.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .errors import OutputError


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise OutputError(
                f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable file"
            ) from None
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


def emit(text: str, out: str | Path | None) -> None:
    """`text` to stdout (ending in one newline) or atomically to the file `out`."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(out, text)
