"""What every command shares: the common arguments and options, the error handler, budget parsing."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InceptcostError

DEFAULT_SPEC = Path("googlenet")  # a shipped spec, found from any folder
SpecArg = Annotated[Path, typer.Argument(help="YAML spec file, or a shipped spec by name", show_default=True)]


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (terminal), json, csv or md")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="write to this file (atomically) instead of stdout")]
BudgetOpt = Annotated[
    str | None, typer.Option("--budget", help="MAC budget overriding the spec's, e.g. 1.2G (M = 10^6, G = 10^9)")
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="exit 1 when over budget or a row is off the paper")]
BatchOpt = Annotated[int, typer.Option("--batch", min=1, help="batch size for the memory estimates")]
DtypeOpt = Annotated[str, typer.Option("--dtype", help="activation dtype for the memory estimates: fp32, bf16, fp16")]


def check_out(out: Path | None, *inputs: Path | None, also: tuple[Path, ...] = ()) -> None:
    """Before any work: `out` (and the files `also` written beside it) can be written and none of them is one
    of the command's inputs (a report written over the spec it was made from would replace it)."""
    if out is None:
        return
    from ..errors import OutputError
    from ..io import refuse_inputs

    refuse_inputs((out, *also), inputs)
    if out.exists() and not out.is_file() and not out.is_dir():  # /dev/null, a pipe: written through
        return
    folder = out.parent
    if not folder.is_dir():
        raise OutputError("folder does not exist", file=str(folder), hint="create it first")
    if out.is_dir():
        raise OutputError("is a folder, not a file", file=str(out), hint="name a file inside it")
    if not os.access(folder, os.W_OK):
        raise OutputError("cannot write here (permission denied)", file=str(out), hint="choose a writable folder")


def check_out_dir(folder: Path, names: list[str], *inputs: Path | None) -> None:
    """Before any work: the files `names` that a command writes into `folder` are none of its inputs."""
    from ..io import refuse_inputs

    refuse_inputs([folder / name for name in names], inputs)


def spec_input(spec: Path) -> Path:
    """The file a spec argument reads: the path itself, or the shipped spec of that name. A name no file can
    have (too long, a NUL) is returned as it is: loading it gives the error that names it."""
    from ..spec.shipped import shipped_dir

    try:
        if spec.exists():
            return spec
        shipped = shipped_dir() / f"{spec.name}.yaml"
        return shipped if shipped.is_file() else spec
    except (OSError, ValueError):
        return spec


DEBUG = "INCEPTCOST_DEBUG"  # set (to anything) for the detail an error keeps beside its line


def flag(setting: str) -> str:
    """A library argument's name as its command-line flag: batch_size -> --batch-size."""
    return "--" + setting.replace("_", "-")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into one line on stderr and the error's exit code; never a traceback. An optional
    package (torch, matplotlib, onnx...) that the command needs and does not find is one line naming the extra
    that installs it, whichever module imported it."""
    try:
        yield
    except InceptcostError as exc:
        if exc.detail and os.environ.get(DEBUG):
            typer.echo(exc.detail.rstrip("\n"), err=True)
        typer.echo(f"error: {exc.shown(flag)}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except ModuleNotFoundError as exc:
        from ..interop.extras import missing

        error = missing(exc, "this command")
        if error is None:
            raise
        typer.echo(f"error: {error.shown(flag)}", err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except (MemoryError, RuntimeError) as exc:  # the checks before allocating missed it: still one line
        text = out_of_memory(exc)
        if text is None:
            raise
        typer.echo(f"error: {text}", err=True)
        raise typer.Exit(2) from None


# what torch's allocators (CPU, CUDA, MPS) and Python say when memory runs out
_OOM_MARKS = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory")


def out_of_memory(exc: BaseException) -> str | None:
    """One line for an allocator's out-of-memory error (MemoryError, torch.OutOfMemoryError, the CPU allocator's
    RuntimeError); None for any other error."""
    from ..errors import printable

    message = str(exc)
    if not isinstance(exc, MemoryError) and not any(m in message.lower() for m in _OOM_MARKS):
        return None
    asked = re.search(r"tried to allocate ([0-9.]+ ?[KMGT]?i?B|[0-9]+ bytes)", message)
    what = f" (asked for {asked.group(1)})" if asked else ""
    return printable(
        f"out of memory{what}: the device or machine cannot hold this run; use a smaller batch, input or net"
        " (the `memory` command predicts what a setting needs)"
    )


def parse_budget(text: str | None) -> float | None:
    """`--budget 1.2G` -> 1.2e9 multiply-adds (M = 10^6, G = 10^9); not given stays None."""
    from ..errors import BadValue
    from ..quantities import parse_count

    if text is None:
        return None
    try:
        value = parse_count(text)
    except BadValue as exc:
        raise InceptcostError(f"--budget: {exc}", hint="give multiply-adds like 1.5G or 800M") from None
    if value <= 0:
        raise InceptcostError(f"--budget must be positive, got {text!r}", hint="e.g. --budget 1.5G")
    return value
