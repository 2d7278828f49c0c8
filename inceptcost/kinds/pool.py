"""Pools: max, average, adaptive average (a global average pool is one to 1x1), all of their rules.

- cost: one other op per output element per window element; an adaptive pool reads every input element once.
- memory: max-pool saves its input and int64 indices (one per output element); avg-pool its input; a global
  average pool (adaptive to 1x1) is a mean and saves nothing; any other adaptive pool saves its input.
- traffic: a max pool reads E_in, writes E_out (and, in training, int64 indices of E_out). Backward reads the
  output gradient (and the indices) and writes the input gradient E_in. Average and adaptive pools: no indices.
  A pool's work besides its bytes is its window: E_out x kh x kw elements compared or summed (the `macs` of its
  kernel, for time only: a pool has no multiply-adds); a max pool's backward adds each output's gradient at one
  index (E_out), an average pool's spreads it over the window (E_out x kh x kw). On a CPU the window loop, not
  the bytes, bounds a pool.
"""

from __future__ import annotations

import math
from math import prod

from .base import (
    INDEX_BYTES,
    REQUIRED,
    Buf,
    Cost,
    Kernel,
    Kernels,
    Kind,
    Op,
    RuleContext,
    Shape,
    ShapeProblem,
    boolean,
    dims2,
    need_map,
    padding,
    spatial,
)


def pool_shape(args: dict, shape: Shape) -> Shape:
    need_map(shape)
    ph, pw = args["padding"]
    if ph > args["kernel"][0] // 2 or pw > args["kernel"][1] // 2:
        raise ShapeProblem("pool padding must be at most half the kernel; use a smaller padding or a larger kernel")
    return (shape[0], *spatial(args, shape, args.get("ceil", False)))


def adaptive_shape(args: dict, shape: Shape) -> Shape:
    need_map(shape)
    return (shape[0], *args["output"])


def pool_cost(args: dict, i: Shape, o: Shape) -> Cost:
    kh, kw = args["kernel"]
    return Cost(other_ops=math.prod(o) * kh * kw)


def adaptive_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(other_ops=math.prod(i))  # every input element is read into one average


def maxpool_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    n = ctx.batch * prod(o)
    indices = [Buf("max-pool indices (int64)", "int64", n, saved=True, side=True)] if ctx.train else []
    return Op(bufs=[*indices, Buf("max-pool output", x, n)], saves_input=ctx.train)


def avgpool_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    return Op(bufs=[Buf("avg-pool output", x, ctx.batch * prod(o))], saves_input=ctx.train)


def adaptive_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    mean = tuple(o[1:]) == (1, 1)  # torch computes a 1x1 adaptive pool as a mean, which saves nothing
    return Op(bufs=[Buf("adaptive-pool output", x, ctx.batch * prod(o))], saves_input=ctx.train and not mean)


def pool_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    s = c.size
    kind = "maxpool" if a["op"] == "maxpool" else "avgpool"
    # an adaptive pool's windows tile its input; a fixed one's cover kh x kw elements each (padding included)
    window = e_in if a["op"] == "adaptive_avgpool" else e_out * prod(a["args"]["kernel"])
    idx = e_out * INDEX_BYTES if kind == "maxpool" and c.train else 0
    fwd = Kernel(kind, window, e_in * s, e_out * s + idx, (e_out * s, idx) if idx else (e_out * s,))
    bwd = Kernel(f"{kind}_bwd", e_out if kind == "maxpool" else window, e_out * s + idx, e_in * s, (e_in * s,))
    return [fwd], [bwd]


_WINDOW = {"kernel": (dims2, REQUIRED), "stride": (dims2, None), "padding": (padding, (0, 0))}
_STYLE = {"shape": "box", "style": "filled"}

MAXPOOL = Kind(
    keys={**_WINDOW, "ceil": (boolean, False)},
    shape=pool_shape,
    cost=pool_cost,
    memory=maxpool_memory,
    traffic=pool_traffic,
    style=dict(_STYLE),
    is_pool=True,
)
AVGPOOL = Kind(
    keys={**_WINDOW, "ceil": (boolean, False), "count_pad": (boolean, True)},
    shape=pool_shape,
    cost=pool_cost,
    memory=avgpool_memory,
    traffic=pool_traffic,
    style=dict(_STYLE),
    is_pool=True,
)
ADAPTIVE_AVGPOOL = Kind(
    keys={"output": (dims2, (1, 1))},
    shape=adaptive_shape,
    cost=adaptive_cost,
    memory=adaptive_memory,
    traffic=pool_traffic,
    style=dict(_STYLE),
    is_pool=True,
)
