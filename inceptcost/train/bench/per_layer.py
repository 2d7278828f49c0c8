"""Per-layer time against MACs and a roofline: where MACs predict time and where they do not.

Each IR op is timed by forward hooks on its module (a device synchronize before and after, so layers do not
overlap; eager, forward only, in inference mode). A concat is not a module: its time is the module's total
minus its branches' (so it also holds the branch bookkeeping). The roofline estimate of a node is
max(2 x MACs x batch / peak FLOP/s, bytes moved / peak bandwidth) (the predictor's Roofline at the peaks), bytes = (input + output activations) x batch
x dtype size + weights x dtype size. Conv units include their norm and activation, as in the model. With a
device profile each row also shows the predictor's time (analyze/timing/predict.py) and its error.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

from ...analyze.timing.predict import Roofline, predict
from ...errors import InceptcostError
from ...text import dims_text
from . import peaks
from .runner import BenchConfig, _device, _torch, device_name


def op_class(attrs: dict[str, Any]) -> str:
    """A coarse kind for grouping: conv1x1, conv3x3, conv5x5, depthwise, maxpool, concat, lrn, linear ..."""
    op, args = attrs["op"], attrs["args"]
    if op == "conv":
        if args.get("depthwise"):
            return "depthwise"
        return f"conv{dims_text(args['kernel'])}"
    return op


def per_layer(spec, cfg: BenchConfig, profile=None) -> dict[str, Any]:
    """Time every IR node; with a device `profile`, each row also gets the predicted time and the error."""
    torch = _torch()
    from ...graph.compile import compile_graph

    spec = replace(spec, aux=())
    graph = compile_graph(spec)
    device = _device(torch, cfg.device)
    dev_name = device_name(torch, device)
    math_kind = "bf16" if cfg.amp else ("tf32" if device.type == "cuda" and torch.backends.cudnn.allow_tf32 else "fp32")
    peak = peaks.detect(dev_name) if device.type == "cuda" else None
    peak_tf = cfg.peak_tflops if cfg.peak_tflops is not None else peaks.peak_tflops(peak, math_kind)
    peak_bw = cfg.peak_bw_gbs if cfg.peak_bw_gbs is not None else (peak.bandwidth_gbs if peak else None)
    med = _median_ms(torch, graph, spec.input, device, cfg)
    records = _records(graph, med, cfg, peak_tf, peak_bw)
    if profile is not None:
        _add_prediction(records, graph, profile, cfg)
    total_ms = sum(r["measured_ms"] for r in records)
    return {
        "spec": spec.name,
        "device_name": dev_name,
        "batch": cfg.batch,
        "math": math_kind,
        "peak_tflops": peak_tf,
        "peak_bw_gbs": peak_bw,
        "method": "forward hooks with device synchronize, eager inference, median over steps",
        "total_measured_ms": total_ms,
        "total_predicted_ms": sum(r["predicted_ms"] for r in records) if profile is not None else None,
        "profile": profile.file if profile is not None else None,
        "layers": records,
        "by_op": _by_op(records, total_ms, profile is not None, bool(peak_tf or peak_bw)),
    }


def _median_ms(torch, graph, input_chw, device, cfg: BenchConfig) -> dict[str, float]:
    """The median forward time of each IR node's module (and of each parallel module, for its concat), in ms."""
    from ...graph.model import build_model

    model = build_model(graph).to(device).eval()
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    x = torch.randn(cfg.batch, *input_chw, device=device)
    if cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)

    ops = [n for n in graph if graph.nodes[n]["op"] not in ("input",)]
    modules = {n: model.get_submodule(n) for n in ops if graph.nodes[n]["op"] != "concat"}
    parallels = {n: model.get_submodule(n.rsplit(".", 1)[0]) for n in ops if graph.nodes[n]["op"] == "concat"}
    times: dict[str, list[float]] = defaultdict(list)
    starts: dict[str, float] = {}
    handles = []

    def hook_pair(name: str, module) -> None:
        def pre(_m, _i):
            sync()
            starts[name] = time.perf_counter()

        def post(_m, _i, _o):
            sync()
            times[name].append((time.perf_counter() - starts[name]) * 1e3)

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))

    for name, module in modules.items():
        hook_pair(name, module)
    for name, module in parallels.items():
        hook_pair(name, module)  # the whole module; concat = this minus its branches
    amp = torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.amp)
    try:
        with torch.no_grad(), amp:
            for _ in range(max(cfg.warmup, 1)):
                model(x)
            times.clear()
            for _ in range(cfg.steps):
                model(x)
    finally:
        for h in handles:
            h.remove()
    if not times:
        raise InceptcostError("no layer was timed", hint="is the spec empty?")
    return {n: statistics.median(v) for n, v in times.items()}


def _records(graph, med: dict[str, float], cfg: BenchConfig, peak_tf, peak_bw) -> list[dict[str, Any]]:
    """One row per IR node: measured time, MACs, bytes moved, the roofline at the peaks, and the shares."""
    dtype_bytes = 2 if cfg.amp else 4
    ops = [n for n in graph if graph.nodes[n]["op"] not in ("input",)]
    members: dict[str, list[str]] = defaultdict(list)
    for n in ops:
        mod = graph.nodes[n]["module"]
        if graph.nodes[n]["op"] != "concat" and mod is not None:
            members[f"{mod}.concat"].append(n)
    records = []
    for n in ops:
        a = graph.nodes[n]
        if a["op"] == "concat":
            measured = med[n] - sum(med[m] for m in members[n])
            in_el = out_el = math.prod(a["out_shape"])
        else:
            measured = med[n]
            in_el, out_el = math.prod(a["in_shape"]), math.prod(a["out_shape"])
        flops = 2 * a["macs"] * cfg.batch
        moved = (in_el + out_el) * cfg.batch * dtype_bytes + a["params"] * dtype_bytes
        arms = Roofline.of(flops, moved, peak_tf * 1e12 if peak_tf else None, peak_bw * 1e9 if peak_bw else None)
        estimate = arms.seconds * 1e3 if arms.seconds is not None else None
        records.append(
            {
                "name": n,
                "op": op_class(a),
                "macs": a["macs"],
                "bytes_moved": moved,
                "measured_ms": measured,
                "roofline_ms": estimate,
                "bound": arms.bound,
                "measured_over_roofline": measured / estimate if estimate else None,
            }
        )
    return records


def _by_op(records: list[dict[str, Any]], total_ms: float, predicted: bool, roofline: bool) -> list[dict[str, Any]]:
    """The rows summed per op class, slowest first; fills each row's time and MACs shares on the way."""
    total_macs = sum(r["macs"] for r in records) or 1
    for r in records:
        r["time_share"] = r["measured_ms"] / total_ms if total_ms else None
        r["macs_share"] = r["macs"] / total_macs
    groups: dict[str, dict[str, Any]] = {}
    for r in records:
        g = groups.setdefault(r["op"], {"op": r["op"], "count": 0, "macs": 0, "measured_ms": 0.0, "roofline_ms": 0.0})
        g["count"] += 1
        g["macs"] += r["macs"]
        g["measured_ms"] += r["measured_ms"]
        g["roofline_ms"] += r["roofline_ms"] or 0.0
        if predicted:
            g["predicted_ms"] = g.get("predicted_ms", 0.0) + r["predicted_ms"]
    for g in groups.values():
        g["macs_share"] = g["macs"] / total_macs
        g["time_share"] = g["measured_ms"] / total_ms if total_ms else None
        g["roofline_ms"] = g["roofline_ms"] if roofline else None
    return sorted(groups.values(), key=lambda g: -g["measured_ms"])


def _add_prediction(records: list[dict[str, Any]], graph, profile, cfg: BenchConfig) -> None:
    """The predictor's inference time per node beside the measurement (same batch and dtype)."""
    profile.check_device(cfg.device)
    rows = {r.name: r for r in predict(graph, profile, cfg.batch, "bf16" if cfg.amp else "fp32", "infer").rows}
    for r in records:
        p = rows[r["name"]]
        r["predicted_ms"] = p.ms
        r["predicted_bound"] = p.bound
        r["error"] = p.ms / r["measured_ms"] - 1 if r["measured_ms"] > 0 else None
