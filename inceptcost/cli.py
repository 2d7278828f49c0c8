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
