"""Reading a user's file without surprises: regular files only (a FIFO never blocks), bounded in size."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InceptcostError
from .quantities import format_bytes


def read_regular(
    path: str | Path, *, limit: int, what: str = "file", error: type[InceptcostError] = InceptcostError
) -> bytes:
    """The bytes of `path`, at most `limit` of them; anything else is one `error` naming the file.

    The file is opened non-blocking and checked with fstat on the open descriptor, so a FIFO (which would
    block until a writer appears), a device or a socket is refused, even if it replaced the file after a look.
    """
    shown = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error("no such file", file=shown, hint="check the path") from None
    except IsADirectoryError:
        raise error(f"is a directory, not a {what} file", file=shown, hint=f"pass the {what} file itself") from None
    except PermissionError:
        raise error("permission denied", file=shown, hint="make the file readable") from None
    except ValueError:  # a NUL byte in the name
        raise error("not a valid file name", file=repr(shown), hint=f"pass a {what} file") from None
    except OSError as exc:
        raise error(f"cannot open ({exc.strerror})", file=shown, hint=f"pass a readable {what} file") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"is a directory, not a {what} file", file=shown, hint=f"pass the {what} file itself")
        if not stat.S_ISREG(mode):
            raise error(
                "is not a regular file (a FIFO, device or socket)", file=shown, hint=f"pass a {what} file on disk"
            )
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"cannot read ({exc.strerror})", file=shown, hint=f"pass a readable {what} file") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise error(f"file is larger than {format_bytes(limit, 6)}", file=shown, hint=f"a {what} file is far smaller")
    return data
