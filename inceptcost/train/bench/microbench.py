"""The layer microbenchmarks that `calibrate` times: each one layer described as an IR node (its kind's shape and
cost rules), its work counted by its kind's traffic rule, as the predictor counts it, run as the torch module the
model builder makes for it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ... import kinds
from ...analyze.timing.traffic import COMPUTE_KINDS, GEMM_1X1_BELOW
from ...graph.model.builders import BUILDERS

BATCH = 4


@dataclass
class Micro:
    label: str
    kind: str  # the forward kernel kind it measures (and kind + "_bwd" where it has a backward)
    fwd_work: int  # 2 x MACs for compute kinds, else bytes
    bwd_work: int
    macs: tuple[int, int]  # forward, backward
    bytes: tuple[int, int]
    kernels: tuple[int, int]  # kernels of the kind per call, forward and backward (each pays the overhead)


def _node(op: str, args: dict, in_shape: tuple) -> dict:
    kind = kinds.KINDS[op]
    out = kind.shape(args, in_shape)
    c = kind.cost(args, in_shape, out)
    return {
        "op": op,
        "args": args,
        "in_shape": in_shape,
        "out_shape": out,
        "macs": c.macs,
        "params": c.params,
        "weights": c.weights,
        "biases": c.biases,
        "norm_params": c.norm,
    }


def _conv_args(out: int, k: int, stride: int = 1, groups: int = 1, **extra) -> dict:
    return {
        "out": out,
        "kernel": (k, k),
        "stride": (stride, stride),
        "padding": (k // 2, k // 2),
        "groups": groups,
        "bias": False,
        "norm": "none",
        "activation": "none",
        "eps": 1e-5,
        **extra,
    }


def micro(label: str, node: dict, kind: str, batch: int, size: int) -> Micro:
    """The work, MACs, bytes and kernel counts of `kind`'s kernels in this node, forward and backward."""
    e_in = batch * math.prod(node["in_shape"])
    e_out = batch * math.prod(node["out_shape"])
    fwd, bwd = kinds.TRAFFIC[node["op"]](node, kinds.RuleContext(batch, True, size=size), e_in, e_out)
    f = [x for x in fwd if x.kind == kind]
    b = [x for x in bwd if x.kind == kind + "_bwd"]

    def work(ks):
        return sum(2 * x.macs if kind in COMPUTE_KINDS else x.bytes for x in ks)

    return Micro(
        label,
        kind,
        work(f),
        work(b),
        (sum(x.macs for x in f), sum(x.macs for x in b)),
        (sum(x.bytes for x in f), sum(x.bytes for x in b)),
        (len(f), len(b)),
    )


def _pick(shapes: list, quick: bool) -> list:
    """Quick: the first two shapes of a kind (one large, one small, so that both its rate and fixed cost show)."""
    return shapes[:2] if quick else shapes


def plan(quick: bool) -> list[tuple[str, str, dict, int]]:
    """(label, kind, node, batch) for each layer benchmark."""
    conv1 = [(192, 28, 64), (16, 8, 8), (64, 56, 64), (480, 14, 192), (832, 7, 256), (256, 28, 128), (32, 16, 48)]
    convk = [(96, 28, 128, 3), (8, 8, 8, 3), (128, 14, 256, 3), (16, 28, 32, 5), (32, 14, 96, 5), (3, 64, 32, 3)]
    convk += [(64, 28, 96, 3), (16, 8, 16, 5)]
    rows = []
    for c, h, o in _pick(conv1, quick):
        rows.append((f"conv1x1 {c}->{o} {h}x{h}", "conv1x1", _node("conv", _conv_args(o, 1), (c, h, h)), BATCH))
    # the same kind at the batch from which one CPU thread runs it through oneDNN, not as a plain GEMM
    for c, h, o in _pick([(192, 14, 64), (16, 8, 8), (64, 28, 64), (480, 7, 192), (256, 14, 128)], quick):
        node = _node("conv", _conv_args(o, 1), (c, h, h))
        rows.append((f"conv1x1 {c}->{o} {h}x{h} b{GEMM_1X1_BELOW}", "conv1x1", node, GEMM_1X1_BELOW))
    for c, h, o, k in _pick(convk, quick):
        rows.append((f"conv{k}x{k} {c}->{o} {h}x{h}", "conv", _node("conv", _conv_args(o, k), (c, h, h)), BATCH))
    for c, h, o, k in [] if quick else [(64, 28, 96, 3), (32, 14, 96, 5)]:  # more work a call: the rate, not the cost
        node = _node("conv", _conv_args(o, k), (c, h, h))
        rows.append((f"conv{k}x{k} {c}->{o} {h}x{h} b{4 * BATCH}", "conv", node, 4 * BATCH))
    for c, h, m, k, s in _pick([(3, 112, 8, 7, 2), (8, 16, 1, 3, 1), (32, 28, 1, 3, 1)], quick):
        args = _conv_args(c * m, k, s, groups=c, depthwise=True)
        rows.append((f"depthwise{k}x{k} {c}x{m} {h}x{h}", "depthwise", _node("conv", args, (c, h, h)), BATCH))
    for i, o in _pick([(1024, 1000), (64, 10), (512, 512), (2048, 256)], quick):
        rows.append(
            (f"linear {i}->{o}", "gemm", _node("linear", {"out": o, "bias": True, "activation": "none"}, (i,)), BATCH)
        )
    maxpools = [(3, 2, 0, (64, 56, 56)), (3, 1, 1, (8, 8, 8)), (3, 1, 1, (192, 28, 28)), (3, 2, 0, (480, 28, 28))]
    avgpools = [(5, 3, 0, (512, 14, 14)), (3, 1, 1, (8, 8, 8)), (3, 1, 1, (192, 17, 17)), (7, 1, 0, (1024, 7, 7))]
    for op, shapes in (("maxpool", maxpools), ("avgpool", avgpools)):
        for k, s, p, shape in _pick(shapes, quick):
            args = {"kernel": (k, k), "stride": (s, s), "padding": (p, p), "ceil": True, "count_pad": True}
            rows.append((f"{op} {k}x{k}/{s} {shape[0]}x{shape[1]}", op, _node(op, args, shape), BATCH))
    for c, h in _pick([(64, 56), (8, 8), (192, 28), (512, 14)], quick):
        rows.append((f"batchnorm {c}x{h}x{h}", "bn", _node("conv", _conv_args(c, 1, norm="bn"), (c, h, h)), BATCH))
        rows.append(
            (f"relu {c}x{h}x{h}", "eltwise", _node("conv", _conv_args(c, 1, activation="relu"), (c, h, h)), BATCH)
        )
    for c, h in _pick([(64, 56), (8, 8), (192, 28)], quick):
        lrn = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0}
        rows.append((f"lrn {c}x{h}x{h}", "lrn", _node("lrn", lrn, (c, h, h)), BATCH))
    for c, h in _pick([(256, 28), (16, 8), (512, 14)], quick):
        node = {"op": "concat", "in_shape": (c, h, h), "out_shape": (c, h, h)}
        rows.append((f"concat 4 -> {c}x{h}x{h}", "copy", node, BATCH))
    return rows


def module(torch, kind: str, node: dict, device, dtype, batch: int = BATCH):
    """(call, leaves) for one benchmark: the module the model builder makes for the piece under test. Batch norm
    and ReLU are timed alone on the conv's output shape (timing them behind a conv and subtracting the conv's
    time left the difference of two noisy figures, most of it the conv's noise); ReLU out of place, since a
    leaf cannot be changed in place (the same bytes as the model's in-place ReLU)."""
    nn = torch.nn
    a, i, o = node.get("args", {}), node["in_shape"], node["out_shape"]
    if kind in ("bn", "eltwise"):
        x = torch.randn(batch, *o, device=device, dtype=dtype, requires_grad=True)
        mod = (nn.BatchNorm2d(o[0]) if kind == "bn" else nn.ReLU()).to(device=device, dtype=dtype).train()
        return (lambda: mod(x)), [x, *mod.parameters()]
    if kind == "copy":
        parts = [
            torch.randn(batch, i[0] // 4, *i[1:], device=device, dtype=dtype, requires_grad=True) for _ in range(4)
        ]
        return (lambda: torch.cat(parts, 1)), parts
    x = torch.randn(batch, *i, device=device, dtype=dtype, requires_grad=True)
    mod = BUILDERS[node["op"]]({**a, "norm": "none", "activation": "none"} if "norm" in a else a, i, o)
    mod = mod.to(device=device, dtype=dtype).train()
    return (lambda: mod(x)), [x, *mod.parameters()]


def backward_of(fn, leaves):
    """The backward of one call alone: the graph is kept between calls, the gradients dropped."""
    out = fn()
    grad = out.new_ones(out.shape)

    def run():
        out.backward(grad, retain_graph=True)
        for t in leaves:
            t.grad = None

    return run
