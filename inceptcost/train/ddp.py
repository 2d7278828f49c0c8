"""Process layout: one process, N local workers through torch's elastic launcher, or joining an
outer torchrun. Every worker learns its place from the same environment variables
(RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR/PORT) that torchrun sets."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import torch
import torch.distributed as dist

from inceptcost.train.errors import TrainError


@dataclass(frozen=True)
class DistContext:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str | None  # None when there is a single process and no process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def under_torchrun() -> bool:
    """True when an outer launcher (torchrun or our own elastic launch) started this process."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise TrainError(f"unknown device {device!r}; use cpu, cuda or auto")
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError(
            "{device} cuda asked for, but torch sees no CUDA device "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'})",
            settings=True,
        )
    return device


def check_gpu_count(gpus: int) -> None:
    have = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus > have:
        raise TrainError(
            f"asked for {gpus} GPUs but only {have} CUDA device{'s' if have != 1 else ''} "
            f"{'are' if have != 1 else 'is'} visible (CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})"
        )


def setup(device_type: str) -> DistContext:
    """Join the process group described by the environment, or run alone."""
    if not under_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        index = int(os.environ.get("LOCAL_RANK", 0))
        dev = torch.device("cuda", index) if device_type == "cuda" else torch.device("cpu")
        if device_type == "cuda":
            torch.cuda.set_device(dev)
        return DistContext(0, 0, 1, dev, None)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    world = int(os.environ["WORLD_SIZE"])
    if device_type == "cuda":
        check_gpu_count(local_rank + 1)
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
        backend = "nccl"
    else:
        dev, backend = torch.device("cpu"), "gloo"
        # Workers share the cores: without this each would start one thread per core.
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    if not dist.is_initialized():
        kwargs = {"device_id": dev} if backend == "nccl" else {}
        dist.init_process_group(backend=backend, rank=rank, world_size=world, **kwargs)
    return DistContext(rank, local_rank, world, dev, backend)


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(t: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    if ctx.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def gather_objects(obj, ctx: DistContext) -> list:
    """Every rank's `obj`, in rank order (on every rank)."""
    if not ctx.distributed:
        return [obj]
    out = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def launch_local(nproc: int, entrypoint, *args) -> dict[int, object]:
    """Start `nproc` workers on this machine with torch's elastic launcher (what `torchrun
    --standalone --nproc-per-node N` does) and return each rank's return value."""
    import signal

    from torch.distributed.elastic.multiprocessing import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=f"inceptcost-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",  # a free port, like --standalone
        max_restarts=0,
        monitor_interval=0.1,
        start_method="spawn",
        # Ctrl-C in a terminal reaches every worker itself: they stop together and save a checkpoint (see
        # stop.StopOnSignal). The launcher ignores it instead of killing them; SIGTERM it still passes on.
        signals_to_handle="SIGTERM,SIGHUP,SIGQUIT",
    )
    old_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
    try:
        return elastic_launch(config, entrypoint)(*args)
    except SignalException as exc:
        raise TrainError(f"stopped by signal {exc.sigval.name}; the run folder keeps its last checkpoint") from None
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        reason = failure.message if isinstance(failure.message, str) else ""
        if isinstance(failure.message, dict):
            reason = failure.message.get("message", "")
        reason = (reason or f"exit code {failure.exitcode}").strip().splitlines()[0]
        raise TrainError(f"training worker {rank} failed: {reason}") from None
    finally:
        if old_sigint is not None:
            signal.signal(signal.SIGINT, old_sigint)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
