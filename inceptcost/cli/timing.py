"""predict and calibrate: predicted time per layer from a device profile, and fitting a profile; the time
options that sweep, fit and tradeoff share."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InceptcostError
from ..io import emit, write_atomic
from .common import DEFAULT_SPEC, Format, FormatOpt, OutOpt, SpecArg, check_out, spec_input, user_errors
from .views import print_views


class Mode(str, Enum):
    train = "train"
    infer = "infer"


ProfileOpt = Annotated[
    str, typer.Option("--profile", "-p", help="device profile: a file or a shipped name (h100, h200, a100, cpu)")
]
TimeOpt = Annotated[str | None, typer.Option("--time", help="time budget per step, e.g. 4ms (needs --profile)")]
TimeProfileOpt = Annotated[str | None, typer.Option("--profile", help="device profile for predicted step time")]
TimeBatchOpt = Annotated[int, typer.Option("--batch", help="images per step for predicted time")]
TimeModeOpt = Annotated[Mode, typer.Option("--mode", help="predicted step: train or infer")]


def profile_file(profile: str | None) -> Path | None:
    """The file a --profile names (a path, or a shipped profile's file); None when not given."""
    from ..analyze.timing.profile import resolve_profile

    return None if profile is None else resolve_profile(profile)


def load_profile_arg(profile: str, device: str | None = None):
    """The profile named on the command line, refused when it is for another device kind than `device`."""
    from ..analyze.timing.profile import load_profile

    prof = load_profile(profile_file(profile))
    if device is not None:
        prof.check_device(device)
    return prof


def time_run(profile: str | None, batch: int, mode: Mode, time_budget: str | None):
    """(TimeRun or None, budget ms or None) from the time options; --time without --profile is an error."""
    from ..analyze.timing.predict import check_run
    from ..analyze.timing.time_budget import TimeRun, parse_duration

    limit = parse_duration(time_budget) if time_budget is not None else None
    if profile is None:
        if limit is not None:
            raise InceptcostError("--time needs a device profile", hint="add --profile h100 (or a calibrated file)")
        return None, None
    check_run(batch, "fp32", mode.value)
    return TimeRun(load_profile_arg(profile), batch, "fp32", mode.value), limit


def predict(
    spec: SpecArg = DEFAULT_SPEC,
    profile: ProfileOpt = "h100",
    batch: Annotated[int, typer.Option("--batch", help="images per step")] = 32,
    dtype: Annotated[str, typer.Option("--dtype", help="math and activation dtype: fp32, bf16, fp16")] = "fp32",
    mode: Annotated[Mode, typer.Option(help="train: forward + backward + SGD update; infer: forward")] = Mode.train,
    aux: Annotated[bool, typer.Option("--aux", help="a training step also runs the aux heads")] = False,
    device: Annotated[str | None, typer.Option(help="refuse a profile for another device kind (cpu or cuda)")] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """Predicted time per layer and per step from MACs, bytes moved and a device profile (no torch)."""
    from .. import compile_graph, load_spec
    from ..analyze.timing.predict import predict as run_predict
    from ..analyze.timing.predict_view import prediction_csv, prediction_markdown, prediction_view

    with user_errors():
        check_out(out, spec_input(spec), profile_file(profile))
        prof = load_profile_arg(profile, device)
        p = run_predict(compile_graph(load_spec(spec)), prof, batch, dtype, mode.value, aux=aux)
        if format is Format.json:
            emit(json.dumps(p.as_dict(), indent=2), out)
        elif format is Format.csv:
            emit(prediction_csv(p), out)
        elif format is Format.md:
            cmd = f"inceptcost predict {spec} --profile {profile} --batch {batch} --dtype {dtype} --mode {mode.value}"
            emit(prediction_markdown(p, cmd + (" --aux" if aux else "")), out)
        else:
            print_views([prediction_view(p)], out)


def calibrate(
    out: Annotated[Path, typer.Option("--out", "-o", help="profile file to write (YAML), e.g. profiles/mybox.yaml")],
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    quick: Annotated[bool, typer.Option("--quick", help="fewer shapes and rounds: seconds, not a minute")] = False,
    threads: Annotated[int | None, typer.Option(help="CPU threads to pin (default: torch's)")] = None,
    name: Annotated[str | None, typer.Option(help="profile name (default: DEVICE-calibrated)")] = None,
    clock: Annotated[
        str,
        typer.Option(help="wall, or cpu: the thread's CPU time (1 CPU thread; for a machine shared with other jobs)"),
    ] = "wall",
) -> None:
    """Fit a device profile on microbenchmarks (GEMM, conv, pool, norm, copy, per-op overhead)."""
    import yaml

    from ..analyze.timing.profile import parse_profile
    from ..train.bench.calibrate import calibrate as run_calibrate

    with user_errors():
        if out.suffix not in (".yaml", ".yml"):
            raise InceptcostError("--out must end in .yaml", file=str(out))
        check_out(out)  # before the microbenchmarks, not after them
        data = run_calibrate(device, quick=quick, threads=threads, log=lambda m: typer.echo(m, err=True), clock=clock)
        if name:
            data["name"] = name
        parse_profile(data, str(out))  # what is written must load back
        flags = f"--device {device}" + (" --quick" if quick else "") + (f" --threads {threads}" if threads else "")
        flags += f" --clock {clock}" if clock != "wall" else ""
        head = f"# Calibrated by `inceptcost calibrate {flags}` on microbenchmarks only.\n"
        write_atomic(out, head + yaml.safe_dump(data, sort_keys=False, width=110))
        typer.echo(
            f"wrote {out}: {data['device_name']}, peak {data['peak_tflops']} TFLOP/s, {data['bandwidth_gbs']} GB/s, "
            f"overhead {data['overhead_us']['forward']}/{data['overhead_us']['backward']} us"
        )
