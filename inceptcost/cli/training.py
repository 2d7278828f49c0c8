"""train: a spec trained on a data set (DDP over local workers), with a progress bar on a terminal."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .common import check_out_dir, user_errors


def train_reporter():
    """Made in the rank-0 worker (a module-level function, so it crosses the spawn by name): a bar on stderr
    when it is a terminal (cli/progress.py), else one plain line per epoch."""
    from ..train.progress import EventReporter, PlainReporter
    from .progress import TerminalProgress, wanted

    return EventReporter(TerminalProgress()) if wanted(quiet=False) else PlainReporter()


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Schedule(str, Enum):
    step = "step"
    cosine = "cosine"
    constant = "constant"


def train(
    spec: Annotated[Path, typer.Argument(help="YAML spec file, or a shipped spec by name")] = Path("variant"),
    data: Annotated[
        str, typer.Option(help="digits | digits-clutter | synthetic[:N] | imagefolder:PATH | cifar10:PATH")
    ] = "digits",
    epochs: Annotated[int, typer.Option(help="epochs to train (in total, counting resumed ones)")] = 10,
    batch_size: Annotated[int, typer.Option(help="global batch, split over the workers")] = 64,
    lr: Annotated[float | None, typer.Option(help="base learning rate (recipe: 0.05)")] = None,
    gpus: Annotated[int | None, typer.Option(help="local GPU workers (DDP, NCCL)")] = None,
    nproc: Annotated[int | None, typer.Option(help="local CPU workers (DDP, gloo), with --device cpu")] = None,
    device: Annotated[Device, typer.Option(help="where to train")] = Device.auto,
    amp: Annotated[
        bool | None, typer.Option("--amp/--no-amp", help="bf16 autocast (default: on for cuda, off for cpu)")
    ] = None,
    channels_last: Annotated[bool, typer.Option(help="NHWC memory format")] = False,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model")] = False,
    fast: Annotated[bool, typer.Option("--fast", help="the fast build of the same model (same checkpoints)")] = False,
    out: Annotated[Path | None, typer.Option(help="run folder (default: reports/runs/SPEC-DATA)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the run in --out from its checkpoint")] = False,
    seed: Annotated[int, typer.Option(help="seed of weights, data order, crops and dropout")] = 0,
    recipe: Annotated[Path | None, typer.Option(help="YAML recipe (keys of inceptcost.train.Recipe)")] = None,
    schedule: Annotated[Schedule | None, typer.Option(help="lr schedule (recipe: step, the paper's)")] = None,
    warmup_epochs: Annotated[float | None, typer.Option(help="linear lr warm-up")] = None,
    label_smoothing: Annotated[float | None, typer.Option(help="label smoothing")] = None,
    weight_decay: Annotated[float | None, typer.Option(help="L2 weight decay (not on biases/norms)")] = None,
    grad_clip: Annotated[float | None, typer.Option(help="clip the global grad norm to this")] = None,
    save_every: Annotated[int, typer.Option(help="also checkpoint every K steps (0: epoch ends only)")] = 0,
    steps_per_epoch: Annotated[int | None, typer.Option(help="cap steps per epoch (quick trials)")] = None,
    download: Annotated[bool, typer.Option("--download", help="allow downloading cifar10")] = False,
    init: Annotated[
        Path | None,
        typer.Option(
            help="start from these weights: our checkpoint, or a torchvision/timm state dict the spec mirrors"
        ),
    ] = None,
    reset_head: Annotated[
        bool,
        typer.Option(
            "--reset-head",
            help="with --init: a classifier of another size in the file (1000 classes into a 10-class spec) is"
            " left out and starts afresh; every other tensor still loads strictly",
        ),
    ] = False,
    allow_change: Annotated[
        str | None,
        typer.Option(help="with --resume: settings that may differ from the checkpoint's, e.g. lr,epochs"),
    ] = None,
    tensorboard: Annotated[
        bool, typer.Option("--tensorboard", help="also write TensorBoard event files into the run folder")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar (the epoch lines stay)")] = False,
) -> None:
    """Train a spec (DDP over --gpus/--nproc workers); writes config.yaml, metrics.csv, summary.json."""
    with user_errors():
        from ..train import Recipe, TrainConfig, load_recipe
        from ..train import train as run_training
        from ..train.config import RUN_FILES
        from ..train.progress import PlainReporter
        from ..train.recipe import recipe_from_dict

        if out is not None:
            check_out_dir(out, list(RUN_FILES), recipe)  # the spec and --init are checked with the default folder too
        base = load_recipe(recipe) if recipe else Recipe()
        flags = {
            "lr": lr,
            "schedule": schedule.value if schedule else None,
            "warmup_epochs": warmup_epochs,
            "label_smoothing": label_smoothing,
            "weight_decay": weight_decay,
            "grad_clip": grad_clip,
        }
        chosen = recipe_from_dict({k: v for k, v in flags.items() if v is not None}, "the command line", base)
        config = TrainConfig(
            spec=str(spec),
            data=data,
            epochs=epochs,
            batch_size=batch_size,
            device=device.value,
            gpus=gpus,
            nproc=nproc,
            amp=amp,
            channels_last=channels_last,
            compile=compile,
            fast=fast,
            out=str(out) if out else None,
            resume=resume,
            seed=seed,
            save_every=save_every,
            steps_per_epoch=steps_per_epoch,
            download=download,
            init=str(init) if init else None,
            reset_head=reset_head,
            allow_change=tuple(n.strip() for n in allow_change.split(",") if n.strip()) if allow_change else (),
            recipe=chosen,
            tensorboard=tensorboard,
        )
        summary = run_training(config, reporter_factory=PlainReporter if quiet else train_reporter)
        if summary and summary.get("best_val_top1") is not None:  # None on the other ranks of a torchrun
            typer.echo(
                f"{summary['spec']} on {summary['data']}: best val top-1 {summary['best_val_top1']:.2f}% "
                f"(epoch {summary['best_epoch']}), final {summary['final_val_top1']:.2f}%, "
                f"{summary['total_seconds']:.1f} s, {summary['images_per_s']:,.0f} img/s "
                f"x{summary['world_size']} {summary['device']}"
            )
