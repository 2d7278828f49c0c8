"""The benchmark harness: synthetic data on the device, warm-up, timed repeats, one flat result row per run.

Conventions (stated in every row):
- a step is one forward (infer) or forward + backward + SGD update (train) on one batch;
- timing: CUDA events around each repeat of `steps` steps on GPU, perf_counter after a synchronize on CPU;
  images/s and ms/step are the median over repeats;
- FLOPs per image = 2 x our MACs (conv + linear, from the IR), x3 for a train step (backward = 2 x forward);
  achieved TFLOP/s = FLOPs per step / step time; MFU = achieved / the device's peak for the math in use
  (bf16 under --amp; tf32 for fp32 convs when cuDNN may use TF32, torch's default; fp32 otherwise);
- memory: CUDA max allocated during the run; on CPU the growth of the process's peak RSS (0 when an earlier
  peak was higher), `peak_mem_kind` says which.
On CUDA out-of-memory the batch is halved and tried again; the row records the requested batch and retries.
"""

from __future__ import annotations

import math
import platform
import resource
import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

from ...errors import InceptcostError, SettingError, ToolMissing, literal
from ...progress import Event, Progress
from . import peaks

TORCHVISION = "torchvision"


@dataclass(frozen=True)
class BenchConfig:
    device: str = "cuda"
    batch: int = 64
    mode: str = "train"  # train | infer
    amp: bool = False  # bf16 autocast
    channels_last: bool = False
    compile: bool = False
    steps: int = 20
    warmup: int = 10
    repeats: int = 5
    peak_tflops: float | None = None  # overrides the table
    peak_bw_gbs: float | None = None
    aux: bool = False  # run aux heads in train mode (their MACs are then counted)
    weights: str | None = None  # a weights file (train.weights) instead of torch's initial weights
    fast: bool = False  # the fast build of our model (inceptcost.graph.model.fast)

    def validate(self) -> BenchConfig:
        for name, least in (("batch", 1), ("steps", 1), ("warmup", 0), ("repeats", 1)):
            if getattr(self, name) < least:
                raise InceptcostError(f"--{name} must be >= {least}, got {getattr(self, name)}")
        for name, flag in (("peak_tflops", "--peak"), ("peak_bw_gbs", "--peak-bw")):
            value = getattr(self, name)
            if value is not None and not (0 < value < math.inf):  # NaN fails too
                raise InceptcostError(f"{flag} must be a positive finite number, got {value}")
        if self.compile:
            from ...graph.model.blocks import require_compiler

            require_compiler()
        return self


@dataclass
class Subject:
    """What is benchmarked: a model factory, its MACs per image (main net [+ aux]) and its input."""

    name: str
    spec: str
    macs: int
    input: tuple[int, int, int]
    classes: int
    make: Any  # () -> nn.Module


def _torch():
    try:
        import torch
    except ImportError:
        raise ToolMissing("torch is not installed", hint="pip install torch") from None
    return torch


def spec_subject(spec, aux: bool = False, weights: str | None = None, fast: bool = False) -> Subject:
    """Our model of `spec` (its fast build with `fast`); aux heads dropped unless `aux` (torchvision's comparison
    model has none). `weights`: a file for `train.weights.load_weights`, read and matched once, before any timing."""
    from ...analyze.costs import summarize
    from ...graph.compile import compile_graph
    from ...graph.model import build_model

    state = None
    if weights is not None:
        from ...graph.model.blocks import main_net
        from ..weights import load_weights

        full = build_model(spec, aux=True)
        load_weights(full, weights)
        state = (full if aux else main_net(full)).state_dict()
    if not aux:
        spec = replace(spec, aux=())
    graph = compile_graph(spec)
    totals = summarize(graph)

    def make():
        model = build_model(graph, aux=aux, fast=fast)
        if state is not None:
            model.load_state_dict(state)
        return model

    return Subject(
        name=f"inceptcost:{spec.name}" + (" (fast)" if fast else ""),
        spec=spec.name,
        macs=totals["macs"] + (totals["macs_aux"] if aux else 0),
        input=spec.input,
        classes=spec.classes,
        make=make,
    )


def torchvision_subject(spec) -> Subject:
    """torchvision's GoogLeNet (no aux heads, no input transform), its MACs counted by torch's FlopCounterMode."""
    torch = _torch()
    try:
        import torchvision
    except ImportError:
        raise ToolMissing(
            "{compare} torchvision needs torchvision, which is not installed",
            hint="install the interop extra in an environment of its own, with the torch torchvision was built for:"
            " pip install torch==2.14.1 torchvision==0.29.1 'inceptcost[interop]'",
            settings=True,
        ) from None
    from torch.utils.flop_counter import FlopCounterMode

    def make():
        return torchvision.models.googlenet(
            weights=None, aux_logits=False, init_weights=False, num_classes=spec.classes, transform_input=False
        )

    model = make().eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, *spec.input))
    return Subject(
        name="torchvision:googlenet",
        spec="torchvision.models.googlenet",
        macs=counter.get_total_flops() // 2,
        input=spec.input,
        classes=spec.classes,
        make=make,
    )


def _math(torch, cfg: BenchConfig, device) -> str:
    if cfg.amp:
        return "bf16"
    if device.type == "cuda" and torch.backends.cudnn.allow_tf32:
        return "tf32"
    return "fp32"


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


class Timer:
    """Wall time of the `with` body in ms (`.ms`): CUDA events on a GPU, perf_counter on the CPU."""

    def __init__(self, torch, device) -> None:
        self.torch, self.cuda = torch, device.type == "cuda"

    def __enter__(self):
        if self.cuda:
            self.start = self.torch.cuda.Event(enable_timing=True)
            self.end = self.torch.cuda.Event(enable_timing=True)
            self.start.record()
        else:
            self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            self.end.record()
            self.end.synchronize()
            self.ms = self.start.elapsed_time(self.end)
        else:
            self.ms = (time.perf_counter() - self.t0) * 1e3


def _step_fn(torch, model, cfg: BenchConfig, x, y):
    import torch.nn.functional as F

    amp = torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=cfg.amp)
    if cfg.mode == "infer":

        def infer():
            with torch.no_grad(), amp:
                return model(x)

        return infer
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    aux_weights = list(getattr(model, "aux_weights", []))

    def train():
        with amp:
            out = model(x)
            if isinstance(out, tuple):  # our model in training mode with aux heads: (logits, [aux logits])
                logits, aux = out
                loss = F.cross_entropy(logits, y) + sum(
                    w * F.cross_entropy(a, y) for w, a in zip(aux_weights, aux, strict=True)
                )
            else:
                loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    return train


def _device(torch, name: str):
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SettingError("{device} cuda: no CUDA device is available here", hint="use {device} cpu")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise InceptcostError(f"unknown device '{name}'", hint="cuda or cpu")
    return torch.device(name)


def device_name(torch, device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine() or "cpu"


def _quiet(event: Event) -> None:
    return None


def _run_once(torch, subject: Subject, cfg: BenchConfig, device, batch: int, progress: Progress) -> dict[str, Any]:
    progress(Event("building", f"building {subject.name}"))
    model = subject.make().to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train(cfg.mode == "train")
    if cfg.compile:
        model = torch.compile(model)
    x = torch.randn(batch, *subject.input, device=device)
    if cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, subject.classes, (batch,), device=device)
    step = _step_fn(torch, model, cfg, x, y)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    rss0 = _maxrss_bytes()
    t0 = time.perf_counter()
    warmup = max(cfg.warmup, 1)  # at least one: compilation and cuDNN autotuning happen here
    if cfg.compile:
        progress(Event("compiling", f"compiling {subject.name} (torch.compile) in the first warm-up step"))
    for i in range(warmup):
        step()
        progress(Event("warming up", f"warming up {subject.name}", i + 1, warmup))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    warmup_s = time.perf_counter() - t0
    times = []
    progress(Event("timing", f"timing {subject.name}", 0, cfg.repeats))
    for r in range(cfg.repeats):
        with Timer(torch, device) as timer:
            for _ in range(cfg.steps):
                step()
        times.append(timer.ms / cfg.steps)
        progress(Event("timing", f"timing {subject.name}", r + 1, cfg.repeats, {"ms_per_step": times[-1]}))
    if device.type == "cuda":
        mem, kind = torch.cuda.max_memory_allocated(device), "cuda_max_allocated"
    else:
        mem, kind = max(0, _maxrss_bytes() - rss0), "cpu_peak_rss_growth"
    return {"times": times, "warmup_s": warmup_s, "peak_mem_bytes": mem, "peak_mem_kind": kind}


def _is_oom(torch, exc: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", RuntimeError)
    return isinstance(exc, oom) or "out of memory" in str(exc).lower()


def bench_subject(subject: Subject, cfg: BenchConfig, progress: Progress | None = None) -> dict[str, Any]:
    """One flat result row; on CUDA OOM the batch is halved and retried (recorded in the row). `progress` gets
    each phase (building, compiling, warming up, timing) as an Event."""
    torch = _torch()
    if cfg.mode not in ("train", "infer"):
        raise InceptcostError(f"unknown mode '{cfg.mode}'", hint="train or infer")
    if cfg.batch < 1 or cfg.steps < 1 or cfg.repeats < 1 or cfg.warmup < 0:
        raise InceptcostError("batch, steps and repeats must be >= 1, warmup >= 0")
    device = _device(torch, cfg.device)
    dev_name = device_name(torch, device)
    math_kind = _math(torch, cfg, device)
    peak = peaks.detect(dev_name) if device.type == "cuda" else None
    peak_tf = cfg.peak_tflops if cfg.peak_tflops is not None else peaks.peak_tflops(peak, math_kind)
    peak_src = "--peak" if cfg.peak_tflops is not None else (f"{peak.device} {math_kind} dense" if peak else None)
    batch, errors = cfg.batch, []
    result = None
    while batch >= 1:
        try:
            result = _run_once(torch, subject, cfg, device, batch, progress or _quiet)
            break
        except Exception as exc:  # noqa: BLE001 - only OOM is retried; anything else is re-raised
            if device.type != "cuda" or not _is_oom(torch, exc):
                raise
            errors.append(f"OOM at batch {batch}")
            if cfg.compile:
                torch._dynamo.reset()
            torch.cuda.empty_cache()
            batch //= 2
    row: dict[str, Any] = {
        "model": subject.name,
        "spec": subject.spec,
        "device": device.type,
        "device_name": dev_name,
        "mode": cfg.mode,
        "math": math_kind,
        "amp": cfg.amp,
        "channels_last": cfg.channels_last,
        "compile": cfg.compile,
        "batch": batch if result else None,
        "batch_requested": cfg.batch,
        "oom_retries": len(errors),
        "steps": cfg.steps,
        "warmup": cfg.warmup,
        "repeats": cfg.repeats,
        "macs_per_image": subject.macs,
        "flop_convention": "2*MACs per image" + (" x3 (fwd+bwd)" if cfg.mode == "train" else " (fwd)"),
        "torch": torch.__version__,
        "error": "; ".join(errors) or None,
    }
    if result is None:
        row.update(images_per_s=None, ms_per_step=None, tflops=None, mfu=None)
        row["error"] = (row["error"] or "") + "; out of memory even at batch 1"
        return row
    ms = statistics.median(result["times"])
    flops_step = 2 * subject.macs * batch * (3 if cfg.mode == "train" else 1)
    tflops = flops_step / (ms / 1e3) / 1e12
    row.update(
        images_per_s=batch / (ms / 1e3),
        ms_per_step=ms,
        ms_per_step_min=min(result["times"]),
        ms_per_step_max=max(result["times"]),
        warmup_s=result["warmup_s"],
        peak_mem_bytes=result["peak_mem_bytes"],
        peak_mem_kind=result["peak_mem_kind"],
        tflops=tflops,
        peak_tflops=peak_tf,
        peak_source=peak_src,
        mfu=tflops / peak_tf if peak_tf else None,
    )
    return row


def run_bench(
    spec, cfg: BenchConfig, compare: str | None = None, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Our model of `spec`, then (with compare='torchvision') torchvision's GoogLeNet in the same harness; `progress`
    gets each phase as an `inceptcost.progress.Event`."""
    cfg.validate()
    if compare and compare != TORCHVISION:
        raise SettingError(f"unknown {{compare}} '{literal(compare)}'", hint="torchvision")
    _check_memory(spec, cfg)  # before any model is built or weights are read
    subjects = [spec_subject(spec, aux=cfg.aux, weights=cfg.weights, fast=cfg.fast)]
    if compare:
        subjects.append(torchvision_subject(spec))
    rows = []
    for subject in subjects:
        rows.append(bench_subject(subject, cfg, progress))
        if cfg.compile:
            _torch()._dynamo.reset()
    return rows


def _check_memory(spec, cfg: BenchConfig) -> None:
    """Refuse up front when our model's predicted peak exceeds the device's free memory."""
    from ...analyze.memory import Setup
    from ...graph.compile import compile_graph
    from .memory_check import check_memory

    torch = _torch()
    device = _device(torch, cfg.device)
    graph = compile_graph(spec if cfg.aux else replace(spec, aux=()))
    setup = Setup.checked(cfg.batch, "bf16" if cfg.amp else "fp32", cfg.mode, "sgd", device.type, cfg.channels_last)
    check_memory(graph, setup, device)
