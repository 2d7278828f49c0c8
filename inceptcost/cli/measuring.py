"""bench and tradeoff: measured speed on synthetic data (beside the prediction with a profile), and accuracy
against MACs or step time over training runs."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InceptcostError
from ..io import write_atomic
from .common import DEFAULT_SPEC, SpecArg, check_out, check_out_dir, spec_input, user_errors
from .timing import Mode, TimeBatchOpt, TimeProfileOpt, load_profile_arg, profile_file, time_run
from .views import print_views, table


class BenchMode(str, Enum):
    train = "train"
    infer = "infer"


def _peak_text(n: float | None) -> str:
    from ..quantities import format_bytes

    return "-" if n is None else "0" if n == 0 else format_bytes(n, decimals=1)


def _bench_table(rows: list[dict], title: str):
    heads = ["model", "mode", "math", "batch", "images/s", "ms/step", "peak mem", "TFLOP/s", "MFU", "note"]
    right = ("batch", "images/s", "ms/step", "peak mem", "TFLOP/s", "MFU")
    t = table(title, heads, right, ranks=[0, 1, 2, 1, 0, 0, 2, 1, 1, 0], wrap=("note",))
    for r in rows:
        t.rows.append(
            [
                r["model"],
                r["mode"] + (" +compile" if r["compile"] else ""),
                r["math"] + (" CL" if r["channels_last"] else ""),
                str(r["batch"]),
                f"{r['images_per_s']:,.1f}" if r["images_per_s"] else "-",
                f"{r['ms_per_step']:.2f}" if r["ms_per_step"] else "-",
                _peak_text(r.get("peak_mem_bytes"))
                + (" (RSS)" if r.get("peak_mem_kind", "").startswith("cpu") else ""),
                f"{r['tflops']:.2f}" if r["tflops"] is not None else "-",
                f"{r['mfu']:.1%}" if r.get("mfu") is not None else "-",
                r["error"] or "",
            ]
        )
    return t


def _per_layer_tables(result: dict, top: int = 25):
    from ..quantities import human

    by_op = table(
        f"time vs MACs by op ({result['device_name']}, batch {result['batch']}, {result['math']})",
        ["op", "count", "MACs share", "time share", "measured ms", "roofline ms"],
        right=("count", "MACs share", "time share", "measured ms", "roofline ms"),
        ranks=[0, 2, 0, 0, 1, 1],
    )
    for g in result["by_op"]:
        by_op.rows.append(
            [
                g["op"],
                str(g["count"]),
                f"{g['macs_share']:.1%}",
                f"{g['time_share']:.1%}" if g["time_share"] is not None else "-",
                f"{g['measured_ms']:.3f}",
                f"{g['roofline_ms']:.3f}" if g["roofline_ms"] is not None else "-",
            ]
        )
    predicted = result.get("profile") is not None
    heads = ["layer", "op", "MACs", "measured ms", "roofline ms", "bound", "measured/roofline"]
    heads += ["predicted ms", "error", "predicted bound"] if predicted else []
    layers = table(
        f"slowest {top} layers",
        heads,
        right=("MACs", "measured ms", "roofline ms", "measured/roofline", "predicted ms", "error"),
        ranks=[0, 2, 1, 0, 1, 2, 1] + ([0, 0, 2] if predicted else []),
    )
    for r in sorted(result["layers"], key=lambda r: -r["measured_ms"])[:top]:
        cells = [
            r["name"],
            r["op"],
            human(r["macs"]) if r["macs"] else "0",
            f"{r['measured_ms']:.3f}",
            f"{r['roofline_ms']:.3f}" if r["roofline_ms"] is not None else "-",
            r["bound"] or "-",
            f"{r['measured_over_roofline']:.1f}x" if r["measured_over_roofline"] else "-",
        ]
        if predicted:
            err = r["error"]
            cells += [f"{r['predicted_ms']:.3f}", f"{err:+.0%}" if err is not None else "-", r["predicted_bound"]]
        layers.rows.append(cells)
    if predicted:
        total = result["total_predicted_ms"] / result["total_measured_ms"] - 1
        layers.notes.append(
            f"predicted {result['total_predicted_ms']:.2f} ms against measured {result['total_measured_ms']:.2f} ms"
            f" over all layers ({total:+.0%}); profile {result['profile']}"
        )
    return by_op, layers


def _with_progress(quiet: bool, run):
    """`run(progress)` with a bar on stderr when it is a terminal (and not --quiet), else `run(None)`."""
    from .progress import TerminalProgress, wanted

    if not wanted(quiet):
        return run(None)
    display = TerminalProgress()
    try:
        return run(display)
    finally:
        display.close()


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
    weights: Annotated[
        Path | None, typer.Option(help="our checkpoint, or a torchvision/timm state dict of the model the spec mirrors")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="with --per-layer: device profile; prediction beside each row")
    ] = None,
    fast: Annotated[bool, typer.Option("--fast", help="the fast build of our model (same weights)")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar on stderr")] = False,
) -> None:
    """Measured images/s, step time, peak memory, TFLOP/s (from our MACs) and MFU on synthetic data."""
    with user_errors():
        from .. import load_spec
        from ..train.bench.runner import BenchConfig, run_bench

        if out is not None and out.suffix not in (".json", ".csv"):
            raise InceptcostError("--out must end in .json or .csv", file=str(out))
        layers_csv = (out.with_suffix(".layers.csv"),) if out is not None and per_layer and out.suffix == ".csv" else ()
        # before the benchmark, not after minutes of it
        check_out(out, spec_input(spec), weights, profile_file(profile), also=layers_csv)
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
            weights=str(weights) if weights else None,
            fast=fast,
        )
        s = load_spec(spec)
        prof = load_profile_arg(profile, device) if profile is not None else None  # checked before the run
        rows = _with_progress(quiet, lambda progress: run_bench(s, cfg, compare=compare, progress=progress))
        layers = None
        if per_layer:
            from ..train.bench.per_layer import per_layer as run_per_layer

            layers = run_per_layer(s, cfg, prof)
        shown = _bench_table(rows, f"bench {s.name} ({spec})")
        shown.notes.append(
            "FLOPs = 2 x our MACs per image (x3 for a train step); MFU against "
            + (rows[0]["peak_source"] or "no known peak (give --peak)")
        )
        print_views([shown, *(_per_layer_tables(layers) if layers else ())])
        if out is not None:
            if out.suffix == ".json":
                write_atomic(out, json.dumps({"rows": rows, "per_layer": layers}, indent=2))
            else:
                write_atomic(out, _rows_csv(rows))
                if layers:
                    write_atomic(out.with_suffix(".layers.csv"), _rows_csv(layers["layers"]))


def tradeoff(
    runs: Annotated[list[Path], typer.Argument(help="run folders (reports/runs/NAME) or their summary.json")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="where the table and plot go")] = Path("reports"),
    stem: Annotated[str, typer.Option(help="file name stem")] = "tradeoff",
    x: Annotated[
        str, typer.Option("--x", help="x axis: macs, measured (ms/image) or predicted (needs --profile)")
    ] = "macs",
    profile: TimeProfileOpt = None,
    batch: TimeBatchOpt = 32,
    mix: Annotated[
        str, typer.Option("--mix", help="settings the runs may differ in, comma-separated: data,epochs,input,device")
    ] = "",
) -> None:
    """Best top-1 against MACs (or step time) over comparable training runs: the seeds of a spec make one point
    with an error bar; table and plot with the Pareto frontier."""
    from ..study.results import run_files
    from ..study.tradeoff import OUTPUTS
    from ..study.tradeoff_plot import write_tradeoff

    with user_errors():
        check_out_dir(out_dir, [f"{stem}.{ext}" for ext in OUTPUTS], *run_files(runs), profile_file(profile))
        run, _ = time_run(profile, batch, Mode.train, None)
        mixed = tuple(m.strip() for m in mix.split(",") if m.strip())
        result = write_tradeoff(runs, out_dir, stem=stem, x=x, time_run=run, mix=mixed)
        sys.stdout.write(result["table"])  # not read back: the file may be a pipe that was written through
        pareto = [r["run"] for r in result["runs"] if r["pareto"]]
        typer.echo(f"Pareto-optimal: {', '.join(pareto)}")
        typer.echo("wrote " + ", ".join(result["files"]))
