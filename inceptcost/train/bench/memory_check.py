"""Measured memory of one training step of the compiled model, to hold `analyze/memory/walk.py` to:

- saved tensors: `torch.autograd.graph.saved_tensors_hooks` sees every tensor autograd saves; each storage is
  counted once (by `untyped_storage().data_ptr()`, its `nbytes()`), on the IR layer whose module was running
  when it was first saved (forward pre/post hooks keep a stack of IR-named modules); parameters and buffers are
  left out (they are the weights), their autocast copies are counted. The loss's tensors go to `loss`.
- CPU peak: torch's profiler with `profile_memory=True` records every allocation and free of torch's CPU
  allocator; the running sum over one steady-state step, plus the tensors alive before it (weights, buffers,
  optimizer state, the batch), gives the step's high-water mark. It shares nothing with the prediction.
- CUDA peak: `torch.cuda.max_memory_allocated` over one steady-state step.
The step is the trainer's: autocast forward, fp32 cross-entropy per head (aux weighted), backward, optimizer
step, gradients set to None.
Before a run: `check_memory` refuses a batch whose predicted peak exceeds the memory free now.
"""

from __future__ import annotations

import os
from typing import Any

from ...errors import InceptcostError


def free_memory(device) -> tuple[int, str]:
    """Bytes free for tensors now: the GPU's free memory, or on CPU the kernel's MemAvailable estimate."""
    import torch

    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0], f"{torch.cuda.get_device_name(device)}"
    try:
        with open("/proc/meminfo") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["MemAvailable"].split()[0]) * 1024, "this machine (available RAM)"
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "this machine (free RAM)"


def check_memory(graph, setup: Any, device, setting: str = "batch", held: int = 0, what: str = "") -> None:
    """Refuse a run whose predicted peak (analyze/memory/walk.py) exceeds the free memory, before allocating.
    `held`: bytes that the command will also keep on the device (the training data moved there: `what`)."""
    from ...analyze.memory.capacity import check_fits

    free, where = free_memory(device)
    if held > free:
        raise InceptcostError(
            f"{what} needs {held / 2**30:,.2f} GiB on the device but {where} has {free / 2**30:,.2f} GiB free",
            hint="use fewer or smaller images, or a device with more memory",
        )
    if held:
        where = f"{where} (after {what}: {held / 2**20:,.1f} MiB)"
    check_fits(graph, setup, max(0, free - held), where, setting)


def check_allocation(nbytes: int, what: str, device, hint: str, **place: Any) -> None:
    """Refuse, before allocating, a tensor (or set of tensors) of `nbytes` that the free memory cannot hold."""
    free, where = free_memory(device)
    if nbytes > free:
        raise InceptcostError(
            f"{what} needs {nbytes / 2**30:,.2f} GiB but {where} has {free / 2**30:,.2f} GiB free",
            hint=hint,
            **place,
        )


def _setup(graph, setup, device: str, seed: int = 0):
    import torch

    from ...graph.model import build_model

    torch.manual_seed(seed)
    model = build_model(graph, aux=setup.mode == "train").to(device).train(setup.mode == "train")
    spec = graph.graph["spec"]
    x = torch.randn(setup.batch, *spec.input, device=device)
    if setup.channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, spec.classes, (setup.batch,), device=device)
    return torch, model, x, y


def _amp(torch, setup, device: str):
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(setup.dtype)
    return torch.autocast(device, dtype=dtype or torch.float32, enabled=dtype is not None)


def _loss(torch, model, out, y):
    import torch.nn.functional as F

    logits, aux = out if isinstance(out, tuple) else (out, [])
    loss = F.cross_entropy(logits.float(), y)
    for weight, a in zip(model.aux_weights, aux, strict=True):
        loss = loss + weight * F.cross_entropy(a.float(), y)
    return loss


def measured_saved(graph, setup) -> dict[str, int]:
    """IR node (or `loss`) -> bytes of the storages it saved first, from saved-tensor hooks (CPU)."""
    torch, model, x, y = _setup(graph, setup, "cpu")
    names = {module: name for name, module in model.named_modules()}
    stack = ["?"]

    def enter(module, inputs) -> None:
        stack.append(names[module])

    def leave(module, inputs, output) -> None:
        stack.pop()

    for module, name in names.items():
        if name in graph or f"{name}.concat" in graph:  # a parallel module runs its concat
            module.register_forward_pre_hook(enter)
            module.register_forward_hook(leave)
    weights = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    seen: set[int] = set()
    out: dict[str, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in seen and ptr not in weights:
            seen.add(ptr)
            where = stack[-1] if stack[-1] in graph or stack[-1] == "loss" else f"{stack[-1]}.concat"
            out[where] = out.get(where, 0) + storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with _amp(torch, setup, "cpu"):
            result = model(x)
        stack.append("loss")
        _loss(torch, model, result, y)
    return out


def _optimizer(torch, model, setup):
    if setup.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=1e-4)
    return torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)


def _step(torch, model, opt, x, y, setup, device):
    opt.zero_grad(set_to_none=True)
    with _amp(torch, setup, device):
        out = model(x)
    _loss(torch, model, out, y).backward()
    opt.step()


def _alive(torch, model, opt, x, y) -> int:
    state = [t for s in opt.state.values() for t in s.values() if torch.is_tensor(t) and t.device == x.device]
    return sum(t.untyped_storage().nbytes() for t in [*model.parameters(), *model.buffers(), *state, x, y])


def measured_peak(graph, setup, device: str = "cpu") -> dict[str, Any]:
    """Peak bytes of one steady-state training step (CPU: profiler memory events; CUDA: max allocated)."""
    torch, model, x, y = _setup(graph, setup, device)
    opt = _optimizer(torch, model, setup)
    _step(torch, model, opt, x, y, setup, device)  # optimizer state now exists, as in every later step
    opt.zero_grad(set_to_none=True)
    before = _alive(torch, model, opt, x, y)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        _step(torch, model, opt, x, y, setup, device)
        torch.cuda.synchronize()
        return {"peak_bytes": torch.cuda.max_memory_allocated(), "base_bytes": base, "tensors_before": before}
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        _step(torch, model, opt, x, y, setup, device)
    events = [
        e
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU
    ]
    running = high = 0
    for e in sorted(events, key=lambda e: e.start_ns()):
        running += e.nbytes()
        high = max(high, running)
    return {"peak_bytes": before + high, "base_bytes": before, "tensors_before": before}
