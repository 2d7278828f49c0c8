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


# --- train ---------------------------------------------------------------------------------------------------


class RichReporter:
    """Progress bar on rank 0 when stdout is a terminal: epoch, step, loss, images/s, ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[rate]} img/s"),
            TimeRemainingColumn(), console=self.console, transient=True,
        )
        self.progress.start()
        self.task = None
        self.epochs = 0

    def start_epoch(self, epoch: int, epochs: int, steps: int, first_step: int) -> None:
        self.epochs = epochs
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(f"epoch {epoch + 1}/{epochs}", total=steps, completed=first_step,
                                           loss="-", rate="-")

    def step(self, step: int, loss: float, images_per_s: float, lr: float) -> None:
        self.progress.update(self.task, completed=step, loss=f"{loss:.4f}", rate=f"{images_per_s:,.0f}")

    def end_epoch(self, row: dict) -> None:
        from .train.progress import format_epoch

        self.progress.console.print(format_epoch(row, self.epochs))

    def message(self, text: str) -> None:
        self.progress.console.print(text)

    def close(self) -> None:
        self.progress.stop()


def train_reporter():
    """Made in the rank-0 worker (a module-level function, so it crosses the spawn by name)."""
    if sys.stdout.isatty():
        return RichReporter()
    from .train.progress import PlainReporter

    return PlainReporter()


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Schedule(str, Enum):
    step = "step"
    cosine = "cosine"
    constant = "constant"


@app.command()
def train(
    spec: Annotated[Path, typer.Argument(help="YAML spec")] = Path("specs/variant.yaml"),
    data: Annotated[str, typer.Option(help="digits | digits-clutter | synthetic[:N] | imagefolder:PATH | "
                                           "cifar10:PATH")] = "digits",
    epochs: Annotated[int, typer.Option(help="epochs to train (in total, counting resumed ones)")] = 10,
    batch_size: Annotated[int, typer.Option(help="global batch, split over the workers")] = 64,
    lr: Annotated[float | None, typer.Option(help="base learning rate (recipe: 0.05)")] = None,
    gpus: Annotated[int | None, typer.Option(help="local GPU workers (DDP, NCCL)")] = None,
    nproc: Annotated[int | None, typer.Option(help="local CPU workers (DDP, gloo), with --device cpu")] = None,
    device: Annotated[Device, typer.Option(help="where to train")] = Device.auto,
    amp: Annotated[bool | None, typer.Option("--amp/--no-amp", help="bf16 autocast [default: on for cuda]")]
    = None,
    channels_last: Annotated[bool, typer.Option(help="NHWC memory format")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model")] = False,
    out: Annotated[Path | None, typer.Option(help="run folder [default: reports/runs/SPEC-DATA]")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the run in --out from its checkpoint")]
    = False,
    seed: Annotated[int, typer.Option(help="seed of weights, data order, crops and dropout")] = 0,
    recipe: Annotated[Path | None, typer.Option(help="YAML recipe (keys of inceptcost.train.Recipe)")] = None,
    schedule: Annotated[Schedule | None, typer.Option(help="lr schedule (recipe: step, the paper's)")] = None,
    warmup_epochs: Annotated[float | None, typer.Option(help="linear lr warm-up")] = None,
    label_smoothing: Annotated[float | None, typer.Option(help="label smoothing")] = None,
    weight_decay: Annotated[float | None, typer.Option(help="L2 weight decay (not on biases/norms)")] = None,
    grad_clip: Annotated[float | None, typer.Option(help="clip the global grad norm to this")] = None,
    save_every: Annotated[int, typer.Option(help="also checkpoint every K steps (0: epoch ends only)")] = 0,
    steps_per_epoch: Annotated[int | None, typer.Option(help="cap steps per epoch (quick trials)")] = None,
    download: Annotated[bool, typer.Option("--download", help="allow downloading cifar10")] = False,
) -> None:
    """Train a spec (DDP over --gpus/--nproc workers); writes config.yaml, metrics.csv, summary.json."""
    with user_errors():
        from .train import Recipe, TrainConfig, load_recipe
        from .train import train as run_training
        from .train.recipe import recipe_from_dict

        base = load_recipe(recipe) if recipe else Recipe()
        flags = {"lr": lr, "schedule": schedule.value if schedule else None, "warmup_epochs": warmup_epochs,
                 "label_smoothing": label_smoothing, "weight_decay": weight_decay, "grad_clip": grad_clip}
        chosen = recipe_from_dict({k: v for k, v in flags.items() if v is not None}, "the command line", base)
        config = TrainConfig(
            spec=str(spec), data=data, epochs=epochs, batch_size=batch_size, device=device.value, gpus=gpus,
            nproc=nproc, amp=amp, channels_last=channels_last, compile=compile,
            out=str(out) if out else None, resume=resume, seed=seed, save_every=save_every,
            steps_per_epoch=steps_per_epoch, download=download, recipe=chosen,
        )
        summary = run_training(config, reporter_factory=train_reporter)
        if summary and summary.get("best_val_top1") is not None:  # None on the other ranks of a torchrun
            typer.echo(f"{summary['spec']} on {summary['data']}: best val top-1 {summary['best_val_top1']:.2f}% "
                       f"(epoch {summary['best_epoch']}), final {summary['final_val_top1']:.2f}%, "
                       f"{summary['total_seconds']:.1f} s, {summary['images_per_s']:,.0f} img/s "
                       f"x{summary['world_size']} {summary['device']}")


def main() -> None:
    app()
