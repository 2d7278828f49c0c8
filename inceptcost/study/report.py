"""The study's table and plots: one point per spec (its seeds averaged), with the costs a user pays beside the
accuracy, and the Pareto front on each cost.

Columns: params and MACs (exact, from the spec as trained), predicted training time per image (the time model
with the plan's profile, batch and fp32, aux heads on, as the trainer runs them), measured training time per
image (1000 / the median over seeds of each run's median-epoch images/s), predicted training peak memory (the
memory model at the plan's batch), and best validation top-1 as mean ± sample standard deviation over seeds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..quantities import human
from .plan import Plan, PlanError
from .results import load_runs
from .runs import Job, jobs, state
from .tradeoff import Point, frontier, mark_pareto, md_cell, points, run_spec, to_csv, top1_text, write_files

AXES = {  # column -> (plot file stem, x label, MACs-style tick labels)
    "macs": ("macs", "multiply-adds per image (MACs)", True),
    "measured_ms": ("time", "measured training time per image (ms, timed on its own)", False),
    "peak_mib": ("memory", "predicted training peak memory (MiB)", False),
}


REPORT_FILES = ("study.md", "study.csv", "study.json") + tuple(
    f"study-{stem}.{fmt}" for stem, _, _ in AXES.values() for fmt in ("png", "svg")
)


def check_outputs(plan: Plan, out: Path) -> None:
    """Before any work: nothing the study writes into `out` (report, timing caches, run files) is
    one of the files it reads (the plan, its specs, its profile)."""
    from ..analyze.timing.profile import resolve_profile
    from ..errors import OutputError
    from ..io import refuse_inputs
    from ..train.config import RUN_FILES

    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"cannot make the study's folder under the file {existing}", file=str(out), hint="give --out a folder"
        )
    inputs = [plan.file, *plan.specs, plan.width_base]
    if plan.profile is not None:
        inputs.append(resolve_profile(plan.profile))
    written = [out / name for name in REPORT_FILES]
    for job in jobs(plan, out, write=False):
        name = job.folder.name.rsplit("-s", 1)[0]  # runs/NAME-sSEED
        written += [job.folder / f for f in RUN_FILES] + [out / "bench" / f"{name}.json"]
    refuse_inputs(written, inputs)


def _costs(p: Point, spec_file: Path, plan: Plan, profile, out: Path) -> dict[str, Any]:
    from ..analyze.memory import Setup, memory
    from ..analyze.timing.predict import predict
    from ..graph.compile import compile_graph
    from .timing import timed

    spec = run_spec(p.first, spec_file)  # the plan's file: the run recorded its path from where it was started
    graph = compile_graph(spec)
    device = "cpu" if p.first.device_type == "cpu" else "cuda"
    peak = memory(graph, Setup.checked(plan.batch_size, device=device)).peak_bytes
    predicted = (
        predict(graph, profile, plan.batch_size, "fp32", "train", aux=True).step_ms / plan.batch_size
        if profile is not None
        else None
    )
    bench = timed(spec, spec_file, plan.batch_size, device, out, plan.threads)
    return {
        "predicted_ms": predicted,
        "measured_ms": bench["ms_per_image"],
        "measured_min": bench["min"],
        "measured_max": bench["max"],
        "run_ms": p.ms_per_image,
        "peak_mib": peak / 2**20,
    }


def study_points(plan: Plan, finished: list[Job], out: Path) -> list[Point]:
    if not finished:
        raise PlanError("no run of the plan has finished yet", file=str(plan.file), hint="run `inceptcost study` on it")
    profile = None
    if plan.profile is not None:
        from ..analyze.timing.profile import load_profile, resolve_profile

        profile = load_profile(resolve_profile(plan.profile))
    pts = points(load_runs([j.folder for j in finished]))
    spec_of = {str(j.folder / "summary.json"): j.spec for j in finished}
    for p in pts:
        p.label = p.first.spec  # a point is a spec, however many of its seeds have finished
        p.extra.update(_costs(p, spec_of[p.first.path], plan, profile, out))
    for column in AXES:
        for p in pts:
            p.x = p.extra[column] if column != "macs" else p.first.macs
        mark_pareto(pts)
        for p in pts:
            p.extra[f"pareto_{AXES[column][0]}"] = p.pareto
    return pts


def rows(pts: list[Point]) -> list[dict[str, Any]]:
    out = []
    for p in sorted(pts, key=lambda p: (p.first.macs, -p.top1)):
        r = p.first
        out.append(
            {
                "spec": r.spec,
                "seeds": p.n,
                "params": r.params,
                "macs": int(r.macs),
                **{
                    k: p.extra[k]
                    for k in ("predicted_ms", "measured_ms", "measured_min", "measured_max", "run_ms", "peak_mib")
                },
                "top1_mean": p.top1,
                "top1_sd": p.top1_sd,
                **{f"pareto_{stem}": p.extra[f"pareto_{stem}"] for stem, _, _ in AXES.values()},
                "data": r.data,
                "epochs": r.epochs,
                "input": r.input,
                "device": r.device,
            }
        )
    return out


def _num(v: float | None, fmt: str) -> str:
    return format(v, fmt) if v is not None else "-"


def markdown(plan: Plan, table: list[dict[str, Any]], missing: list[str]) -> str:
    front = [
        "| spec | params | MACs | predicted ms/img | measured ms/img | in the runs ms/img | peak MiB (predicted)"
        " | best top-1 (%) | Pareto |",
        "|---|---:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in table:
        on = [name for stem, name in (("macs", "MACs"), ("time", "time"), ("memory", "memory")) if r[f"pareto_{stem}"]]
        front.append(
            f"| {md_cell(r['spec'])} | {r['params']:,} | {human(r['macs'])} | {_num(r['predicted_ms'], '.3f')} |"
            f" {_num(r['measured_ms'], '.2f')} | {_num(r['run_ms'], '.2f')} | {r['peak_mib']:.1f} | {top1_text(r['top1_mean'], r['top1_sd'], r['seeds'])} |"
            f" {', '.join(on)} |"
        )
    first = table[0]
    head = [
        f"# Study: {md_cell(plan.name)}",
        "",
        f"{len(table)} specs, {sum(r['seeds'] for r in table)} runs (seeds {', '.join(map(str, plan.seeds))}) on"
        f" {md_cell(plan.data)} at {first['input']}, {plan.epochs} epochs,"
        f" batch {plan.batch_size}, on {md_cell(first['device'])}; recipe over the paper's: "
        + (", ".join(f"{k} {v}" for k, v in plan.recipe.items()) or "none")
        + ".",
        "",
        "- params, MACs: exact, of the spec as trained (input channels and classes of the data).",
        f"- predicted ms/img: the time model, profile {plan.profile}, a training step at batch {plan.batch_size}"
        " (fp32, aux heads on), divided by the batch."
        if plan.profile
        else "- predicted ms/img: no profile given.",
        f"- measured ms/img: the training step timed on its own (`inceptcost bench` at batch {plan.batch_size}, aux heads"
        " on, synthetic data, median of 5 repeats of 10 steps after 3 warm-up steps); the min and max of the repeats are"
        " in study.json and bench/.",
        "- in the runs ms/img: 1000 / images per second of each run's median epoch, median over the seeds; it carries"
        " whatever else the machine was doing while the runs trained.",
        f"- peak MiB: the memory model's training peak at batch {plan.batch_size} (weights, gradients, momentum, saved"
        " activations).",
        "- best top-1: best validation top-1 over the epochs, mean ± sample standard deviation over seeds.",
        "- Pareto: no other spec is as cheap or cheaper on that cost with a mean top-1 as high or higher.",
        "",
    ]
    tail = ["", f"Runs not in the table: {', '.join(missing)}."] if missing else []
    return "\n".join(head + front + tail) + "\n"


def write_report(plan: Plan, jobs: list[Job], out: Path) -> dict[str, Any]:
    from .tradeoff_plot import plot

    states = [state(j) for j in jobs]
    finished = [j for j, st in zip(jobs, states, strict=True) if st == "done"]
    missing = [f"{j.folder.name} ({st})" for j, st in zip(jobs, states, strict=True) if st != "done"]
    pts = study_points(plan, finished, out)
    table = rows(pts)
    files: dict[str, str | bytes] = {
        "study.md": markdown(plan, table, missing),
        "study.csv": to_csv(table),
        "study.json": json.dumps({"plan": str(plan.file), "points": table, "missing": missing}, indent=2),
    }
    for column, (stem, label, macs_axis) in AXES.items():
        for p in pts:
            p.x = p.first.macs if column == "macs" else p.extra[column]
        mark_pareto(pts)
        title = f"{plan.name}: best top-1 against {label.split(' (')[0]}"
        for fmt, data in plot(pts, frontier(pts), label, title, macs_axis).items():
            files[f"study-{stem}.{fmt}"] = data
    return {"points": table, "missing": missing, "files": write_files(out, files), "table": files["study.md"]}
