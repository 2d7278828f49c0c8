"""The training loop: one Trainer per worker process; only rank 0 writes files or reports."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DistributedSampler

from inceptcost.errors import literal
from inceptcost.train import augment, ddp, records, resume
from inceptcost.train.checkpoint import load_checkpoint, size_limit
from inceptcost.train.config import TrainConfig
from inceptcost.train.data import load_data
from inceptcost.train.epoch_sums import EpochSums, hits
from inceptcost.train.errors import DivergedError, Interrupted, TrainError
from inceptcost.train.files import write_csv, write_json, write_yaml
from inceptcost.train.recipe import lr_factor
from inceptcost.train.stop import StopOnSignal

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


# --- the trainer -------------------------------------------------------------------------------------------


class Trainer:
    def __init__(self, config: TrainConfig, ctx: ddp.DistContext, reporter, stop: StopOnSignal | None = None):
        from inceptcost.analyze.costs import summarize
        from inceptcost.graph.compile import compile_graph
        from inceptcost.spec import load_spec

        self.config, self.ctx, self.reporter, self.recipe = config, ctx, reporter, config.recipe
        self.stop = stop or StopOnSignal()
        base = load_spec(config.spec)
        self.spec_sha256 = hashlib.sha256(Path(base.file).read_bytes()).hexdigest()  # load_spec read it: a file
        self.size = (int(base.input[1]), int(base.input[2]))
        self.run_dir = config.run_dir(base.name)
        self.checkpoint_path = self.run_dir / CHECKPOINT
        records.check_run_dir(self.run_dir, inputs=(Path(base.file), config.init))
        reporter.phase("loading data", f"loading {config.data}")
        self.data = self._load_data(base)
        # The data decides channels and classes; the spec keeps its resolution (images are resized).
        self.spec = dataclasses.replace(base, classes=self.data.classes, input=(self.data.channels, *self.size))
        graph = compile_graph(self.spec)  # once: the costs and the model are both read off it
        self.costs = summarize(graph)
        self.adapted = self._adapted(base, summarize, compile_graph)
        self.local_batch, self.steps_per_epoch = self._batches()
        self.amp = config.amp if config.amp is not None else ctx.device.type == "cuda"
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        if ctx.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self._check_memory(graph)
        self._data_to_device()
        reporter.phase("building", f"building {base.name}")
        self._build(graph)
        self.optimizer, self.scheduler = self._optimizer()
        self.epoch = self.step_in_epoch = self.global_step = 0
        self.sums = EpochSums(ctx.device)
        self.history: list[dict] = []
        self.started = time.perf_counter()

    def _batches(self) -> tuple[int, int]:
        """(the per-worker batch, steps per epoch): the batch splits evenly over the workers and fits the data."""
        world, batch = self.ctx.world_size, self.config.batch_size
        if batch % world:
            raise TrainError(
                f"{{batch_size}} {batch} does not split evenly over {world} workers; use a multiple of {world}",
                settings=True,
            )
        full = self.data.train_x.shape[0] // batch
        if full == 0:
            raise TrainError(
                f"{{batch_size}} {batch} is larger than the training set ({self.data.train_x.shape[0]} images)",
                settings=True,
            )
        return batch // world, min(full, self.config.steps_per_epoch or full)

    def _check_memory(self, graph) -> None:
        """The predicted training peak fits the device, before the data moves to it and the model takes any
        memory; on the CPU the data is already in memory (the free figure is what is left beside it), on a GPU
        it will be kept there beside the model."""
        from inceptcost.analyze.memory import Setup
        from inceptcost.train.bench.memory_check import check_memory

        dev, d = self.ctx.device, self.data
        dtype = "bf16" if self.amp else "fp32"
        setup = Setup.checked(self.local_batch, dtype, "train", "sgd", dev.type, self.config.channels_last)
        held = 0 if dev.type == "cpu" else sum(t.nbytes for t in (d.train_x, d.train_y, d.val_x, d.val_y))
        check_memory(graph, setup, dev, "batch_size", held, f"the data set {d.name}")

    def _data_to_device(self) -> None:
        """The training set whole, this rank's shard of the validation set, the normalization constants."""
        dev, ctx = self.ctx.device, self.ctx
        self.train_x, self.train_y = self.data.train_x.to(dev), self.data.train_y.to(dev)
        self.val_x = self.data.val_x[ctx.rank :: ctx.world_size].to(dev)  # disjoint shards: exact all-reduced metrics
        self.val_y = self.data.val_y[ctx.rank :: ctx.world_size].to(dev)
        mean, std = self.data.mean_std()
        self.mean, self.std = torch.tensor(mean, device=dev), torch.tensor(std, device=dev)

    def _build(self, graph) -> None:
        """The model (initial weights the same on every rank and world size, or loaded), wrapped in DDP and
        torch.compile as asked; then each rank's own seed for its dropout masks."""
        from inceptcost.graph.model import build_model

        config, ctx, dev = self.config, self.ctx, self.ctx.device
        torch.manual_seed(config.seed)  # identical initial weights for every rank and world size
        self.model = build_model(graph, aux=True, fast=config.fast)
        if config.init and not config.resume:
            from inceptcost.train.weights import load_weights

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

    def _optimizer(self):
        """SGD with weight decay on weights only (not biases or norm parameters), and the recipe's schedule."""
        decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim > 1]
        no_decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim <= 1]
        r = self.recipe
        optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": r.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=r.lr,
            momentum=r.momentum,
            nesterov=r.nesterov,
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            functools.partial(lr_factor, r, steps_per_epoch=self.steps_per_epoch, total_epochs=self.config.epochs),
        )
        return optimizer, scheduler

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
            resume.restore(self, load_checkpoint(self.checkpoint_path, limit=size_limit(self.model)))
        elif self.checkpoint_path.exists():
            raise TrainError(
                f"{literal(self.run_dir)} already holds a run (checkpoint.pt); pass {{resume}} to continue "
                "it or {out} to start a new one",
                settings=True,
            )
        if self.ctx.is_main:
            if self.adapted:
                self.reporter.message(self.adapted["note"])
            write_yaml(self.run_dir / "config.yaml", records.config_record(self))
            if cfg.resume:
                self.reporter.message(
                    f"resumed {self.checkpoint_path} at epoch {self.epoch + 1}, "
                    f"step {self.step_in_epoch}/{self.steps_per_epoch}"
                )
        for epoch in range(self.epoch, cfg.epochs):
            self._train_epoch(epoch)
        summary = records.summary(self, "completed")
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
                resume.save(self)
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
        resume.save(self)
        if ctx.is_main:
            write_csv(self.run_dir / "metrics.csv", self.history, METRIC_COLUMNS)
            write_json(self.run_dir / "summary.json", records.summary(self, "running"))
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
        resume.save(self)
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
            top1, top5 = hits(logits, y)
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
            write_json(self.run_dir / "summary.json", records.summary(self, "diverged"))
        raise DivergedError(
            f"loss became NaN or infinite in epoch {epoch + 1} (by step {self.step_in_epoch}, "
            f"lr {self.optimizer.param_groups[0]['lr']:.4g}); training stopped and {where}",
            settings=True,
        )
