"""The conv unit: conv [+ bn | lrn] [+ activation], one IR node (torchvision's BasicConv2d), all of its rules.

- memory: conv2d saves its input and weight (the fp32 parameter itself, or under autocast the weight's
  low-precision copy, cached for the whole forward); BN in training saves its input and two fp32 per-channel
  statistics (mean, inverse std); an in-place ReLU saves its output, which is the conv/BN output storage;
  in-place ReLU6 and SiLU save a copy of their input (their backward needs it); sigmoid and tanh save their
  output, GELU its input. LRN as in norm.py.
- traffic: conv reads E_in + W, writes E_out. Its epilogue runs as separate kernels, each reading and writing
  E_out: batch norm (in training it reads E_out twice: statistics, then normalization), the activation (in
  place). Backward: the activation reads its output and the gradient and writes a gradient; batch norm reads
  the saved tensor and the gradient and writes a gradient; the conv reads the saved input, the output gradient
  and W, and writes the input gradient and the weight gradient (2 x MACs). The first layer does not compute
  an input gradient (the image needs none).
"""

from __future__ import annotations

import math
from math import prod

from .base import (
    ACTIVATIONS,
    LRN_DEFAULTS,
    NORMS,
    REQUIRED,
    Buf,
    Cost,
    Kernels,
    Kind,
    Op,
    RuleContext,
    Shape,
    ShapeProblem,
    act_ops,
    boolean,
    choice,
    dims2,
    need_map,
    padding,
    pos_float,
    pos_int,
    spatial,
)
from .units import epilogue, gemm_pair, in_place_activation_memory, lrn_memory_steps, matmul_memory, with_norm_params


def conv_shape(args: dict, shape: Shape) -> Shape:
    need_map(shape)
    c = shape[0]
    g = args["groups"]
    if c % g or args["out"] % g:
        raise ShapeProblem(
            f"groups={g} must divide both the input channels ({c}) and out ({args['out']}); pick a common divisor"
        )
    return (args["out"], *spatial(args, shape))


def conv_cost(args: dict, i: Shape, o: Shape) -> Cost:
    kh, kw = args["kernel"]
    weights = o[0] * (i[0] // args["groups"]) * kh * kw
    numel = math.prod(o)
    norm = 2 * o[0] if args["norm"] == "bn" else 0
    norm_ops = {"bn": 2 * numel, "lrn": numel * (args["size"] + 3) if args["norm"] == "lrn" else 0}.get(args["norm"], 0)
    return Cost(
        weights=weights,
        biases=o[0] if args["bias"] else 0,
        norm=norm,
        macs=o[1] * o[2] * weights,
        other_ops=norm_ops + act_ops(args, numel),
    )


def conv_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    op = Op()
    kh, kw = a["kernel"]
    weights = o[0] * (i[0] // a["groups"]) * kh * kw
    bias = o[0] if a["bias"] else 0
    op.param_bytes = 4 * (weights + bias + (2 * o[0] if a["norm"] == "bn" else 0))
    dt = matmul_memory(op, x, ctx.batch * prod(i), weights, bias, ctx, "conv")
    n = ctx.batch * prod(o)
    op.bufs.append(Buf("conv output", dt, n))
    if a["norm"] == "bn":
        op.keep_last(ctx)
        if ctx.train:
            op.bufs += [Buf(f"bn {s}", "fp32", o[0], saved=True, side=True) for s in ("mean", "inverse std")]
        op.bufs.append(Buf("bn output", dt, n))
    elif a["norm"] == "lrn":
        lrn_memory_steps(op, dt, o[0], o[1] * o[2], a["size"], ctx)
    in_place_activation_memory(op, a["activation"], op.chain_dtype(dt), n, ctx)
    return op


def conv_kind(args: dict) -> str:
    """depthwise, conv1x1 (unstrided: a GEMM over the pixels), or conv (a strided 1x1 is a conv's kernel too)."""
    if args.get("depthwise"):
        return "depthwise"
    return "conv1x1" if tuple(args["kernel"]) == (1, 1) and tuple(args["stride"]) == (1, 1) else "conv"


def conv_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    fwd, bwd = gemm_pair(conv_kind(a["args"]), a, c, e_in, e_out)
    efwd, ebwd = epilogue(a["args"], e_out, c)
    norm = a["norm_params"] * c.size  # the affine parameters' own reads and gradient writes
    if norm:
        efwd[0], ebwd[0] = with_norm_params(efwd[0], ebwd[0], norm)
    return [fwd, *efwd], [*reversed(ebwd), bwd]


CONV = Kind(
    keys={
        "out": (pos_int, REQUIRED),
        "kernel": (dims2, REQUIRED),
        "stride": (dims2, (1, 1)),
        "padding": (padding, "same"),
        "groups": (pos_int, 1),
        "bias": (boolean, None),  # None: from the spec's defaults
        "norm": (choice(*NORMS), None),
        "activation": (choice(*ACTIVATIONS), None),
        "eps": (pos_float, None),
        **{k: (parse, None) for k, (parse, _) in LRN_DEFAULTS.items()},
    },
    shape=conv_shape,
    cost=conv_cost,
    memory=conv_memory,
    traffic=conv_traffic,
    style={"shape": "box", "style": "rounded,filled"},
)
