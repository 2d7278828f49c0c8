"""Run a plan: every (spec, seed) trains into `runs/SPEC-sSEED`, resumably.

A finished run with the plan's settings is skipped; one with other settings is refused (move it away or restore
the plan); an interrupted run resumes from its checkpoint; a run that diverged is recorded and not retried.
Settings are compared as `--resume` compares them: the spec file's SHA-256, data, epochs, batch size, seed and
every recipe key, read from the run's config.yaml.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InceptcostError
from ..io import usable_cpus
from ..spec.yamlsafe import load_yaml
from ..train.config import RUN_FIELDS, TrainConfig, resume_changes, resume_settings
from ..train.recipe import recipe_from_dict
from .plan import Plan, PlanError, plan_error
from .results import read_json
from .widths import width_specs


@dataclass(frozen=True)
class Job:
    spec: Path
    seed: int
    folder: Path
    config: TrainConfig


def jobs(plan: Plan, out: Path, write: bool = True) -> list[Job]:
    """Every (spec, seed) of the plan, seed by seed (so that an early stop leaves whole seeds). The width sweep's
    specs are written into `out/specs` unless `write` is False (a dry run)."""
    from ..spec import load_spec

    recipe = recipe_from_dict(plan.recipe, source="the plan's recipe", file=str(plan.file))
    specs = [(s, load_spec(s).name) for s in plan.specs]
    if plan.width_base is not None:
        specs += width_specs(plan.width_base, list(plan.widths), out / "specs", write)
    names: dict[str, Path] = {}
    for s, name in specs:
        if name in names and names[name] != s:
            raise PlanError(
                f"two specs are named '{name}' ({names[name]}, {s})", file=str(plan.file), hint="rename one"
            )
        names[name] = s
    out_jobs = []
    for seed in plan.seeds:
        for name, s in names.items():
            folder = out / "runs" / f"{name}-s{seed}"
            config = TrainConfig(
                spec=str(s),
                data=plan.data,
                epochs=plan.epochs,
                batch_size=plan.batch_size,
                device=plan.device,
                gpus=plan.gpus,
                seed=seed,
                out=str(folder),
                recipe=recipe,
            )
            out_jobs.append(Job(s, seed, folder, config))
    return out_jobs


def state(job: Job) -> str:
    """done | diverged (both skipped), resume, or new; refuses a finished run made with other settings."""
    summary_path = job.folder / "summary.json"
    status = None
    if summary_path.is_file():
        summary = read_json(summary_path, "summary.json")
        status = summary.get("status") if isinstance(summary, dict) else None
    if status in ("completed", "diverged"):
        changed = resume_changes(_recorded(job), _wanted(job))
        if changed:
            raise PlanError(
                f"{job.folder} was trained with other settings ({', '.join(changed)})",
                hint="move the run folder away to retrain it, or restore the plan",
            )
        return "done" if status == "completed" else "diverged"
    if (job.folder / "checkpoint.pt").is_file():
        return "resume"
    return "new"


# config.yaml records the steps an epoch really took, not the cap; a plan sets no cap, so it is not compared.
_NOT_COMPARED = ("steps_per_epoch",)


def _wanted(job: Job) -> dict:
    sha = hashlib.sha256(job.spec.read_bytes()).hexdigest()
    return _plain(resume_settings(job.config, sha))


def _recorded(job: Job) -> dict:
    """The settings in the run's config.yaml, in resume_settings' form."""
    data, _ = load_yaml(job.folder / "config.yaml", kind="run config", error=PlanError)
    try:
        run, recipe, spec = data["run"], data["recipe"], data["spec"]
        return _plain(
            {
                "spec": spec.get("sha256"),
                **{k: run[k] for k in RUN_FIELDS if k not in ("spec", *_NOT_COMPARED)},
                **recipe,
            }
        )
    except (KeyError, TypeError, AttributeError):
        raise PlanError("config.yaml lacks the run's settings", file=str(job.folder / "config.yaml")) from None


def _plain(d: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items() if k not in _NOT_COMPARED}


def run_plan(
    plan: Plan,
    out: Path,
    say: Callable[[str], None] = lambda _: None,
    reporter_factory=None,
    parallel: int = 1,
) -> list[Job]:
    """Train what the plan still lacks; returns the jobs. `say` gets one line per run (skipped, resumed, started,
    finished). `parallel` > 1 trains that many CPU runs at a time, each in a process of its own with the plan's
    threads or an equal share of the cores (small nets keep one core busy better than several)."""
    from dataclasses import replace

    from ..train.data import check_source

    todo = jobs(plan, out)
    states = [state(j) for j in todo]  # every refusal before the first run starts
    try:
        check_source(plan.data)
        for job in todo:
            job.config.validate()
    except InceptcostError as exc:
        raise plan_error(plan, exc) from None
    pending = []
    for i, (job, st) in enumerate(zip(todo, states, strict=True), 1):
        where = f"[{i}/{len(todo)}] {job.folder.name}"
        if st in ("done", "diverged"):
            say(f"{where}: {'finished' if st == 'done' else 'diverged'} before, skipped")
        else:
            pending.append((where, replace(job.config, resume=st == "resume"), st))
    if parallel > usable_cpus():
        raise PlanError(
            f"--parallel {parallel} is more than the {usable_cpus()} CPUs this machine gives the study",
            hint=f"give --parallel {usable_cpus()} or fewer",
        )
    if parallel > 1 and plan.device != "cpu":
        raise PlanError(f"--parallel {parallel} trains CPU runs side by side", hint="set device: cpu, or --parallel 1")
    if parallel <= 1:
        for where, config, st in pending:
            say(f"{where}: {'resuming' if st == 'resume' else 'training'}")
            try:
                say(f"{where}: {_train_one(config, plan.threads, reporter_factory)}")
            except InceptcostError as exc:
                raise plan_error(plan, exc) from None
        return todo
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    threads = plan.threads or max(1, (os.cpu_count() or 1) // parallel)
    with ProcessPoolExecutor(parallel, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [(where, pool.submit(_train_one, config, threads, None)) for where, config, _ in pending]
        for where, _ in futures:
            say(f"{where}: queued ({parallel} at a time, {threads} thread(s) each)")
        for where, future in futures:
            try:
                say(f"{where}: {future.result()}")
            except InceptcostError as exc:
                raise plan_error(plan, exc) from None
    return todo


def _train_one(config: TrainConfig, threads: int | None, reporter_factory) -> str:
    """One run (in this process, or in a worker of the pool); a diverged run is an outcome, not a failure."""
    from ..train import train
    from ..train.errors import DivergedError

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    try:
        summary = train(config, reporter_factory=reporter_factory)
    except DivergedError as exc:
        return f"diverged ({exc.message}); recorded, the study goes on"
    return f"finished: best top-1 {summary['best_val_top1']:.2f}% in {summary['total_seconds']:.0f} s"
