"""The kinds that pass or join tensors: dropout, flatten, the residual add and the concat, all of their rules.

- dropout: free at inference (it returns its input); in training on CPU a noise tensor of the input's dtype
  and size (output = input * noise), on CUDA a bool mask (the fused kernel): reads E_in, writes E_out and a
  one-byte mask; backward reads the gradient and the mask, writes the gradient.
- flatten: a view, no kernel, no new storage.
- residual add (`act(scale * body + shortcut)`), an IR node of its own, not a layer one writes: one other op
  per element, plus the body's scaling and the activation after it. The add and a multiplication by a Python
  number save no tensor; the sum takes the wider of the two dtypes (under autocast a bf16 body plus an fp32
  shortcut is fp32); the activation after it is never in place, as a standalone one. `body * scale` is a
  temporary freed by the add (kept as a side buffer, so the walk does not hold it past the add).
- concat: the compiler's own node. It copies its inputs into one tensor (reads and writes E_out); backward
  slices the gradient into views (no kernel) and saves nothing, which the memory walk handles itself.
"""

from __future__ import annotations

import math
from math import prod

from .base import (
    MASK_BYTES,
    REQUIRED,
    Buf,
    Cost,
    Kernel,
    Kernels,
    Kind,
    Op,
    RuleContext,
    Shape,
    free_cost,
    probability,
    same_shape,
    wide,
)
from .units import apart_activation_memory, epilogue


def view_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    return Op(out_is_input=True)


def view_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    return [], []


def flatten_shape(args: dict, shape: Shape) -> Shape:
    return (math.prod(shape),)


def dropout_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    if not ctx.train:
        return Op(out_is_input=True)
    n = ctx.batch * prod(o)
    if ctx.device == "cuda":
        mask = Buf("dropout mask (bool)", "bool", n, saved=True, side=True)
    else:
        mask = Buf("dropout noise", x, n, saved=True, side=True)
    return Op(bufs=[mask, Buf("dropout output", x, n)])


def dropout_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    if not c.train:
        return [], []
    s = c.size
    fwd = Kernel("eltwise", 0, e_in * s, e_out * (s + MASK_BYTES), (e_out * s, e_out * MASK_BYTES))
    bwd = Kernel("eltwise_bwd", 0, e_out * (s + MASK_BYTES), e_in * s, (e_in * s,))
    return [fwd], [bwd]


def add_cost(args: dict, i: Shape, o: Shape) -> Cost:
    """A residual add: one add per element, plus the body's scaling and the activation after it."""
    numel = math.prod(o)
    return Cost(other_ops=numel * (1 + (args["scale"] != 1) + (args["activation"] != "none")))


def add_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    """x is the body's dtype; the walk passes the shortcut's as a["shortcut_dtype"]."""
    n, out = ctx.batch * prod(o), wide(x, a["shortcut_dtype"])
    op = Op()
    if a["scale"] != 1:
        op.bufs.append(Buf("add body * scale", x, n, side=True))
    op.bufs.append(Buf("add output", out, n))
    apart_activation_memory(op, a["activation"], out, n, ctx)
    return op


def add_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    """The body scaled (one kernel when scale != 1), the add reading two tensors, then the activation; backward
    hands the gradient to both inputs (scaled on the body's side)."""
    b = e_out * c.size
    scaled = a["args"]["scale"] != 1
    fwd = [Kernel("eltwise", 0, b, b, (b,))] if scaled else []
    fwd.append(Kernel("eltwise", 0, 2 * b, b, (b,)))
    bwd = [Kernel("eltwise_bwd", 0, b, b, (b,))] if scaled else []
    efwd, ebwd = epilogue({"activation": a["args"]["activation"]}, e_out, c, in_place=False)
    return [*fwd, *efwd], [*reversed(ebwd), *bwd]


def concat_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    b = e_out * c.size
    return [Kernel("copy", 0, b, b, (b,))], []


DROPOUT = Kind(
    keys={"p": (probability, REQUIRED)},
    shape=same_shape,
    cost=free_cost,
    memory=dropout_memory,
    traffic=dropout_traffic,
    style={"shape": "box", "style": "dashed"},
)
FLATTEN = Kind(
    keys={},
    shape=flatten_shape,
    cost=free_cost,
    memory=view_memory,
    traffic=view_traffic,
    style={"shape": "box"},
)
ADD = Kind(
    keys={},
    shape=same_shape,
    cost=add_cost,
    memory=add_memory,
    traffic=add_traffic,
    style={"shape": "circle", "style": "filled", "fillcolor": "white", "width": "0.3", "fixedsize": "true"},
)
