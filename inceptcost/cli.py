"""The `inceptcost` command: thin typer commands over the library. Rich is used here only.

Exit codes: 0 ok; 1 a check failed (with --strict); 2 bad input or a missing tool.
Commands that need torch import it inside the command, so `analyze` never pays for it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .errors import InceptcostError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Static analysis, cost modeling and training of Inception-style CNNs declared in YAML.",
)

DEFAULT_SPEC = Path("specs/googlenet.yaml")
SpecArg = Annotated[Path, typer.Argument(help="YAML spec", show_default=True)]


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"inceptcost {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")
    ] = False,
) -> None:
    """Static analysis, cost modeling and training of Inception-style CNNs declared in YAML."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into one line on stderr and the error's exit code; never a traceback."""
    try:
        yield
    except InceptcostError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write to a temp file beside `path`, then rename: a reader never sees a half-written file."""
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise InceptcostError("folder does not exist", file=str(path.parent), hint="create it first")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as exc:
        raise InceptcostError(
            f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable folder"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(out, text)


class Format(str, Enum):
    table = "table"
    json = "json"


def _console():
    from rich.console import Console

    # Table 1 is wide: when piped (no terminal width to respect), do not squeeze it into 80 columns.
    return Console(width=None if sys.stdout.isatty() else 160)


def _render_table(records: list[dict], title: str):
    from rich.table import Table

    from .quantities import human
    from .spec import TABLE_COLUMNS

    headers = ["#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj"]
    table = Table(title=title, title_justify="left", header_style="bold")
    for head in ("layer", "type", "patch/stride", "output", "depth", *headers):
        table.add_column(head, justify="right" if head.startswith("#") or head in ("depth", "pool proj") else "left")
    for head in ("weights", "paper", "MACs", "paper ops"):
        table.add_column(head, justify="right")
    for r in records:
        table.add_row(
            r["name"],
            r["type"],
            r["patch"],
            r["output"],
            str(r["depth"] or ""),
            *("" if r[c] is None else str(r[c]) for c in TABLE_COLUMNS),
            human(r["weights"], 1024) if r["weights"] else "",
            r["paper_text"].get("params", ""),
            human(r["macs"]) if r["macs"] else "",
            r["paper_text"].get("ops", ""),
        )
    return table


@app.command()
def analyze(
    spec: SpecArg = DEFAULT_SPEC,
    format: Annotated[Format, typer.Option("--format", "-f", help="output format")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file instead of stdout")] = None,
) -> None:
    """Per-row params and multiply-adds in Table 1's layout, with totals and the budget verdict."""
    from . import compile_graph, load_spec
    from .analyze.costs import summarize
    from .analyze.table import table_records
    from .quantities import human

    with user_errors():
        graph = compile_graph(load_spec(spec))
        totals = summarize(graph)
        records = table_records(graph)
        if format is Format.json:
            emit(json.dumps({"spec": str(spec), "totals": totals, "layers": records}, indent=2), out)
            return
        console = _console()
        console.print(_render_table(records, f"{totals['spec']} ({spec}): Table 1 recomputed"))
        verdict = ""
        if totals["budget_macs"]:
            ok = "within" if totals["within_budget"] else "OVER"
            verdict = f" · budget {human(totals['budget_macs'])}: {ok}"
        console.print(
            f"params {totals['params']:,} (weights only, the paper's convention: {totals['weights']:,})"
            f" · MACs {totals['macs']:,} ({human(totals['macs'])}; FLOPs = 2 x MACs){verdict}"
        )
        if totals["params_aux"]:
            console.print(f"aux heads (training only): params {totals['params_aux']:,} · MACs {totals['macs_aux']:,}")


def main() -> None:
    app()
