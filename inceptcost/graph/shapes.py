"""The per-op shape and cost engine that the compiler (`graph/compile.py`) and the width sweep
(`analyze/costs/sweep.py`) both run, so that a layer kind is taught once, in `kinds.KINDS`.

`resolve` fills in what a layer leaves to its input or to the spec (a depthwise conv's width and groups, a
linear's class count); `infer` applies the kind's shape rule, refuses a collapsed map and applies its cost
rule; `concat_shape` is the rule of a parallel module's filter concatenation. Each raises `layers.ShapeProblem`
(message and fix); the caller adds the file, line and layer.
"""

from __future__ import annotations

from ..kinds import KINDS, Cost, Shape, ShapeProblem


def resolve(kind: str, args: dict, shape: Shape, classes: int) -> dict:
    """`args` with the input-dependent values filled in (a new dict when anything changes)."""
    if kind == "conv" and args.get("multiplier"):
        if len(shape) != 3:
            raise ShapeProblem("needs a C x H x W feature map", "move it before the flattening layer")
        args = dict(args)
        args["out"], args["groups"] = shape[0] * args.pop("multiplier"), shape[0]
        args["depthwise"] = True  # one layer with its pointwise partner in the paper's depth count
    elif kind == "linear" and args["out"] is None:
        args = {**args, "out": classes}
    return args


def infer(kind: str, args: dict, shape: Shape) -> tuple[Shape, Cost]:
    """(output shape, cost for one image) of one op with resolved `args` fed a tensor of `shape`."""
    rule = KINDS[kind]
    out = rule.shape(args, shape)
    if len(out) == 3 and (out[1] < 1 or out[2] < 1):
        raise ShapeProblem(
            f"spatial size collapses to {out[1]}x{out[2]} (input {shape[1]}x{shape[2]})",
            "use a smaller kernel or stride, more padding, or a larger input",
        )
    return out, rule.cost(args, shape, out)


def concat_shape(outs: list[tuple[str, Shape]]) -> Shape:
    """The shape of named branch outputs concatenated along channels."""
    for branch, shape in outs:
        if len(shape) != 3:
            raise ShapeProblem(f"branch '{branch}' ends flat", "branches must end in feature maps")
    if len({shape[1:] for _, shape in outs}) > 1:
        shown = ", ".join(f"{b} {s[1]}x{s[2]}" for b, s in outs)
        raise ShapeProblem(
            f"branches end in different spatial sizes ({shown}) and cannot be concatenated",
            "give every branch the same total stride and matching padding",
        )
    return (sum(shape[0] for _, shape in outs), *outs[0][1][1:])
