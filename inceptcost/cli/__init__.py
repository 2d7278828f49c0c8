"""The `inceptcost` command: the typer app and its thin commands, one module per group of commands.

Exit codes: 0 ok; 1 a check failed (with --strict); 2 bad input or a missing tool.
A command imports what it needs inside its function, so `analyze` never pays for torch.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import analysis, drawing, measuring, scaling, timing, training

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


app.command()(analysis.analyze)
app.command()(analysis.verify)
app.command()(analysis.compare)
app.command()(analysis.memory)
app.command()(drawing.diagram)
app.command("specs")(analysis.specs_index)
app.command()(training.train)
app.command()(measuring.bench)
app.command()(measuring.tradeoff)
app.command()(scaling.sweep)
app.command()(scaling.fit)
app.command()(timing.predict)
app.command()(timing.calibrate)


def main() -> None:
    app()
