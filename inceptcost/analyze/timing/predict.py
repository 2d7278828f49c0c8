"""Predicted time per layer and per step, from MACs, bytes, kernel kind and a device profile. No torch.

Each kernel from analyze/timing/traffic.py takes max(2 x MACs / (peak x efficiency), bytes / (bandwidth x
efficiency)) plus the profile's fixed cost of one kernel (its kind's, or a forward or backward kernel's): a
roofline with one efficiency per kernel kind, plus per-op overhead. Compute kinds (convs, GEMMs, and pools,
whose "MACs" are their window elements) move their bytes at the copy kernel's efficiency, or, where the
profile has a `serial_gbs` rate for the kind, at that rate after their arithmetic instead of under it (a
CPU's oneDNN convolution reorders its tensors' layout before and after it computes). Where the profile has
a `first_touch` rate, each new tensor at or above its size threshold also pays for its fresh pages (a CPU
allocator maps such tensors anew on every allocation, and the kernel's first write faults each page in; a
GPU's caching allocator reuses its blocks). A kernel is first
mapped to the one the profile's device runs at this batch (traffic.device_kind). A layer's time is the sum
of its kernels; it is bound by whichever of compute, memory and overhead contributes most. A training step is
the forward, the loss, the backward and the optimizer update (SGD with momentum); inference is the forward
alone.

The MACs-only baseline is what the predictor is measured against: step time = step MACs / one rate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from ...errors import InceptcostError
from ..memory import dtype_bytes
from .profile import Profile
from .traffic import COMPUTE_KINDS, Kernel, device_kind, optimizer_kernels, traffic

MODES = ("train", "infer")
LOSS_KERNELS = 2  # log-softmax and the negative log-likelihood, each with its backward


@dataclass
class KernelTime:
    compute: float  # seconds
    memory: float
    overhead: float
    serial: bool = False  # memory after compute, not overlapped with it
    first_touch: float = 0.0  # seconds to map fresh pages for its new tensors (after the kernel's own time)

    @property
    def total(self) -> float:
        both = self.compute + self.memory if self.serial else max(self.compute, self.memory)
        return both + self.first_touch + self.overhead


@dataclass(frozen=True)
class Roofline:
    """The two arms of a roofline, in seconds: the arithmetic at a FLOP rate and the bytes at a bandwidth; an
    arm whose rate is not known is None."""

    compute: float | None
    memory: float | None

    @classmethod
    def of(cls, flops: float, nbytes: float, flops_per_s: float | None, bytes_per_s: float | None) -> Roofline:
        compute = (flops / flops_per_s if flops else 0.0) if flops_per_s else None
        return cls(compute, nbytes / bytes_per_s if bytes_per_s else None)

    @property
    def seconds(self) -> float | None:
        """The slower known arm; None when no arm takes any time (no rate known, or nothing to do)."""
        arms = [t for t in (self.compute, self.memory) if t is not None]
        return max(arms) if any(arms) else None

    @property
    def bound(self) -> str | None:
        """`compute` or `memory`, where both arms are known."""
        if self.compute is None or self.memory is None:
            return None
        return "compute" if self.compute >= self.memory else "memory"


def kernel_time(k: Kernel, profile: Profile, dtype: str) -> KernelTime:
    base = k.kind.removesuffix("_bwd")
    eff = profile.efficiency[k.kind]
    overhead = profile.overhead_us.get(k.kind, profile.overhead_us["backward" if k.backward else "forward"]) * 1e-6
    touch = 0.0
    if profile.first_touch:
        rate_gbs, above_mib = profile.first_touch
        touch = sum(b for b in k.allocs if b >= above_mib * 2**20) / (rate_gbs * 1e9)
    serial = k.kind in profile.serial_gbs
    if serial:
        rate = profile.serial_gbs[k.kind] * 1e9
    else:
        rate = profile.bandwidth_gbs * 1e9 * (profile.efficiency["copy"] if base in COMPUTE_KINDS else eff)
    arms = Roofline.of(2 * k.macs, k.bytes, profile.peak_flops(base, dtype) * eff if k.macs else None, rate)
    return KernelTime(arms.compute if arms.compute is not None else 0.0, arms.memory, overhead, serial, touch)


@dataclass(frozen=True)
class RowTime:
    name: str
    op: str
    macs: int
    bytes: int
    kernels: int
    compute_ms: float  # the part of the time spent where compute bounds the kernel
    memory_ms: float
    overhead_ms: float

    @property
    def ms(self) -> float:
        return self.compute_ms + self.memory_ms + self.overhead_ms

    @property
    def bound(self) -> str:
        parts = {"compute": self.compute_ms, "memory": self.memory_ms, "overhead": self.overhead_ms}
        return max(parts, key=parts.__getitem__)


def row_time(name: str, op: str, macs: int, kernels: list[Kernel], profile: Profile, dtype: str) -> RowTime:
    c = m = o = 0.0
    for k in kernels:
        t = kernel_time(k, profile, dtype)
        if t.serial:
            c += t.compute
            m += t.memory
        elif t.compute >= t.memory:
            c += t.compute
        else:
            m += t.memory
        m += t.first_touch
        o += t.overhead
    return RowTime(name, op, macs, sum(k.bytes for k in kernels), len(kernels), c * 1e3, m * 1e3, o * 1e3)


@dataclass(frozen=True)
class Prediction:
    spec: str
    profile: Profile
    batch: int
    dtype: str
    mode: str
    rows: list[RowTime]

    @property
    def step_ms(self) -> float:
        return sum(r.ms for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        step = self.step_ms
        return {
            "spec": self.spec,
            "profile": {
                k: v for k, v in self.profile.as_dict().items() if k in ("name", "device", "device_name", "source")
            },
            "profile_file": self.profile.file,
            "batch": self.batch,
            "dtype": self.dtype,
            "mode": self.mode,
            "step_ms": step,
            "images_per_s": self.batch / (step / 1e3) if step else None,
            "bound_ms": {b: sum(r.ms for r in self.rows if r.bound == b) for b in ("compute", "memory", "overhead")},
            "rows": [
                {
                    "name": r.name,
                    "op": r.op,
                    "macs": r.macs,
                    "bytes": r.bytes,
                    "kernels": r.kernels,
                    "ms": r.ms,
                    "share": r.ms / step if step else None,
                    "bound": r.bound,
                    "compute_ms": r.compute_ms,
                    "memory_ms": r.memory_ms,
                    "overhead_ms": r.overhead_ms,
                }
                for r in self.rows
            ],
        }


def check_run(batch: int, dtype: str, mode: str) -> str:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InceptcostError(f"--batch must be a whole number >= 1, got {batch!r}", hint="e.g. --batch 32")
    if mode not in MODES:
        raise InceptcostError(f"unknown mode '{mode}'", hint="train or infer")
    return dtype_bytes(dtype)[0]


def predict(
    graph: nx.DiGraph, profile: Profile, batch: int, dtype: str = "fp32", mode: str = "train", aux: bool = False
) -> Prediction:
    """Per-layer predicted time for one step; `aux`: a training step also runs the aux heads."""
    dtype = check_run(batch, dtype, mode)
    train = mode == "train"
    nodes = traffic(graph, batch, dtype, train=train, aux=aux)

    def on_device(kernels):
        return [replace(k, kind=device_kind(k.kind, profile.device, profile.threads, batch)) for k in kernels]

    rows = [row_time(t.name, t.op, t.macs, on_device([*t.forward, *t.backward]), profile, dtype) for t in nodes]
    if train:
        heads = 1 + (len(graph.graph["aux"]) if aux else 0)
        _, size = dtype_bytes(dtype)
        logits = batch * graph.graph["spec"].classes * size
        loss = [Kernel("eltwise", 0, logits, logits)] * LOSS_KERNELS * heads
        loss += [Kernel("eltwise_bwd", 0, 2 * logits, logits)] * LOSS_KERNELS * heads
        rows.append(row_time("loss", "loss", 0, loss, profile, dtype))
        rows.append(row_time("optimizer", "sgd", 0, optimizer_kernels(graph, aux), profile, dtype))
    return Prediction(graph.graph["spec"].name, profile, batch, dtype, mode, rows)


def step_macs(graph: nx.DiGraph, batch: int, mode: str, aux: bool = False) -> int:
    """Multiply-adds of one step: the forward's, x3 for a training step (backward = 2 x forward)."""
    macs = sum(a["macs"] for _, a in graph.nodes(data=True) if a["aux"] is None or (aux and mode == "train"))
    return batch * macs * (3 if mode == "train" else 1)
