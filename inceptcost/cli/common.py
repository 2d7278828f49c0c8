"""What every command shares: the common arguments and options, the error handler, budget parsing."""

from __future__ import annotations

import os
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


def check_out(out: Path | None, *inputs: Path) -> None:
    """Before any work: `out` can be written and is none of the command's inputs (a report written over the
    spec it was made from would replace it)."""
    if out is None:
        return
    from ..errors import OutputError

    for path in inputs:
        try:
            same = os.path.samefile(out, path)
        except (OSError, ValueError):  # one of them does not exist
            same = False
        if same:
            raise OutputError("is an input of this command", file=str(out), hint="write the output to another file")
    if out.exists() and not out.is_file() and not out.is_dir():  # /dev/null, a pipe: written through
        return
    folder = out.parent
    if not folder.is_dir():
        raise OutputError("folder does not exist", file=str(folder), hint="create it first")
    if out.is_dir():
        raise OutputError("is a folder, not a file", file=str(out), hint="name a file inside it")
    if not os.access(folder, os.W_OK):
        raise OutputError("cannot write here (permission denied)", file=str(out), hint="choose a writable folder")


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
