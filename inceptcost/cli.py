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
    if path.is_dir():
        raise InceptcostError("is a folder, not a file", file=str(path), hint="name a file inside it")
    data = text.encode() if isinstance(text, str) else text
    if path.exists() and not path.is_file():  # /dev/null, a pipe: write through; a rename would replace it
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise InceptcostError(
                f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable file"
            ) from None
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as exc:
        raise InceptcostError(
            f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable folder"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except OSError as exc:  # disk full, a read-only target
        Path(tmp).unlink(missing_ok=True)
        raise InceptcostError(
            f"cannot write here ({exc.strerror})", file=str(path), hint="choose a writable file"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(out, text)


# ---- analyze / verify / compare (issue 3): thin commands over inceptcost.analyze ----


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


def _console(file=None, width: int | None = None):
    from rich.console import Console

    # Table 1 is wide: when piped (no terminal width to respect), lay it out for 120 columns.
    if width is None and (file is not None or not sys.stdout.isatty()):
        width = 120
    return Console(file=file, width=width)


def _rich_view(view):
    """A report View (plain strings) as a compact rich table that fits 100-120 columns."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=view.title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 0),
        header_style="bold",
    )
    for i, (head, align) in enumerate(view.columns):
        wide = head in ("why", "ours vs paper")  # the free-text column takes what is left
        table.add_column(
            head,
            justify="right" if align == "r" else "left",
            overflow="fold",
            ratio=1 if wide else None,
            no_wrap=i == 0,
        )
    last = len(view.rows) - 1
    for i, row in enumerate(view.rows):
        table.add_row(*row, end_section=i == last - 1 and row and view.rows[last][0] in ("total", "aux heads"))
    return table


def _print_views(items: list, out: Path | None) -> None:
    """Print report Views (as rich tables with their notes) and plain lines, to stdout or atomically to `out`."""
    import io

    buf = io.StringIO() if out is not None else None
    console = _console(buf)
    for item in items:
        if isinstance(item, str):
            console.print(item, highlight=False)
            continue
        if not hasattr(item, "notes"):  # an already built rich renderable
            console.print(item)
            continue
        console.print(_rich_view(item))
        for note in item.notes:
            console.print(note, style="dim", highlight=False)
        console.print()
    if buf is not None:
        write_atomic(out, buf.getvalue())


def _strict(analysis, strict: bool) -> None:
    from .errors import CheckFailed

    if strict and analysis.failed:
        raise CheckFailed("--strict: " + "; ".join(analysis.failed))


def _command(name: str, spec: Path, fmt: Format, budget: str | None, batch: int, dtype: str) -> str:
    """The command line that regenerates a report (without --out, so that it reads the same anywhere)."""
    parts = ["inceptcost", name, str(spec), "--format", fmt.value]
    if budget:
        parts += ["--budget", budget]
    if batch != 1:
        parts += ["--batch", str(batch)]
    if dtype != "fp32":
        parts += ["--dtype", dtype]
    return " ".join(parts)


@app.command()
def analyze(
    spec: SpecArg = DEFAULT_SPEC,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    budget: BudgetOpt = None,
    strict: StrictOpt = False,
    batch: BatchOpt = 1,
    dtype: DtypeOpt = "fp32",
) -> None:
    """Table 1 recomputed (ours beside the paper's values), totals, budget, memory, and the verification summary."""
    from .analyze.budget import parse_budget
    from .analyze.report import analyze_spec, summary_lines, table_view, to_csv, to_json, to_markdown, verify_views

    with user_errors():
        a = analyze_spec(spec, parse_budget(budget), batch, dtype)
        if format is Format.json:
            emit(json.dumps(to_json(a), indent=2), out)
        elif format is Format.csv:
            emit(to_csv(a), out)
        elif format is Format.md:
            emit(to_markdown(a, _command("analyze", spec, format, budget, batch, dtype)), out)
        else:
            _print_views([table_view(a, activations=False), *summary_lines(a), "", *verify_views(a)], out)
        _strict(a, strict)


@app.command("memory")
def memory_cmd(
    spec: SpecArg = DEFAULT_SPEC,
    batch: Annotated[str, typer.Option("--batch", help="images per step")] = "32",
    dtype: Annotated[str, typer.Option("--dtype", help="fp32, or bf16 / fp16 autocast")] = "fp32",
    mode: Annotated[str, typer.Option("--mode", help="train (one step) or infer (one forward)")] = "train",
    optimizer: Annotated[str, typer.Option("--optimizer", help="sgd (momentum) or adamw")] = "sgd",
    device: Annotated[str, typer.Option("--device", help="cuda or cpu (autocast and dropout differ)")] = "cuda",
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC memory format")] = False,
    fits: Annotated[str | None, typer.Option("--fits", help="a size (80GiB) or device (H100, H200, A100-80GB)")] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """What torch keeps per layer for backward, the peak of one step, and the largest batch that fits."""
    from .analyze.memory import Setup
    from .analyze.memory_report import memory_report, rows_table, totals_lines
    from .analyze.report import View, view_markdown

    with user_errors():
        setup = Setup.checked(_whole(batch, "--batch"), dtype, mode, optimizer, device, channels_last)
        result = memory_report(spec, setup, fits)
        head, rows = rows_table(result)
        view = View(
            f"{result['spec']}: memory per layer", [(h, "l" if i != 2 else "r") for i, h in enumerate(head)], rows
        )
        if format is Format.json:
            emit(json.dumps(result, indent=2), out)
        elif format is Format.csv:
            emit(_rows_csv([{k: v for k, v in r.items()} for r in result["rows"]]), out)
        elif format is Format.md:
            emit(view_markdown(view) + "\n" + "\n".join(f"- {line}" for line in totals_lines(result)) + "\n", out)
        else:
            _print_views([view, *totals_lines(result)], out)


def _whole(text: str, flag: str) -> int:
    """A whole-number option read as text, so that `--batch 0` or `--batch x` gets our one-line error."""
    from .errors import InceptcostError

    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise InceptcostError(f"{flag} must be a whole number, got '{text}'", hint=f"e.g. {flag} 32") from None


@app.command()
def verify(
    spec: SpecArg = DEFAULT_SPEC,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    budget: BudgetOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Table 1 row by row, the paper's rows against themselves, and each claim with a verdict."""
    import csv
    import io

    from .analyze.budget import parse_budget
    from .analyze.report import analyze_spec, to_json, verify_views, view_markdown

    with user_errors():
        a = analyze_spec(spec, parse_budget(budget))
        if format is Format.json:
            emit(json.dumps(to_json(a), indent=2), out)
        elif format is Format.csv:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(["claim", "verdict", "ours", "paper", "note"])
            writer.writerows([c.claim, c.verdict, c.ours, c.paper, c.note] for c in a.claims)
            emit(buf.getvalue(), out)
        elif format is Format.md:
            emit("\n".join(view_markdown(v) for v in verify_views(a)), out)
        else:
            _print_views(verify_views(a), out)
        _strict(a, strict)


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="first spec (A)")],
    b: Annotated[Path, typer.Argument(help="second spec (B)")],
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """Two specs side by side, per row (matched by name) and in total, with the differences B - A."""
    from .analyze.compare import compare_specs, comparison_csv, comparison_json, comparison_view
    from .analyze.report import view_markdown

    with user_errors():
        c = compare_specs(a, b)
        if format is Format.json:
            emit(json.dumps(comparison_json(c), indent=2), out)
        elif format is Format.csv:
            emit(comparison_csv(c), out)
        elif format is Format.md:
            emit(view_markdown(comparison_view(c)), out)
        else:
            _print_views([comparison_view(c)], out)


# ---- diagram (issue 4) ----


@app.command()
def diagram(
    spec: SpecArg = DEFAULT_SPEC,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="file to write: .svg, .png, .pdf, or .dot/.gv for the source (default: source to stdout)",
        ),
    ] = None,
    module: Annotated[
        str | None, typer.Option("--module", "-m", help="draw one module alone: 4e, inception_4e or the row's name")
    ] = None,
    naive: Annotated[
        bool, typer.Option("--naive", help="with --module: beside its Figure 2(a) version without 1x1 reductions")
    ] = False,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="each module as one node: the whole net on one page")
    ] = False,
) -> None:
    """Graphviz drawing of the network or of one module, every layer filled by its multiply-adds."""
    from . import compile_graph, load_spec
    from .errors import ToolMissing
    from .graph.diagram import diagram_source, output_format, render

    with user_errors():
        fmt = output_format(out) if out is not None else "dot"
        source = diagram_source(compile_graph(load_spec(spec)), module=module, naive=naive, collapse=collapse)
        if out is None or fmt == "dot":
            emit(source, out)
            return
        try:
            data = render(source, fmt)
        except ToolMissing as exc:
            fallback = out.with_suffix(".dot")
            write_atomic(fallback, source)  # the source is still useful: render it elsewhere
            exc.hint = f"{exc.hint}; the DOT source is in {fallback}"
            raise
        write_atomic(out, data)
        typer.echo(f"wrote {out}", err=True)


# ---- specs index (issue 8) ----


class IndexFormat(str, Enum):
    table = "table"
    md = "md"
    json = "json"


@app.command("specs")
def specs_index(
    folder: Annotated[Path, typer.Argument(help="folder of YAML specs")] = Path("specs"),
    format: Annotated[IndexFormat, typer.Option("--format", "-f", help="output format")] = IndexFormat.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file instead of stdout")] = None,
) -> None:
    """Index of the specs in a folder: what each is, its params, MACs and budget verdict (md: the README block)."""
    from .analyze.index import index_markdown, spec_index
    from .quantities import human

    with user_errors():
        if not folder.is_dir():
            raise InceptcostError("not a folder", file=str(folder), hint="give the folder that holds the specs")
        rows = spec_index(folder)
        if format is IndexFormat.md:
            emit(index_markdown(rows), out)
            return
        if format is IndexFormat.json:
            records = [{**r.__dict__, "verdict": r.verdict} for r in rows]
            emit(json.dumps(records, indent=2), out)
            return
        from rich.table import Table

        table = Table(title=f"specs in {folder}", title_justify="left", header_style="bold")
        for head in ("spec", "what it is", "input", "params", "MACs", "budget"):
            table.add_column(head, justify="right" if head in ("params", "MACs") else "left")
        for r in rows:
            shape = f"{r.input[1]}x{r.input[2]}x{r.input[0]}"
            table.add_row(Path(r.file).name, r.title, shape, f"{r.params:,}", human(r.macs, digits=4), r.verdict)
        _print_views([table], out)


# --- train ---------------------------------------------------------------------------------------------------


class RichReporter:
    """Progress bar on rank 0 when stdout is a terminal: epoch, step, loss, images/s, ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[rate]} img/s"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.task = None
        self.epochs = 0

    def start_epoch(self, epoch: int, epochs: int, steps: int, first_step: int) -> None:
        self.epochs = epochs
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(
            f"epoch {epoch + 1}/{epochs}", total=steps, completed=first_step, loss="-", rate="-"
        )

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
    data: Annotated[
        str, typer.Option(help="digits | digits-clutter | synthetic[:N] | imagefolder:PATH | cifar10:PATH")
    ] = "digits",
    epochs: Annotated[int, typer.Option(help="epochs to train (in total, counting resumed ones)")] = 10,
    batch_size: Annotated[int, typer.Option(help="global batch, split over the workers")] = 64,
    lr: Annotated[float | None, typer.Option(help="base learning rate (recipe: 0.05)")] = None,
    gpus: Annotated[int | None, typer.Option(help="local GPU workers (DDP, NCCL)")] = None,
    nproc: Annotated[int | None, typer.Option(help="local CPU workers (DDP, gloo), with --device cpu")] = None,
    device: Annotated[Device, typer.Option(help="where to train")] = Device.auto,
    amp: Annotated[
        bool | None, typer.Option("--amp/--no-amp", help="bf16 autocast (default: on for cuda, off for cpu)")
    ] = None,
    channels_last: Annotated[bool, typer.Option(help="NHWC memory format")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model")] = False,
    out: Annotated[Path | None, typer.Option(help="run folder (default: reports/runs/SPEC-DATA)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the run in --out from its checkpoint")] = False,
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
        flags = {
            "lr": lr,
            "schedule": schedule.value if schedule else None,
            "warmup_epochs": warmup_epochs,
            "label_smoothing": label_smoothing,
            "weight_decay": weight_decay,
            "grad_clip": grad_clip,
        }
        chosen = recipe_from_dict({k: v for k, v in flags.items() if v is not None}, "the command line", base)
        config = TrainConfig(
            spec=str(spec),
            data=data,
            epochs=epochs,
            batch_size=batch_size,
            device=device.value,
            gpus=gpus,
            nproc=nproc,
            amp=amp,
            channels_last=channels_last,
            compile=compile,
            out=str(out) if out else None,
            resume=resume,
            seed=seed,
            save_every=save_every,
            steps_per_epoch=steps_per_epoch,
            download=download,
            recipe=chosen,
        )
        summary = run_training(config, reporter_factory=train_reporter)
        if summary and summary.get("best_val_top1") is not None:  # None on the other ranks of a torchrun
            typer.echo(
                f"{summary['spec']} on {summary['data']}: best val top-1 {summary['best_val_top1']:.2f}% "
                f"(epoch {summary['best_epoch']}), final {summary['final_val_top1']:.2f}%, "
                f"{summary['total_seconds']:.1f} s, {summary['images_per_s']:,.0f} img/s "
                f"x{summary['world_size']} {summary['device']}"
            )


# ---- bench, tradeoff, sweep, fit (issue 6) ----


class BenchMode(str, Enum):
    train = "train"
    infer = "infer"


def _bench_table(rows: list[dict], title: str):
    from rich.table import Table

    from .bench.runner import human_bytes

    table = Table(title=title, title_justify="left", header_style="bold")
    for head in ("model", "mode", "math", "batch", "images/s", "ms/step", "peak mem", "TFLOP/s", "MFU", "note"):
        table.add_column(head, justify="left" if head in ("model", "mode", "math", "note") else "right")
    for r in rows:
        table.add_row(
            r["model"],
            r["mode"] + (" +compile" if r["compile"] else ""),
            r["math"] + (" CL" if r["channels_last"] else ""),
            str(r["batch"]),
            f"{r['images_per_s']:,.1f}" if r["images_per_s"] else "-",
            f"{r['ms_per_step']:.2f}" if r["ms_per_step"] else "-",
            human_bytes(r.get("peak_mem_bytes")) + (" (RSS)" if r.get("peak_mem_kind", "").startswith("cpu") else ""),
            f"{r['tflops']:.2f}" if r["tflops"] is not None else "-",
            f"{r['mfu']:.1%}" if r.get("mfu") is not None else "-",
            r["error"] or "",
        )
    return table


def _per_layer_table(result: dict, top: int = 25):
    from rich.table import Table

    from .quantities import human

    by_op = Table(
        title=f"time vs MACs by op ({result['device_name']}, batch {result['batch']}, {result['math']})",
        title_justify="left",
        header_style="bold",
    )
    for head in ("op", "count", "MACs share", "time share", "measured ms", "roofline ms"):
        by_op.add_column(head, justify="left" if head == "op" else "right")
    for g in result["by_op"]:
        by_op.add_row(
            g["op"],
            str(g["count"]),
            f"{g['macs_share']:.1%}",
            f"{g['time_share']:.1%}" if g["time_share"] is not None else "-",
            f"{g['measured_ms']:.3f}",
            f"{g['roofline_ms']:.3f}" if g["roofline_ms"] is not None else "-",
        )
    layers = Table(title=f"slowest {top} layers", title_justify="left", header_style="bold")
    for head in ("layer", "op", "MACs", "measured ms", "roofline ms", "bound", "measured/roofline"):
        layers.add_column(head, justify="left" if head in ("layer", "op", "bound") else "right")
    for r in sorted(result["layers"], key=lambda r: -r["measured_ms"])[:top]:
        layers.add_row(
            r["name"],
            r["op"],
            human(r["macs"]) if r["macs"] else "0",
            f"{r['measured_ms']:.3f}",
            f"{r['roofline_ms']:.3f}" if r["roofline_ms"] is not None else "-",
            r["bound"] or "-",
            f"{r['measured_over_roofline']:.1f}x" if r["measured_over_roofline"] else "-",
        )
    return by_op, layers


def _rows_csv(rows: list[dict]) -> str:
    import csv
    import io

    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


@app.command()
def bench(
    spec: SpecArg = DEFAULT_SPEC,
    device: Annotated[str, typer.Option(help="cuda or cpu")] = "cuda",
    batch: Annotated[int, typer.Option(help="images per step (halved on CUDA out-of-memory)")] = 64,
    mode: Annotated[BenchMode, typer.Option(help="train: fwd+bwd+SGD step; infer: forward")] = BenchMode.train,
    amp: Annotated[bool, typer.Option("--amp", help="bf16 autocast")] = False,
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC memory format")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model")] = False,
    compare: Annotated[str | None, typer.Option(help="also run 'torchvision' GoogLeNet in the same harness")] = None,
    steps: Annotated[int, typer.Option(help="timed steps per repeat")] = 20,
    warmup: Annotated[int, typer.Option(help="untimed steps first")] = 10,
    repeats: Annotated[int, typer.Option(help="timed repeats (the median is reported)")] = 5,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write rows to FILE.json or FILE.csv")] = None,
    per_layer: Annotated[bool, typer.Option("--per-layer", help="time every IR node beside MACs and roofline")] = False,
    peak: Annotated[float | None, typer.Option(help="device peak TFLOP/s for MFU (overrides the table)")] = None,
    peak_bw: Annotated[float | None, typer.Option(help="device bandwidth GB/s for the roofline")] = None,
    aux: Annotated[bool, typer.Option("--aux", help="run aux heads in train mode (their MACs counted)")] = False,
) -> None:
    """Measured images/s, step time, peak memory, TFLOP/s (from our MACs) and MFU on synthetic data."""
    from . import load_spec
    from .bench.runner import BenchConfig, run_bench

    with user_errors():
        if out is not None and out.suffix not in (".json", ".csv"):
            raise InceptcostError("--out must end in .json or .csv", file=str(out))
        cfg = BenchConfig(
            device=device,
            batch=batch,
            mode=mode.value,
            amp=amp,
            channels_last=channels_last,
            compile=compile,
            steps=steps,
            warmup=warmup,
            repeats=repeats,
            peak_tflops=peak,
            peak_bw_gbs=peak_bw,
            aux=aux,
        )
        s = load_spec(spec)
        rows = run_bench(s, cfg, compare=compare)
        layers = None
        if per_layer:
            from .bench.per_layer import per_layer as run_per_layer

            layers = run_per_layer(s, cfg)
        console = _console()
        console.print(_bench_table(rows, f"bench {s.name} ({spec})"))
        console.print(
            "FLOPs = 2 x our MACs per image (x3 for a train step); MFU against "
            + (rows[0]["peak_source"] or "no known peak (give --peak)")
        )
        if layers:
            for t in _per_layer_table(layers):
                console.print(t)
        if out is not None:
            if out.suffix == ".json":
                write_atomic(out, json.dumps({"rows": rows, "per_layer": layers}, indent=2))
            else:
                write_atomic(out, _rows_csv(rows))
                if layers:
                    write_atomic(out.with_suffix(".layers.csv"), _rows_csv(layers["layers"]))


@app.command()
def tradeoff(
    runs: Annotated[list[Path], typer.Argument(help="run folders (reports/runs/NAME) or their summary.json")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="where the table and plot go")] = Path("reports"),
    stem: Annotated[str, typer.Option(help="file name stem")] = "tradeoff",
) -> None:
    """Best top-1 against MACs over training runs: table (md/csv/json) and plot (png/svg), Pareto frontier."""
    from .bench.tradeoff import write_tradeoff

    with user_errors():
        result = write_tradeoff(runs, out_dir, stem=stem, writer=write_atomic)
        sys.stdout.write(Path(result["files"][0]).read_text())
        pareto = [r["run"] for r in result["runs"] if r["pareto"]]
        typer.echo(f"Pareto-optimal: {', '.join(pareto)}")
        typer.echo("wrote " + ", ".join(result["files"]))


@app.command()
def sweep(
    spec: SpecArg = DEFAULT_SPEC,
    width: Annotated[str, typer.Option(help="width grid start:stop:step (stop included) or a,b,c")] = "0.25:2.0:0.25",
    format: Annotated[Format, typer.Option("--format", "-f", help="output format")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file instead of stdout")] = None,
) -> None:
    """Static costs of width-scaled variants (channels x width, rounded to multiples of 8; classifier kept)."""
    from . import load_spec
    from .analyze.sweep import parse_widths
    from .analyze.sweep import sweep as run_sweep
    from .quantities import human

    with user_errors():
        s = load_spec(spec)
        records = run_sweep(s, parse_widths(width))
        if format is Format.json:
            emit(json.dumps({"spec": str(spec), "variants": records}, indent=2), out)
            return
        from rich.table import Table

        table = Table(title=f"{s.name} ({spec}): width sweep", title_justify="left", header_style="bold")
        for head in ("width", "params", "MACs", "MACs (G)", "aux params", "budget"):
            table.add_column(head, justify="right")
        for r in records:
            verdict = "" if r["within_budget"] is None else ("within" if r["within_budget"] else "OVER")
            table.add_row(
                f"{r['width']:g}",
                f"{r['params']:,}",
                f"{r['macs']:,}",
                human(r["macs"]),
                f"{r['params_aux']:,}",
                verdict,
            )
        if out is None:
            _console().print(table)
        else:  # a file gets a markdown table
            lines = ["| width | params | MACs | aux params | budget |", "|---:|---:|---:|---:|:-:|"]
            for r in records:
                verdict = "" if r["within_budget"] is None else ("within" if r["within_budget"] else "OVER")
                lines.append(f"| {r['width']:g} | {r['params']:,} | {r['macs']:,} | {r['params_aux']:,} | {verdict} |")
            emit("\n".join(lines) + "\n", out)


@app.command()
def fit(
    spec: SpecArg = DEFAULT_SPEC,
    budget: Annotated[str | None, typer.Option(help="MAC budget like 0.5G (default: the spec's budget)")] = None,
    width: Annotated[str, typer.Option(help="width grid to search")] = "0.0625:4.0:0.0625",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write the fitted spec as YAML here")] = None,
) -> None:
    """The widest width-scaled variant whose MACs fit the budget; writes its spec (YAML)."""
    from . import load_spec
    from .analyze.spec_yaml import spec_to_yaml
    from .analyze.sweep import fit as run_fit
    from .analyze.sweep import parse_widths
    from .quantities import human, parse_count

    with user_errors():
        s = load_spec(spec)
        if budget is not None:
            try:
                limit = parse_count(budget)
            except ValueError as exc:
                raise InceptcostError(f"--budget: {exc}") from None
        elif s.budget_macs is not None:
            limit = s.budget_macs
        else:
            raise InceptcostError("no budget", file=str(spec), hint="give --budget 0.5G or 'budget: {macs: ...}'")
        if limit <= 0:
            raise InceptcostError("--budget must be positive")
        result, fitted = run_fit(s, limit, parse_widths(width))
        c = result.costs
        nxt = (
            f"next width {result.next_width:g} needs {human(result.next_macs)} (over)"
            if result.next_width is not None
            else "the grid's widest width fits; widen --width to search further"
        )
        summary = (
            f"{s.name}: width {result.width:g} -> {c['macs']:,} MACs ({human(c['macs'])}) within {human(limit)},"
            f" params {c['params']:,}; {nxt}"
        )
        header = (
            f"generated by `inceptcost fit {spec} --budget {budget or human(limit)}`: {s.name} at width"
            f" {result.width:g}\n(conv/linear widths x{result.width:g}, rounded to multiples of 8; classifier kept)."
            f"\n{c['macs']:,} MACs, {c['params']:,} params. Paper values dropped: they describe the original."
        )
        text = spec_to_yaml(fitted, header)
        if out is None:
            sys.stdout.write(text)
            typer.echo(summary, err=True)
        else:
            write_atomic(out, text)
            typer.echo(summary)
            typer.echo(f"wrote {out}")


def main() -> None:
    app()
