"""`train --tensorboard`: TensorBoard event files in the run folder, beside metrics.csv, written on rank 0 by a
Reporter that passes every call on to the one it wraps. `tensorboard --logdir reports/runs` shows each run.

Scalars, all at the global optimizer step: `step/loss`, `step/images_per_s`, `step/lr` at each log step (the
loss is the mean over the steps since the last one), and `epoch/*` for every column of metrics.csv at each
epoch's end. The model graph is not written: torch's writer traces it with torch.jit, which torch deprecates.
A resumed run drops the events logged after its checkpoint (TensorBoard's purge_step)."""

from __future__ import annotations

from inceptcost.errors import ToolMissing

EPOCH_TAGS = ("train_loss", "train_top1", "train_top5", "val_loss", "val_top1", "val_top5", "lr")
EPOCH_TAGS += ("images_per_s", "epoch_seconds")


def require_tensorboard() -> None:
    """Before any work: torch's SummaryWriter needs the tensorboard package."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ToolMissing(
            "{tensorboard} needs the tensorboard package, which is not installed",
            hint="pip install 'inceptcost[tensorboard]'",
            settings=True,
        ) from None


class TensorBoardReporter:
    """Tees the loop's Reporter calls into event files in `run_dir` (opened at the first epoch)."""

    def __init__(self, inner, run_dir, resume: bool) -> None:
        self.inner, self.run_dir, self.resume = inner, run_dir, resume
        self.writer = None
        self.epoch = self.steps = 0

    def phase(self, name, text=""):
        self.inner.phase(name, text)

    def start_epoch(self, epoch, epochs, steps, first_step):
        self.epoch, self.steps = epoch, steps
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            # resumed: the events of the steps after the checkpoint's (a crash's leftovers) are dropped
            purge = epoch * steps + first_step + 1 if self.resume else None
            self.writer = SummaryWriter(log_dir=str(self.run_dir), purge_step=purge)
        self.inner.start_epoch(epoch, epochs, steps, first_step)

    def tick(self, step):
        self.inner.tick(step)

    def step(self, step, loss, images_per_s, lr):
        at = self.epoch * self.steps + step
        for tag, value in (("loss", loss), ("images_per_s", images_per_s), ("lr", lr)):
            self.writer.add_scalar(f"step/{tag}", value, at)
        self.inner.step(step, loss, images_per_s, lr)

    def end_epoch(self, row):
        for tag in EPOCH_TAGS:
            self.writer.add_scalar(f"epoch/{tag}", row[tag], row["step"])
        self.writer.flush()  # an epoch is on disk when its checkpoint is
        self.inner.end_epoch(row)

    def message(self, text):
        self.inner.message(text)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.inner.close()
