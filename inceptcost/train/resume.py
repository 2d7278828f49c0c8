"""A training run's checkpoint: what the Trainer saves at a step boundary and how it is put back (exactly)."""

from __future__ import annotations

import torch

from inceptcost.errors import literal
from inceptcost.train import ddp
from inceptcost.train.checkpoint import rng_state, save_checkpoint, set_rng_state, tensor_problem
from inceptcost.train.config import resume_changes, resume_settings
from inceptcost.train.errors import CheckpointError


def save(self) -> None:
    """Write `self`'s (a Trainer's) checkpoint: weights, optimizer, scheduler, position, sums, every rank's RNG."""
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


def restore(self, state: dict) -> None:
    """Put a checkpoint back into `self` (a Trainer), refusing changed settings unless allowed by name."""
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
        for name, like in self.model.state_dict().items():
            problem = tensor_problem(state["model"][name], like) if torch.is_tensor(state["model"].get(name)) else None
            if problem:
                raise CheckpointError(f"checkpoint {self.checkpoint_path}: the model's tensor '{name}' {problem}")
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
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise CheckpointError(
            f"checkpoint {self.checkpoint_path} does not match this run: {str(exc).splitlines()[0]}"
        ) from None
