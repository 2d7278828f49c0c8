"""`inceptcost study`: train a plan's runs (resumably) and write its table and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import user_errors


def study(
    plan: Annotated[Path, typer.Argument(help="study plan (YAML): specs or a width sweep, data, epochs, seeds")],
    out: Annotated[
        Path | None, typer.Option("--out", help="folder for runs/, specs/ and the report (default: the plan's)")
    ] = None,
    device: Annotated[str | None, typer.Option(help="override the plan's device: cpu | cuda | auto")] = None,
    gpus: Annotated[int | None, typer.Option(help="override the plan's GPUs per run (DDP)")] = None,
    parallel: Annotated[
        int, typer.Option("--parallel", min=1, help="CPU runs trained at a time, the cores shared out among them")
    ] = 1,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list the runs and what would happen to each")] = False,
    report_only: Annotated[
        bool, typer.Option("--report-only", help="write the table and plots from the runs finished so far")
    ] = False,
) -> None:
    """Train every spec x seed of a plan (finished runs skipped, interrupted ones resumed), then write
    study.md/.csv/.json and plots of top-1 against MACs, measured time and memory, with error bars and fronts."""
    with user_errors():
        from dataclasses import replace

        from ..study.plan import DEVICES, PlanError, load_plan
        from ..study.report import check_outputs, write_report
        from ..study.runs import jobs, run_plan, state

        p = load_plan(plan)
        if device is not None:
            if device not in DEVICES:
                raise PlanError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
            p = replace(p, device=device)
        if gpus is not None:
            p = replace(p, gpus=gpus)
        folder = out if out is not None else p.folder
        check_outputs(p, folder)
        if dry_run:
            for j in jobs(p, folder, write=False):
                typer.echo(f"{state(j):>8}  {j.folder}")
            return
        if report_only:
            todo = jobs(p, folder)
        else:
            from .training import train_reporter

            say = lambda line: typer.echo(line, err=True)  # noqa: E731
            todo = run_plan(p, folder, say=say, reporter_factory=train_reporter, parallel=parallel)
        result = write_report(p, todo, folder)
        typer.echo(result["table"], nl=False)  # not read back: the file may be a pipe that was written through
        typer.echo("wrote " + ", ".join(result["files"]))
