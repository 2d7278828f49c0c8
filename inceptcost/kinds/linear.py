"""The linear layer (it flattens its input first, a view), all of its rules.

- cost: in x out weights and multiply-adds, the bias, an activation's other ops.
- memory: saves its input and weight, as conv does; a channels-last feature map larger than 1x1 does not
  flatten as a view: the flattened copy is what it saves.
- traffic: the same as a conv (one GEMM forward, two backward) and its activation's epilogue.
"""

from __future__ import annotations

import math
from math import prod

from .base import ACTIVATIONS, Buf, Cost, Kernels, Kind, Op, RuleContext, Shape, act_ops, boolean, choice, pos_int
from .units import epilogue, gemm_pair, in_place_activation_memory, matmul_memory


def linear_shape(args: dict, shape: Shape) -> Shape:
    return (args["out"],)


def linear_cost(args: dict, i: Shape, o: Shape) -> Cost:
    weights = math.prod(i) * o[0]
    return Cost(weights=weights, biases=o[0] if args["bias"] else 0, macs=weights, other_ops=act_ops(args, o[0]))


def linear_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    op = Op()
    weights, bias = prod(i) * o[0], o[0] if a["bias"] else 0
    op.param_bytes = 4 * (weights + bias)
    if ctx.channels_last and len(i) == 3 and i[1] * i[2] > 1:
        op.bufs.append(Buf("linear input (flattened copy)", x, ctx.batch * prod(i)))
    dt = matmul_memory(op, x, ctx.batch * prod(i), weights, bias, ctx, "linear")
    op.bufs.append(Buf("linear output", dt, ctx.batch * o[0]))
    in_place_activation_memory(op, a["activation"], dt, ctx.batch * o[0], ctx)
    return op


def linear_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    fwd, bwd = gemm_pair("gemm", a, c, e_in, e_out)
    efwd, ebwd = epilogue(a["args"], e_out, c)
    return [fwd, *efwd], [*reversed(ebwd), bwd]


LINEAR = Kind(
    keys={
        "out": (pos_int, None),  # None: the spec's classes
        "bias": (boolean, None),
        "activation": (choice(*ACTIVATIONS), "none"),
    },
    shape=linear_shape,
    cost=linear_cost,
    memory=linear_memory,
    traffic=linear_traffic,
    style={"shape": "box", "style": "rounded,filled"},
)
