"""`inceptcost calibrate`: fit a device profile on microbenchmarks (never on the networks it predicts).

Each microbenchmark is one layer described as an IR node (its kind's shape and cost rules), so its work is
counted by the same traffic rules the predictor uses (each kind's, in inceptcost/kinds); it is run as the torch
module the model builder makes for it. Timing: all benchmarks run round-robin (interleaved, so that a burst of load on
a shared machine hits all alike), each round times enough calls to fill `min_s`, and the median over rounds
is kept; a backward is timed alone, on a graph kept between calls. The clock is the wall clock, or with
`clock="cpu"` the calling thread's CPU time (one CPU thread only: then other jobs' share of the cores does
not count, which makes a calibration on a shared machine repeatable).

Fitted constants:
- overhead_us: a chain of 32 tiny ReLU modules (1 element), forward and backward, per module;
- peak_tflops: the fastest square GEMM per dtype; bandwidth_gbs: the fastest of a large tensor copy and the
  memory-bound benchmarks (so that no efficiency exceeds 1);
- per kernel kind, weighted least squares (relative error) of time = kernels x fixed cost + work / rate over
  that kind's benchmarks (a large and a small shape at least): the rate as a share of the peak (compute
  kinds, 2 x MACs) or of the bandwidth (bytes) is its efficiency; a fixed cost well above a plain kernel's
  (oneDNN's small convolutions on CPU) is kept as that kind's own `overhead_us` entry. On a CPU a compute
  kind's fit also has a term per byte moved (+ bytes / serial rate), kept where it comes out positive as the
  kind's `serial_gbs`: oneDNN reorders a convolution's tensors to its blocked layout and back around the
  arithmetic, which the roofline's max(compute, memory) misses (on the build machine a 1x1 conv at batch 32
  with 48 channels ran 1.6x what the roofline's fit gave it). Each benchmark counts
  toward the kernel the device runs at its batch (analyze/timing/traffic.py's device_kind): 1x1 convs are timed at
  batch 4 and 16, which on one CPU thread are two kernels (a plain GEMM, then oneDNN);
- first_touch (CPU): a new 96 MiB tensor written once and freed, against the same writes into a kept one; the
  extra time per byte is the rate, paid by every new tensor of 32 MiB or more (glibc's mmap ceiling; on the
  build machine 1.4-1.8 GB/s from 32 MiB on, nothing below: AlexNet's 150 MB FC weight gradient costs about
  100 ms a step);
- the MACs-only baseline: one rate, time = MACs / rate, by the same least squares over all conv and GEMM
  benchmarks, forward and backward (stored under `fit`, used by benchmarks/bench_predict.py).
"""

from __future__ import annotations

import datetime
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ... import __version__
from ...analyze.timing.traffic import COMPUTE_KINDS, FALLBACK, KINDS, MAC_KINDS, device_kind
from ...errors import InceptcostError
from ...io import usable_cpus
from .microbench import BATCH, backward_of, micro, module, plan
from .runner import _device, _torch, device_name

CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
# glibc serves a block of up to this size from its heap once one like it was freed (its dynamic mmap
# threshold's ceiling on 64-bit); a larger one is mapped fresh on each allocation, unless the heap's free top
# has room for it (at most twice this, its trim threshold's ceiling)
MMAP_CEILING_MIB = 32
TOUCH_MIB = 96  # beyond both: fresh pages on every allocation, in any state of the heap


def check_clock(clock: str, device: str, threads: int | None) -> None:
    """`cpu` (this thread's CPU time) measures one-thread CPU work apart from other jobs' share of the cores."""
    if clock not in CLOCKS:
        raise InceptcostError(f"unknown clock '{clock}'", hint="wall or cpu")
    if clock == "cpu" and (device != "cpu" or threads != 1):
        raise InceptcostError("--clock cpu needs --device cpu --threads 1", hint="or use --clock wall")


def _timed(sync, fn: Callable[[], None], calls: int, clock=time.perf_counter) -> float:
    sync()
    t0 = clock()
    for _ in range(calls):
        fn()
    sync()
    return (clock() - t0) / calls


def _calls_for(sync, fn, min_s: float) -> int:
    once = max(_timed(sync, fn, 1), 1e-7)
    return max(1, min(10_000, int(min_s / once)))


def cpu_name() -> str:
    """The processor's model name (Linux), else what the platform module knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # no /proc/cpuinfo (not Linux): the platform name below stands in
        pass
    return platform.processor() or platform.machine() or "cpu"


def _wls(columns: list[list[float]], t: list[float]) -> list[float] | None:
    """Coefficients c minimizing sum(((t_i - sum_j c_j x_ji) / t_i)^2) (relative error), or None if singular."""
    n = len(columns)
    rows = [[x / ti for x in xs] for xs, ti in zip(zip(*columns, strict=True), t, strict=True)]
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] + [sum(r[i] for r in rows)] for i in range(n)]
    for i in range(n):  # Gauss-Jordan on the normal equations, partial pivoting
        p = max(range(i, n), key=lambda r: abs(a[r][i]))
        scale = max(abs(a[r][i]) for r in range(n)) or 1.0
        if abs(a[p][i]) < 1e-12 * scale:
            return None
        a[i], a[p] = a[p], a[i]
        for r in range(n):
            if r != i:
                f = a[r][i] / a[i][i]
                a[r] = [x - f * y for x, y in zip(a[r], a[i], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]


def _fit_kind(points: list[tuple[float, int, float, float]], base_overhead: float, serial: bool) -> tuple[float, ...]:
    """(fixed cost per kernel o, time per unit of work a, time per byte c) over points (work, kernels, bytes,
    seconds), minimizing the relative error of t = n o + w a + bytes c.

    c (bytes not hidden by the arithmetic) is fitted only where `serial` and over four points or more, and
    kept only if positive; o is at least a plain kernel's (`base_overhead`): with fewer than two points, or a
    fit below that, it is that and only `a` is fitted (c = 0)."""
    w, n, b, t = (list(c) for c in zip(*points, strict=True))
    if serial and len(points) >= 4:
        fit = _wls([n, w, b], t)
        if fit and fit[0] >= base_overhead and fit[1] > 0 and fit[2] > 0:
            return fit[0], fit[1], fit[2]
    fit = _wls([n, w], t) if len(points) >= 2 else None
    if fit and fit[0] >= base_overhead and fit[1] > 0:
        return fit[0], fit[1], 0.0
    o = base_overhead
    svv = sum((wi / ti) ** 2 for wi, ti in zip(w, t, strict=True))
    return o, sum(wi * (ti - ni * o) / ti**2 for wi, ni, ti in zip(w, n, t, strict=True)) / svv if svv else 0.0, 0.0


class Calibration:
    """The microbenchmarks, set up and warmed; `run_round()` times each once (more rounds: more samples), `fit()`
    turns the medians into a profile. Apart so that a benchmark can interleave its own timing with the rounds
    (then a machine whose speed drifts over minutes drifts under both alike)."""

    def __init__(self, device: str = "cpu", quick: bool = False, threads: int | None = None, clock: str = "wall"):
        check_clock(clock, device, threads)
        torch = self.torch = _torch()
        dev = self.dev = _device(torch, device)
        if threads is not None:
            if threads < 1:
                raise InceptcostError(f"--threads must be >= 1, got {threads}")
            if threads > usable_cpus():
                raise InceptcostError(
                    f"--threads {threads} is more than the {usable_cpus()} CPUs this machine gives the process",
                    hint=f"give --threads {usable_cpus()} or fewer",
                )
            torch.set_num_threads(threads)
        self.cuda = cuda = dev.type == "cuda"
        self.sync = sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)
        self.quick, self.clock = quick, clock
        self.rounds, min_s = (3, 0.02) if quick else (7, 0.06)
        dtype = torch.float32

        # fixed cost per module call, forward and backward
        self.chain = chain = [torch.nn.ReLU() for _ in range(32)]
        tiny = torch.randn(1, device=dev, requires_grad=True)

        def chain_fwd():
            y = tiny
            for m in chain:
                y = m(y)
            return y

        chain_out = chain_fwd()

        def chain_bwd():
            chain_out.backward(retain_graph=True)
            tiny.grad = None

        self.benches = []
        cpu_threads = None if cuda else torch.get_num_threads()
        for label, kind, node, batch in plan(quick):
            fn, leaves = module(torch, kind, node, dev, dtype, batch)
            ran = device_kind(kind, dev.type, cpu_threads, batch)  # the kernel this device runs at this batch
            m = replace(micro(label, node, kind, batch, 4), kind=ran)
            self.benches.append((m, fn, backward_of(fn, leaves)))

        def gemm(n, dt):
            a = torch.randn(n, n, device=dev, dtype=dt)
            b = torch.randn(n, n, device=dev, dtype=dt)
            return lambda: torch.mm(a, b)

        self.n = n = 512 if quick or not cuda else 4096
        self.peaks_fns = {"fp32": gemm(n, torch.float32)}
        if cuda:
            self.peaks_fns.update(bf16=gemm(n, torch.bfloat16), fp16=gemm(n, torch.float16))
        elif not quick:
            self.peaks_fns["bf16"] = gemm(n, torch.bfloat16)
        self.big = big = torch.empty(8 << 20, device=dev)  # 32 MiB: beyond the caches
        dst = torch.empty_like(big)

        def copy():
            dst.copy_(big)

        units: list[tuple[str, Callable]] = [("overhead_fwd", chain_fwd), ("overhead_bwd", chain_bwd)]
        units += [(f"peak_{k}", f) for k, f in self.peaks_fns.items()]
        units.append(("copy", copy))
        if not cuda:  # a new tensor written once and freed, against the same writes into a kept one
            kept = torch.empty(TOUCH_MIB << 18)
            units.append(("fresh", lambda: torch.empty(TOUCH_MIB << 18).fill_(1.0)))
            units.append(("kept", lambda: kept.fill_(1.0)))
        for i, (_, fn, both) in enumerate(self.benches):
            units += [(f"f{i}", fn), (f"b{i}", both)]
        for _, f in units:  # warm-up: allocator, oneDNN/cuDNN algorithm choice
            f()
            f()
        self.units = units
        self.calls = {name: _calls_for(sync, f, min_s) for name, f in units}
        self.times: dict[str, list[float]] = {name: [] for name, _ in units}

    def run_round(self) -> None:
        for name, f in self.units:
            self.times[name].append(_timed(self.sync, f, self.calls[name], CLOCKS[self.clock]))

    def fit(self) -> dict[str, Any]:
        """The profile, as a plain dict (ready to dump as YAML), from the median of the rounds run so far."""
        torch, cuda = self.torch, self.cuda
        med = {k: statistics.median(v) for k, v in self.times.items()}
        o_fwd = med["overhead_fwd"] / len(self.chain)
        o_bwd = med["overhead_bwd"] / len(self.chain)
        peak = self._peaks(med)
        bandwidth = 2 * self.big.numel() * 4 / med["copy"] / 1e9
        points, macs_points, records = self._points(med)
        rates, kind_overhead, serial = _fit_kinds(points, o_fwd, o_bwd, cuda)
        compute_peak = peak["fp32"] if not cuda else peak["tf32"]
        for k, r in rates.items():  # fitted rates above the measured peak raise the peak (efficiency <= 1)
            if k.removesuffix("_bwd") in MAC_KINDS:
                compute_peak = max(compute_peak, r / 1e12)
            else:
                bandwidth = max(bandwidth, r / 1e9)
        peak["tf32" if cuda else "fp32"] = compute_peak
        eff = _efficiencies(rates, compute_peak, peak["fp32"], bandwidth)
        first_touch = None
        if not cuda and med["fresh"] > 1.1 * med["kept"]:  # new pages cost something: their rate
            first_touch = {"gbs": round((TOUCH_MIB << 20) / (med["fresh"] - med["kept"]) / 1e9, 3)}
            first_touch["above_mib"] = MMAP_CEILING_MIB
        macs_rate = 1 / _wls([[w for w, _ in macs_points]], [t for _, t in macs_points])[0]
        return {
            "name": f"{self.dev.type}-calibrated",
            "device": self.dev.type,
            "device_name": self._device_name(),
            "source": "calibrated",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "versions": {
                "inceptcost": __version__,
                "torch": str(torch.__version__),
                "python": platform.python_version(),
                **({"cuda": torch.version.cuda, "cudnn": str(torch.backends.cudnn.version())} if cuda else {}),
            },
            "threads": torch.get_num_threads() if not cuda else None,
            "peak_tflops": {k: round(v, 4) for k, v in peak.items()},
            "bandwidth_gbs": round(bandwidth, 2),
            "overhead_us": {"forward": round(o_fwd * 1e6, 3), "backward": round(o_bwd * 1e6, 3), **kind_overhead},
            "efficiency": eff,
            **({"serial_gbs": serial} if serial else {}),
            **({"first_touch": first_touch} if first_touch else {}),
            "fit": {
                "quick": self.quick,
                "clock": self.clock,
                "rounds": len(self.times["copy"]),
                "batch": BATCH,
                "macs_only_gmacs_per_s": round(macs_rate / 1e9, 4),
                "benchmarks": records,
            },
        }

    def _peaks(self, med: dict[str, float]) -> dict[str, float]:
        """TFLOP/s of the fastest square GEMM per dtype; on CUDA also fp32 with TF32 on, timed here."""
        n, torch = self.n, self.torch
        peak = {k: 2 * n**3 / med[f"peak_{k}"] / 1e12 for k in self.peaks_fns}
        if self.cuda:
            torch.backends.cuda.matmul.allow_tf32 = True
            peak["tf32"] = 2 * n**3 / _timed(self.sync, self.peaks_fns["fp32"], self.calls["peak_fp32"]) / 1e12
            torch.backends.cuda.matmul.allow_tf32 = False
        return peak

    def _points(self, med: dict[str, float]) -> tuple[dict[str, list], list[tuple[float, float]], list[dict]]:
        """Each benchmark's medians as points per kernel kind (work, kernels, bytes, seconds), as (MACs, seconds)
        for the MACs-only baseline, and as a record of the profile's `fit.benchmarks`."""
        times = self.times
        spread = {k: (max(v) - min(v)) / statistics.median(v) for k, v in times.items() if statistics.median(v) > 0}
        points: dict[str, list[tuple[float, int, float, float]]] = {k: [] for k in KINDS}
        macs_points: list[tuple[float, float]] = []
        records = []
        for i, (m, _, _) in enumerate(self.benches):
            t_f, t_b = med[f"f{i}"], med[f"b{i}"]
            if t_f > 0:
                points[m.kind].append((m.fwd_work, m.kernels[0], m.bytes[0], t_f))
            if m.bwd_work and t_b > 0:
                points[m.kind + "_bwd"].append((m.bwd_work, m.kernels[1], m.bytes[1], t_b))
            if m.kind in MAC_KINDS:
                macs_points += [(m.macs[0], t_f), (m.macs[1], t_b)]
            records.append(
                {
                    "bench": m.label,
                    "kind": m.kind,
                    "fwd_ms": round(t_f * 1e3, 4),
                    "bwd_ms": round(t_b * 1e3, 4),
                    "spread": round(max(spread.get(f"f{i}", 0), spread.get(f"b{i}", 0)), 3),
                }
            )
        return points, macs_points, records

    def _device_name(self) -> str:
        torch = self.torch
        if self.cuda:
            return device_name(torch, self.dev)
        return f"{cpu_name()} ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"


def _fit_kinds(
    points: dict[str, list[tuple[float, int, float, float]]], o_fwd: float, o_bwd: float, cuda: bool
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per measured kernel kind: its rate (work per second), its own fixed cost in us where well above a plain
    kernel's, and its serial GB/s where its bytes are not hidden by the arithmetic (CPU compute kinds)."""
    rates, kind_overhead, serial = {}, {}, {}
    for k, pts in points.items():
        if not pts:
            continue
        base_o = o_bwd if k.endswith("_bwd") else o_fwd
        # a CPU's compute kernels may move bytes their arithmetic does not hide; a GPU's overlap both
        o, a, c = _fit_kind(pts, base_o, serial=not cuda and k.removesuffix("_bwd") in COMPUTE_KINDS)
        if a > 0:
            rates[k] = 1 / a
        if c > 0:
            serial[k] = round(1 / c / 1e9, 3)
        if o > 1.5 * base_o:  # a kind whose fixed cost is well above a plain kernel's keeps its own
            kind_overhead[k] = round(o * 1e6, 3)
    return rates, kind_overhead, serial


def _efficiencies(rates: dict[str, float], compute_peak: float, vector_peak: float, bandwidth: float) -> dict:
    """Each kernel kind's rate as a share of what bounds it: the compute peak (MAC kinds), the fp32 vector peak
    (pools and the other compute kinds) or the bandwidth; an unmeasured kind takes its fallback's rate."""
    eff = {}
    for k in KINDS:
        base = k.removesuffix("_bwd")
        if k not in rates:  # not measured: a path this device does not run, or (quick mode) a backward
            rates[k] = rates.get(FALLBACK.get(k, base), min(rates.values()))
        if base in MAC_KINDS:
            full = compute_peak * 1e12
        else:  # pools: of the vector (fp32) peak; the rest: of the bandwidth
            full = vector_peak * 1e12 if base in COMPUTE_KINDS else bandwidth * 1e9
        eff[k] = round(min(max(rates[k] / full, 1e-4), 1.0), 5)
    return eff


def calibrate(
    device: str = "cpu", quick: bool = False, threads: int | None = None, log=None, clock: str = "wall"
) -> dict[str, Any]:
    """Run the microbenchmarks and return the profile as a plain dict (ready to dump as YAML)."""
    cal = Calibration(device, quick, threads, clock)
    say = log or (lambda _m: None)
    for r in range(cal.rounds):
        say(f"round {r + 1}/{cal.rounds}")
        cal.run_round()
    return cal.fit()
