"""The `inceptcost` command: the typer app and its thin commands, one module per group of commands.

Exit codes: 0 ok; 1 a check failed (with --strict); 2 bad input or a missing tool.
A command imports what it needs inside its function, so `analyze` never pays for torch; and `main` builds the
app with the one command named on the command line, so that a command's process imports that command's module
only (typer reads every registered command's signature at start).
"""

from __future__ import annotations

import errno
import importlib
import io
import os
import sys
from typing import Annotated

import typer

# command -> (module of this package, function), in the order `--help` lists them
COMMANDS = {
    "analyze": ("analysis", "analyze"),
    "verify": ("analysis", "verify"),
    "compare": ("analysis", "compare"),
    "memory": ("analysis", "memory"),
    "diagram": ("drawing", "diagram"),
    "specs": ("analysis", "specs_index"),
    "train": ("training", "train"),
    "bench": ("measuring", "bench"),
    "tradeoff": ("measuring", "tradeoff"),
    "study": ("studying", "study"),
    "sweep": ("scaling", "sweep"),
    "fit": ("scaling", "fit"),
    "predict": ("timing", "predict"),
    "calibrate": ("timing", "calibrate"),
    "import": ("interop", "import_cmd"),
    "export": ("interop", "export_cmd"),
}


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"inceptcost {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")
    ] = False,
) -> None:
    """Static analysis, cost modeling and training of Inception-style CNNs declared in YAML."""
    _safe_streams()


def _safe_streams() -> None:
    """Output never fails on a character: an undecodable byte of a file name (`caf\\xe9`) or a symbol that the
    terminal's encoding lacks (PYTHONIOENCODING=ascii) is written as a backslash escape. Output to a closed
    stdout is an error."""
    from .. import errors  # noqa: F401 (registers the error handler `inceptcost-escape`)

    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    if sys.stdout is None:
        sys.stdout = _Closed()
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="inceptcost-escape")


class _Closed(io.TextIOBase):
    """Stands for a stdout that the shell closed (`>&-`): a command that prints fails in one line (see main)."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def _flags_take_no_value() -> None:
    """`--help` shows no `<bool>` after a flag (`--strict`, `--amp/--no-amp`, `--help` itself) nor `<int>` after a
    counter: they take no value. typer 0.29 prints the value type of every option; an option that takes a value
    keeps it."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "flags_take_no_value", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag or self.count else shown(self, ctx)

    display_type_rich.flags_take_no_value = True
    TyperOption.display_type_rich = display_type_rich


def build_app(only: str | None = None) -> typer.Typer:
    """The app with every command, or with the command `only` alone (its help and errors are the same)."""
    _flags_take_no_value()
    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        help="Static analysis, cost modeling and training of Inception-style CNNs declared in YAML.",
    )
    app.callback()(root)
    for name, (module, function) in COMMANDS.items():
        if only in (None, name):
            app.command(name)(getattr(importlib.import_module(f"{__name__}.{module}"), function))
    return app


def __getattr__(name: str) -> typer.Typer:
    """`app`: the app with every command (what tests and other programs import), built on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = globals()["app"] = build_app()
    return app


def main() -> None:
    try:
        try:
            command = sys.argv[1] if len(sys.argv) > 1 else None
            build_app(command if command in COMMANDS else None)()
        finally:
            sys.stdout.flush()
    except ModuleNotFoundError as exc:  # an optional package imported before a command's error handler ran
        from ..interop.extras import missing

        error = missing(exc, "this command")
        if error is None:
            raise
        sys.stderr.write(f"error: {error}\n")
        raise SystemExit(error.exit_code) from None
    except OSError as exc:  # stdout on a full disk or a closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # what is still buffered goes nowhere, without a second error
        sys.stderr.write(f"error: cannot write the output ({exc.strerror}); write it to a file with --out\n")
        raise SystemExit(2) from None
