"""Standalone normalizations: batch norm (after an add, in Xception's blocks) and local response norm, all of
their rules (the same norms inside a conv unit are conv.py's, built from the same pieces in units.py).

- memory: BN in training saves its input and two fp32 per-channel statistics (mean, inverse std). LRN is
  composed by torch of ops: x saved by x * x, the squares padded along channels (C + size - 1) saved by
  avg_pool3d, `alpha * mean + k` saved by pow, pow's result saved by the division. Under autocast avg_pool3d
  runs in fp32 on CPU, pow in fp32 on CUDA; from there on the tensors are fp32, the output too, so every conv
  that reads it saves its own low-precision copy.
- traffic: BN is a conv unit's norm epilogue plus its affine parameters. LRN is 7 kernels, each reading and
  writing E_out (the final division reads two tensors); its backward about 10, each reading two, writing one.
"""

from __future__ import annotations

import math
from math import prod

from .base import (
    LRN_DEFAULTS,
    Buf,
    Cost,
    Kernels,
    Kind,
    Op,
    RuleContext,
    Shape,
    map_shape,
    pos_float,
)
from .units import epilogue, lrn_memory_steps, with_norm_params


def bn_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(norm=2 * o[0], other_ops=2 * math.prod(o))  # gamma, beta; one scale and one shift per element


def bn_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    """A standalone BatchNorm2d: as in a conv unit, its input and two fp32 statistics."""
    stats = [Buf(f"bn {s}", "fp32", i[0], saved=True, side=True) for s in ("mean", "inverse std")] if ctx.train else []
    return Op(bufs=[*stats, Buf("bn output", x, ctx.batch * prod(o))], saves_input=ctx.train, param_bytes=8 * i[0])


def bn_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    """A standalone BatchNorm: conv's norm epilogue with its affine params."""
    fwd, bwd = epilogue({"norm": "bn"}, e_out, c)
    f, b = with_norm_params(fwd[0], bwd[0], a["norm_params"] * c.size)
    return [f], [b]


def lrn_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(other_ops=math.prod(o) * (args["size"] + 3))  # window sum of squares, scale, power, divide


def lrn_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    op = Op()
    lrn_memory_steps(op, x, i[0], i[1] * i[2], a["size"], ctx)
    return op


def lrn_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    return epilogue({"norm": "lrn"}, e_out, c)


BN = Kind(
    keys={"eps": (pos_float, None)},  # None: the spec's defaults
    shape=map_shape,
    cost=bn_cost,
    memory=bn_memory,
    traffic=bn_traffic,
    style={"shape": "box"},
)
LRN = Kind(
    keys=dict(LRN_DEFAULTS),
    shape=map_shape,
    cost=lrn_cost,
    memory=lrn_memory,
    traffic=lrn_traffic,
    style={"shape": "box"},
)
