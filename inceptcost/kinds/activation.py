"""A standalone activation layer, all of its rules. It is never in place: its input may also feed a shortcut or
another branch. ReLU, sigmoid and tanh save their output, the others their input; one other op per element;
forward reads and writes E_out, backward reads two tensors and writes one."""

from __future__ import annotations

import math
from math import prod

from .base import ACTIVATIONS, REQUIRED, Cost, Kernels, Kind, Op, RuleContext, Shape, choice, same_shape
from .units import apart_activation_memory, epilogue


def activation_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(other_ops=math.prod(o))


def activation_memory(a: dict, x: str, i: tuple, o: tuple, ctx: RuleContext) -> Op:
    if a["activation"] == "none":
        return Op(out_is_input=True)
    op = Op()
    apart_activation_memory(op, a["activation"], x, ctx.batch * prod(o), ctx)
    return op


def activation_traffic(a: dict, c: RuleContext, e_in: int, e_out: int) -> Kernels:
    return epilogue({"activation": a["args"]["activation"]}, e_out, c, in_place=False)


ACTIVATION = Kind(
    keys={"activation": (choice(*ACTIVATIONS[:-1]), REQUIRED)},
    shape=same_shape,
    cost=activation_cost,
    memory=activation_memory,
    traffic=activation_traffic,
    style={"shape": "box"},
)
