"""Entry points of training: `train` runs one worker here or several (DDP) and turns their errors back into ours;
each worker runs a Trainer (train/loop.py) under a signal guard that stops it at a step boundary."""

from __future__ import annotations

import functools
import os

from torch.distributed.elastic.multiprocessing.errors import record

from inceptcost.errors import InceptcostError
from inceptcost.train import ddp
from inceptcost.train.config import TrainConfig
from inceptcost.train.errors import DivergedError, Interrupted, TrainError
from inceptcost.train.loop import Trainer
from inceptcost.train.progress import EventReporter, NullReporter, default_reporter
from inceptcost.train.stop import StopOnSignal


def train(config: TrainConfig, reporter_factory=None, progress=None) -> dict | None:
    """Train `config.spec`; returns the summary (summary.json's content), or None on the ranks other
    than 0 of an outer torchrun.

    `reporter_factory` is a module-level callable (it crosses process boundaries by name) that
    returns the Reporter used on rank 0; the default prints one plain line per epoch. `progress`, a
    callable, gets every phase, step and epoch as an `inceptcost.progress.Event` instead (picklable
    when there are several workers).
    """
    if progress is not None:
        reporter_factory = functools.partial(EventReporter, progress)
    config = config.validate()
    if config.compile:
        from inceptcost.graph.model.blocks import require_compiler

        require_compiler()
    if ddp.under_torchrun():  # an outer torchrun started us: join its group as one worker
        summary = run_worker(config, ddp.resolve_device(config.device), reporter_factory)
        return summary if os.environ.get("RANK", "0") == "0" else None
    device = "cuda" if config.gpus is not None else ddp.resolve_device(config.device)
    nproc = config.gpus or config.nproc or 1
    if device == "cuda":
        ddp.check_gpu_count(nproc)
    if config.batch_size % nproc:  # checked again per worker (an outer torchrun); here before any spawn
        raise TrainError(
            f"{{batch_size}} {config.batch_size} does not split evenly over {nproc} workers; use a multiple of {nproc}",
            settings=True,
        )
    if nproc == 1:
        return run_worker(config, device, reporter_factory)
    results = ddp.launch_local(nproc, _elastic_worker, config, device, reporter_factory)
    errors = [results[r] for r in sorted(results) if "error" in results[r]]
    if errors:  # the same class as in the worker, so callers can tell a diverged run from bad input
        first = errors[0]
        kind = {"diverged": DivergedError, "interrupted": Interrupted}.get(first["kind"], TrainError)
        raise kind(first["error"], **first["fields"])
    return results[0]["summary"]


@record  # a crash in a worker is reported to the launcher with its message
def _elastic_worker(config: TrainConfig, device: str, reporter_factory) -> dict:
    try:
        return {"summary": run_worker(config, device, reporter_factory)}
    except InceptcostError as exc:  # expected errors go back as data, not as a worker crash
        fields = {k: getattr(exc, k) for k in ("file", "line", "where", "hint", "settings")}
        kind = "diverged" if isinstance(exc, DivergedError) else "interrupted" if isinstance(exc, Interrupted) else ""
        return {"error": exc.message, "fields": fields, "kind": kind}


def run_worker(config: TrainConfig, device: str, reporter_factory=None) -> dict:
    ctx = ddp.setup(device)
    reporter = (reporter_factory or default_reporter)() if ctx.is_main else NullReporter()
    if config.tensorboard and ctx.is_main:
        from inceptcost.spec import load_spec
        from inceptcost.train.tensorboard import TensorBoardReporter

        reporter = TensorBoardReporter(reporter, config.run_dir(load_spec(config.spec).name), config.resume)
    try:
        with StopOnSignal() as stop:
            return Trainer(config, ctx, reporter, stop).fit()
    finally:
        reporter.close()
        ddp.teardown()
