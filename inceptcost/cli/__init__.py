"""The `inceptcost` command: the typer app and its thin commands, one module per group of commands.

Exit codes: 0 ok; 1 a check failed (with --strict); 2 bad input or a missing tool.
A command imports what it needs inside its function, so `analyze` never pays for torch.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Annotated

import typer

from . import analysis, drawing, interop, measuring, scaling, studying, timing, training

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Static analysis, cost modeling and training of Inception-style CNNs declared in YAML.",
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"inceptcost {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")
    ] = False,
) -> None:
    """Static analysis, cost modeling and training of Inception-style CNNs declared in YAML."""
    _safe_streams()


def _safe_streams() -> None:
    """Output never fails on a character: an undecodable file name or a symbol that the terminal's encoding
    lacks (PYTHONIOENCODING=ascii) is written as a backslash escape. Output to a closed stdout is an error."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    if sys.stdout is None:
        sys.stdout = _Closed()
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


class _Closed(io.TextIOBase):
    """Stands for a stdout that the shell closed (`>&-`): a command that prints fails in one line (see main)."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


app.command()(analysis.analyze)
app.command()(analysis.verify)
app.command()(analysis.compare)
app.command()(analysis.memory)
app.command()(drawing.diagram)
app.command("specs")(analysis.specs_index)
app.command()(training.train)
app.command()(measuring.bench)
app.command()(measuring.tradeoff)
app.command()(studying.study)
app.command()(scaling.sweep)
app.command()(scaling.fit)
app.command()(timing.predict)
app.command()(timing.calibrate)
app.command("import")(interop.import_cmd)
app.command("export")(interop.export_cmd)


def main() -> None:
    try:
        try:
            app()
        finally:
            sys.stdout.flush()
    except OSError as exc:  # stdout on a full disk or a closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # what is still buffered goes nowhere, without a second error
        sys.stderr.write(f"error: cannot write the output ({exc.strerror}); write it to a file with --out\n")
        raise SystemExit(2) from None
