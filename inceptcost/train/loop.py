"""The training loop: one Trainer per worker process; only rank 0 writes files or reports."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import platform
import signal
import statistics
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributed.elastic.multiprocessing.errors import record
from torch.utils.data import DistributedSampler

from inceptcost.errors import InceptcostError, literal
from inceptcost.train import augment, ddp
from inceptcost.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from inceptcost.train.config import TrainConfig, resume_changes, resume_settings
from inceptcost.train.data import load_data
from inceptcost.train.errors import CheckpointError, DivergedError, Interrupted, TrainError
from inceptcost.train.files import write_csv, write_json, write_yaml
from inceptcost.train.progress import EventReporter, NullReporter, default_reporter
from inceptcost.train.recipe import lr_factor

METRIC_COLUMNS = [
    "epoch",
    "step",
    "lr",
    "train_loss",
    "train_top1",
    "train_top5",
    "val_loss",
    "val_top1",
    "val_top5",
    "images_per_s",
    "epoch_seconds",
]
CHECKPOINT = "checkpoint.pt"


# --- entry points ------------------------------------------------------------------------------------------


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
        from inceptcost.nn import require_compiler

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


class StopOnSignal:
    """Ctrl-C and SIGTERM ask the trainer to stop at the next step boundary, where it saves a checkpoint (a
    checkpoint taken there resumes exactly). A second Ctrl-C stops at once. In a terminal every worker gets
    the Ctrl-C, and the launcher passes it on too: all of them only set this flag."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


# --- running sums of one epoch -----------------------------------------------------------------------------


class EpochSums:
    """Loss and hit counts summed on the device (no host sync per step)."""

    FIELDS = ("loss", "top1", "top5", "count", "nonfinite", "seconds")

    def __init__(self, device: torch.device):
        self.t = torch.zeros(len(self.FIELDS), dtype=torch.float64, device=device)

    def add(self, loss: torch.Tensor, total: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        top1, top5 = _hits(logits, y)
        n = y.numel()
        self.t[:5] += torch.stack(
            [loss.double() * n, top1, top5, self.t.new_tensor(n), (~torch.isfinite(total)).double()]
        )

    def global_totals(self, ctx: ddp.DistContext) -> torch.Tensor:
        return ddp.all_reduce_sum(self.t.clone(), ctx)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.t[self.FIELDS.index(name)]


def _hits(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    k = min(5, logits.shape[1])
    top = logits.topk(k, dim=1).indices
    match = top == y[:, None]
    return match[:, 0].sum().double(), match.any(dim=1).sum().double()


# --- the trainer -------------------------------------------------------------------------------------------


class Trainer:
    def __init__(self, config: TrainConfig, ctx: ddp.DistContext, reporter, stop: StopOnSignal | None = None):
        from inceptcost.analyze.costs import summarize
        from inceptcost.graph.compile import compile_graph
        from inceptcost.graph.model import build_model
        from inceptcost.spec import load_spec

        self.config, self.ctx, self.reporter, self.recipe = config, ctx, reporter, config.recipe
        self.stop = stop or StopOnSignal()
        base = load_spec(config.spec)
        self.spec_sha256 = hashlib.sha256(Path(base.file).read_bytes()).hexdigest()  # load_spec read it: a file
        self.size = (int(base.input[1]), int(base.input[2]))
        reporter.phase("loading data", f"loading {config.data}")
        self.data = self._load_data(base)
        # The data decides channels and classes; the spec keeps its resolution (images are resized).
        self.spec = dataclasses.replace(base, classes=self.data.classes, input=(self.data.channels, *self.size))
        graph = compile_graph(self.spec)  # once: the costs and the model are both read off it
        self.costs = summarize(graph)
        self.adapted = self._adapted(base, summarize, compile_graph)
        self.run_dir = config.run_dir(self.spec.name)
        self.checkpoint_path = self.run_dir / CHECKPOINT
        _check_run_dir(self.run_dir)

        world, batch = ctx.world_size, config.batch_size
        if batch % world:
            raise TrainError(
                f"{{batch_size}} {batch} does not split evenly over {world} workers; use a multiple of {world}",
                settings=True,
            )
        self.local_batch = batch // world
        full = self.data.train_x.shape[0] // batch
        if full == 0:
            raise TrainError(
                f"{{batch_size}} {batch} is larger than the training set ({self.data.train_x.shape[0]} images)",
                settings=True,
            )
        self.steps_per_epoch = min(full, config.steps_per_epoch or full)
        self.amp = config.amp if config.amp is not None else ctx.device.type == "cuda"
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format

        dev = ctx.device
        if dev.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.train_x, self.train_y = self.data.train_x.to(dev), self.data.train_y.to(dev)
        self.val_x = self.data.val_x[ctx.rank :: world].to(dev)  # disjoint shards: exact all-reduced metrics
        self.val_y = self.data.val_y[ctx.rank :: world].to(dev)
        mean, std = self.data.mean_std()
        self.mean, self.std = torch.tensor(mean, device=dev), torch.tensor(std, device=dev)

        from inceptcost.analyze.memory import Setup
        from inceptcost.graph.model import check_memory

        dtype = "bf16" if self.amp else "fp32"
        setup = Setup.checked(self.local_batch, dtype, "train", "sgd", dev.type, config.channels_last)
        check_memory(graph, setup, dev, "batch_size")  # before the model takes any memory
        reporter.phase("building", f"building {base.name}")
        torch.manual_seed(config.seed)  # identical initial weights for every rank and world size
        self.model = build_model(graph, aux=True, fast=config.fast)
        if config.init and not config.resume:
            from inceptcost.interop.weights import load_weights

            load_weights(self.model, config.init, config.reset_head)
        self.model = self.model.to(dev, memory_format=self.memory_format)
        aux = list(getattr(self.model, "aux_weights", None) or [])
        self.aux_weights = [self.recipe.aux_weight] * len(aux) if self.recipe.aux_weight is not None else aux
        net = self.model
        if ctx.distributed:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(self.model, device_ids=[dev.index] if dev.type == "cuda" else None)
        self.net = torch.compile(net) if config.compile else net
        self.compile_pending = config.compile
        torch.manual_seed(config.seed * 7919 + ctx.rank + 1)  # per-rank dropout masks

        decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim > 1]
        no_decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim <= 1]
        r = self.recipe
        self.optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": r.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=r.lr,
            momentum=r.momentum,
            nesterov=r.nesterov,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            functools.partial(lr_factor, r, steps_per_epoch=self.steps_per_epoch, total_epochs=config.epochs),
        )

        self.epoch = self.step_in_epoch = self.global_step = 0
        self.sums = EpochSums(dev)
        self.history: list[dict] = []
        self.started = time.perf_counter()

    def _adapted(self, base, summarize, compile_graph) -> dict | None:
        """What the data changed in the spec (first layer's channels, classifier's classes), for the run's line
        and summary.json: the trained net's params and MACs then differ from the spec as written."""
        if (self.spec.input[0], self.spec.classes) == (base.input[0], base.classes):
            return None
        declared = summarize(compile_graph(base))
        note = (
            f"note: {self.data.name} has {self.spec.input[0]} channel(s) and {self.spec.classes} classes, the spec"
            f" {base.input[0]} and {base.classes}: trained as the data's, {self.costs['params']:,} params and"
            f" {self.costs['macs']:,} MACs (the spec as written: {declared['params']:,} and {declared['macs']:,})"
        )
        return {
            "channels": [base.input[0], self.spec.input[0]],
            "classes": [base.classes, self.spec.classes],
            "spec_params": int(declared["params"]),
            "spec_macs": int(declared["macs"]),
            "note": note,
        }

    def _load_data(self, spec):
        kwargs = dict(
            size=self.size, channels=int(spec.input[0]), classes=int(spec.classes), download=self.config.download
        )
        if not (self.config.download and self.ctx.distributed):
            return load_data(self.config.data, **kwargs)
        import torch.distributed as dist  # rank 0 downloads, the others wait and then read

        data = load_data(self.config.data, **kwargs) if self.ctx.is_main else None
        dist.barrier()
        return data if data is not None else load_data(self.config.data, **kwargs)

    # --- run --------------------------------------------------------------------------------------------

    def fit(self) -> dict:
        cfg = self.config
        if cfg.resume:
            self._restore(load_checkpoint(self.checkpoint_path))
        elif self.checkpoint_path.exists():
            raise TrainError(
                f"{literal(self.run_dir)} already holds a run (checkpoint.pt); pass {{resume}} to continue "
                "it or {out} to start a new one",
                settings=True,
            )
        if self.ctx.is_main:
            if self.adapted:
                self.reporter.message(self.adapted["note"])
            write_yaml(self.run_dir / "config.yaml", self._config_record())
            if cfg.resume:
                self.reporter.message(
                    f"resumed {self.checkpoint_path} at epoch {self.epoch + 1}, "
                    f"step {self.step_in_epoch}/{self.steps_per_epoch}"
                )
        for epoch in range(self.epoch, cfg.epochs):
            self._train_epoch(epoch)
        summary = self._summary("completed")
        if self.ctx.is_main:
            write_json(self.run_dir / "summary.json", summary)
        return summary

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        """This rank's sample indices: the DistributedSampler order, reshuffled by set_epoch."""
        sampler = DistributedSampler(
            range(self.train_x.shape[0]),
            num_replicas=self.ctx.world_size,
            rank=self.ctx.rank,
            shuffle=True,
            seed=self.config.seed,
        )
        sampler.set_epoch(epoch)
        return torch.tensor(list(sampler), dtype=torch.int64)

    def _train_epoch(self, epoch: int) -> None:
        cfg, ctx, b = self.config, self.ctx, self.local_batch
        order = self._epoch_order(epoch).to(ctx.device)
        self.net.train()
        self.reporter.start_epoch(epoch, cfg.epochs, self.steps_per_epoch, self.step_in_epoch)
        if self.compile_pending:  # torch.compile compiles lazily, in the first steps
            self.reporter.phase("compiling", "compiling (torch.compile) in the first steps")
            self.compile_pending = False
        t0 = window_t0 = time.perf_counter()
        window_loss = torch.zeros((), dtype=torch.float64, device=ctx.device)
        window_steps = 0
        for step in range(self.step_in_epoch, self.steps_per_epoch):
            idx = order[step * b : (step + 1) * b]
            x, y = self._augmented(idx, epoch, step), self.train_y[idx]
            loss, total, logits = self._train_step(x, y)
            self.sums.add(loss, total, logits, y)
            window_loss += loss.double()
            window_steps += 1
            self.global_step += 1
            self.step_in_epoch = step + 1
            self.reporter.tick(self.step_in_epoch)
            last = step + 1 == self.steps_per_epoch
            if self.step_in_epoch % cfg.log_every == 0 or last:
                self._check_finite(epoch)
                now = time.perf_counter()
                rate = window_steps * cfg.batch_size / max(now - window_t0, 1e-9)
                self.reporter.step(
                    self.step_in_epoch, window_loss.item() / window_steps, rate, self.optimizer.param_groups[0]["lr"]
                )
                window_loss.zero_()
                window_t0, window_steps = now, 0
            # One process looks at its flag every step; workers agree on it where they synchronize anyway.
            if not last and (self.step_in_epoch % cfg.log_every == 0 or not ctx.distributed) and self._stopping():
                self._interrupt(epoch, t0)
            if cfg.save_every and self.global_step % cfg.save_every == 0 and not last:
                self._check_finite(epoch, weights=True)
                self.sums.t[5] += time.perf_counter() - t0
                t0 = time.perf_counter()
                self._save()
        self._check_finite(epoch, weights=True)
        self.sums.t[5] += time.perf_counter() - t0
        tr = self.sums.global_totals(ctx).tolist()
        train_seconds = tr[5] / ctx.world_size  # every rank added its own wall time
        val_start = time.perf_counter()
        self.reporter.phase("evaluating", f"epoch {epoch + 1}/{cfg.epochs}: evaluating")
        val = self.evaluate()
        count = max(tr[3], 1.0)
        images = self.steps_per_epoch * cfg.batch_size
        row = {
            "epoch": epoch,
            "step": self.global_step,
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_loss": tr[0] / count,
            "train_top1": 100 * tr[1] / count,
            "train_top5": 100 * tr[2] / count,
            **val,
            "images_per_s": images / max(train_seconds, 1e-9),
            "epoch_seconds": train_seconds + time.perf_counter() - val_start,
        }
        self.history.append(row)
        self.epoch, self.step_in_epoch = epoch + 1, 0
        self.sums = EpochSums(ctx.device)
        self._save()
        if ctx.is_main:
            write_csv(self.run_dir / "metrics.csv", self.history, METRIC_COLUMNS)
            write_json(self.run_dir / "summary.json", self._summary("running"))
        self.reporter.end_epoch(row)
        if epoch + 1 < cfg.epochs and self._stopping():
            raise Interrupted(self._interrupted_message(), settings=True)

    def _stopping(self) -> bool:
        """Whether any worker was asked to stop (every worker calls this at the same steps)."""
        if not self.ctx.distributed:
            return self.stop.requested
        flag = torch.tensor([float(self.stop.requested)], dtype=torch.float64, device=self.ctx.device)
        return ddp.all_reduce_sum(flag, self.ctx).item() > 0

    def _interrupt(self, epoch: int, t0: float) -> None:
        self._check_finite(epoch, weights=True)
        self.sums.t[5] += time.perf_counter() - t0
        self._save()
        raise Interrupted(self._interrupted_message(), settings=True)

    def _interrupted_message(self) -> str:
        where = (
            f"in epoch {self.epoch + 1} at step {self.step_in_epoch}/{self.steps_per_epoch}"
            if self.step_in_epoch
            else f"after epoch {self.epoch}"
        )
        return (
            f"interrupted {where}; saved {literal(self.checkpoint_path)}; continue with the same command and {{resume}}"
        )

    def _augmented(self, idx: torch.Tensor, epoch: int, step: int) -> torch.Tensor:
        ctx = self.ctx
        if self.recipe.augment:
            # Drawn for the global batch, each rank keeps its rows: see augment.py.
            gen = augment.step_generator(self.config.seed, epoch, step)
            params = augment.sample_params(self.config.batch_size, self.recipe, gen)[ctx.rank :: ctx.world_size]
        else:
            params = augment.no_augment_params(idx.numel())
        x = augment.train_batch(self.train_x[idx], params, self.size, self.mean, self.std)
        return x.contiguous(memory_format=self.memory_format)

    def _train_step(self, x: torch.Tensor, y: torch.Tensor):
        smoothing = self.recipe.label_smoothing
        with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=self.amp):
            out = self.net(x)
        logits, aux = (out[0], out[1]) if isinstance(out, (tuple, list)) else (out, [])
        loss = F.cross_entropy(logits.float(), y, label_smoothing=smoothing)
        total = loss
        for weight, aux_logits in zip(self.aux_weights, aux, strict=True):
            total = total + weight * F.cross_entropy(aux_logits.float(), y, label_smoothing=smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()  # autocast is bf16 only, which needs no loss scaling
        if self.recipe.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.recipe.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        return loss.detach(), total.detach(), logits.detach()

    @torch.no_grad()
    def evaluate(self) -> dict:
        self.model.eval()
        sums = torch.zeros(4, dtype=torch.float64, device=self.ctx.device)
        for i in range(0, self.val_x.shape[0], self.config.eval_batch_size):
            x = augment.eval_batch(self.val_x[i : i + self.config.eval_batch_size], self.size, self.mean, self.std)
            y = self.val_y[i : i + self.config.eval_batch_size]
            with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=self.amp):
                logits = self.model(x.contiguous(memory_format=self.memory_format)).float()
            top1, top5 = _hits(logits, y)
            sums += torch.stack(
                [F.cross_entropy(logits, y, reduction="sum").double(), top1, top5, sums.new_tensor(y.numel())]
            )
        self.model.train()
        loss, top1, top5, n = ddp.all_reduce_sum(sums, self.ctx).tolist()
        n = max(n, 1.0)
        return {"val_loss": loss / n, "val_top1": 100 * top1 / n, "val_top5": 100 * top5 / n}

    def _check_finite(self, epoch: int, weights: bool = False) -> None:
        """All ranks stop together on a NaN/inf loss; before a checkpoint the weights are checked too
        (the step after the last finite loss may already have broken them)."""
        bad = self.sums["nonfinite"].clone()
        if weights:
            bad += sum((~torch.isfinite(p)).any().double() for p in self.model.parameters())
        bad = ddp.all_reduce_sum(bad, self.ctx).item()
        if bad == 0:
            return
        where = (
            f"the last good checkpoint {literal(self.checkpoint_path)} is kept; continue it with a lower learning "
            f"rate: {{resume}} {{lr}} {self.recipe.lr / 10:g} {{allow_change}} lr (or {{grad_clip}} 1 "
            "{allow_change} grad_clip)"
            if self.checkpoint_path.exists()
            else "no checkpoint was written yet"
        )
        if self.ctx.is_main:
            write_json(self.run_dir / "summary.json", self._summary("diverged"))
        raise DivergedError(
            f"loss became NaN or infinite in epoch {epoch + 1} (by step {self.step_in_epoch}, "
            f"lr {self.optimizer.param_groups[0]['lr']:.4g}); training stopped and {where}",
            settings=True,
        )

    # --- checkpoints -----------------------------------------------------------------------------------------

    def _save(self) -> None:
        rngs = ddp.gather_objects(rng_state(), self.ctx)  # every rank's dropout stream
        totals = self.sums.global_totals(self.ctx).cpu()
        if not self.ctx.is_main:
            return
        save_checkpoint(
            self.checkpoint_path,
            {
                "config": self.config.to_dict(),
                "spec_name": self.spec.name,
                "resume": resume_settings(self.config, self.spec_sha256),
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "epoch": self.epoch,
                "step_in_epoch": self.step_in_epoch,
                "global_step": self.global_step,
                "epoch_sums": totals,
                "history": self.history,
                "rng": rngs,
                "world_size": self.ctx.world_size,
            },
        )

    def _restore(self, state: dict) -> None:
        try:
            old, now = state["resume"], resume_settings(self.config, self.spec_sha256)
            refused = [k for k in resume_changes(old, now) if k not in self.config.allow_change]
            if refused:
                shown = ", ".join(
                    f"spec {self.config.spec} (content changed)" if k == "spec" else f"{k} {old[k]!r} -> {now[k]!r}"
                    for k in refused
                )
                raise CheckpointError(
                    f"{{resume}}: {literal(self.run_dir)} was started with other settings: {literal(shown)}; pass "
                    f"{{allow_change}} {','.join(refused)} to continue with the new ones, or {{out}} to start a new run",
                    settings=True,
                )
            # The optimizer's and scheduler's states hold the hyper-parameters they were built with: keep the
            # recipe's (an allowed change of lr, momentum or weight decay takes effect) and recompute this
            # step's lr from the schedule (an allowed change of epochs or schedule too).
            recipe_groups = [{k: v for k, v in g.items() if k != "params"} for g in self.optimizer.param_groups]
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            for group, fresh in zip(self.optimizer.param_groups, recipe_groups, strict=True):
                group.update(fresh)
            self.scheduler.base_lrs = [g["initial_lr"] for g in self.optimizer.param_groups]
            for group, base, factor in zip(
                self.optimizer.param_groups, self.scheduler.base_lrs, self.scheduler.lr_lambdas, strict=True
            ):
                group["lr"] = base * factor(self.scheduler.last_epoch)
            self.epoch, self.step_in_epoch = int(state["epoch"]), int(state["step_in_epoch"])
            self.global_step = int(state["global_step"])
            self.history = [dict(r) for r in state["history"]]
            if self.ctx.is_main:  # the sums so far of a half-done epoch, counted once
                self.sums.t.copy_(state["epoch_sums"].to(self.sums.t))
            rngs = state["rng"]
            set_rng_state(rngs[self.ctx.rank] if len(rngs) == self.ctx.world_size else rngs[0])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(
                f"checkpoint {self.checkpoint_path} does not match this run: {str(exc).splitlines()[0]}"
            ) from None

    # --- records ---------------------------------------------------------------------------------------------

    def _config_record(self) -> dict:
        s = self.spec
        return {
            "spec": {
                "name": s.name,
                "file": str(s.file),
                "sha256": self.spec_sha256,
                "input": list(s.input),
                "classes": s.classes,
            },
            "data": {**self.data.describe(), "resized_to": list(self.size)},
            "recipe": self.recipe.to_dict(),
            "run": {k: v for k, v in self.config.to_dict().items() if k != "recipe"}
            | {"steps_per_epoch": self.steps_per_epoch, "per_worker_batch": self.local_batch, "amp": self.amp},
            "device": self._device_record(),
            "versions": {
                "python": platform.python_version(),
                "torch": str(torch.__version__),
                "numpy": np.__version__,
                "inceptcost": _version(),
            },
        }

    def _device_record(self) -> dict:
        dev = self.ctx.device
        name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else (platform.processor() or "cpu")
        return {
            "type": dev.type,
            "name": name,
            "world_size": self.ctx.world_size,
            "backend": self.ctx.backend,
            "threads": torch.get_num_threads(),
        }

    def _summary(self, status: str) -> dict:
        h = self.history
        best = max(h, key=lambda r: r["val_top1"]) if h else None
        return {
            "spec": self.spec.name,
            "spec_file": str(self.spec.file),
            "data": self.data.name,
            "status": status,
            "params": int(self.costs["params"]),
            "params_aux": int(self.costs.get("params_aux", 0)),
            "macs": int(self.costs["macs"]),
            "macs_aux": int(self.costs.get("macs_aux", 0)),
            "adapted_to_data": self.adapted,  # None when the data fits the spec as written
            "epochs": len(h),
            "steps": self.global_step,
            "best_val_top1": best["val_top1"] if best else None,
            "best_epoch": best["epoch"] + 1 if best else None,
            "final_val_top1": h[-1]["val_top1"] if h else None,
            "final_val_top5": h[-1]["val_top5"] if h else None,
            "total_seconds": sum(r["epoch_seconds"] for r in h),
            # the median epoch, so that the first epoch's warm-up (cuDNN autotuning, lazy init) does not count
            "images_per_s": statistics.median(r["images_per_s"] for r in h) if h else None,
            "device": self._device_record()["name"],
            "device_type": self.ctx.device.type,
            "world_size": self.ctx.world_size,
            "amp": "bf16" if self.amp else None,
            "channels_last": self.config.channels_last,
            "compile": self.config.compile,
            "seed": self.config.seed,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds") if status == "completed" else None,
        }


def _check_run_dir(run_dir: Path) -> None:
    """The run folder is a folder, or can be made as one, before the first epoch (nothing is created here)."""
    from inceptcost.errors import OutputError

    if run_dir.exists() and not run_dir.is_dir():
        raise OutputError("is a file, not a run folder", file=str(run_dir), hint="give {out} a folder", settings=True)
    existing = run_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"cannot make the run folder under the file {literal(existing)}",
            file=str(run_dir),
            hint="give {out} a folder",
            settings=True,
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write in {literal(existing)} (permission denied)",
            file=str(run_dir),
            hint="choose a writable folder",
        )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inceptcost")
    except PackageNotFoundError:
        return "unknown"
