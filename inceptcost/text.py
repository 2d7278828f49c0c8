"""How layers, kinds and shapes are written, in one place: every report, table, diagram and message uses these.

Shapes are written the paper's way, `HxWxC` (Table 1's output column); a flat vector as `1x1xC`. A layer kind
has a long word (Table 1's type column: `max pool`) and a short one (the terminal table's narrow column:
`max`); the diagram writes a layer as the paper's figures do (`3x3 conv 320`, `3x3/2 max pool`).
"""

from __future__ import annotations

import re
from typing import Any

# op -> (Table 1's word, the short word); any other op is written with its name, `_` read as a space.
OP_WORDS = {
    "conv": ("convolution", "conv"),
    "maxpool": ("max pool", "max"),
    "avgpool": ("avg pool", "avg"),
    "adaptive_avgpool": ("adaptive avgpool", "gap"),
    "lrn": ("lrn", "LRN"),
    "linear": ("linear", "linear"),
    "flatten": ("flatten", "flatten"),
    "dropout": ("dropout", "drop"),
}


def shape_text(shape: tuple[int, ...]) -> str:
    """(C, H, W) -> Table 1's `HxWxC`; a flat (C,) -> `1x1xC`."""
    if len(shape) == 3:
        return f"{shape[1]}x{shape[2]}x{shape[0]}"
    return f"1x1x{shape[0]}"


def dims_text(dims: tuple[int, ...]) -> str:
    """(3, 3) -> `3x3`: kernels, strides, paddings, grids."""
    return "x".join(map(str, dims))


def window_text(kernel: tuple[int, int], stride: tuple[int, int], always_stride: bool = False) -> str:
    """Table 1's patch size/stride: `7x7/2`; the stride is left out at 1 unless `always_stride` (`3x3/1`)."""
    text = dims_text(kernel)
    if always_stride or tuple(stride) != (1, 1):
        text += f"/{stride[0]}" if stride[0] == stride[1] else f"/{dims_text(stride)}"
    return text


def type_word(op: str) -> str:
    """Table 1's word for a kind: `convolution`, `max pool`."""
    return OP_WORDS[op][0] if op in OP_WORDS else op.replace("_", " ")


def short_word(op: str) -> str:
    """The narrow table's word for a kind: `conv`, `max`, `gap`."""
    return OP_WORDS[op][1] if op in OP_WORDS else op


def op_title(a: dict[str, Any]) -> str:
    """A layer as the paper's figures write it, from its IR node: `3x3 conv 320`, `3x3/2 max pool`."""
    op, args = a["op"], a["args"]
    local = a["name"].rsplit(".", 1)[-1]
    if op == "conv":
        window = window_text(args["kernel"], args.get("stride") or (1, 1))
        if args.get("depthwise"):
            return f"{window} depthwise x{a['out_shape'][0] // a['in_shape'][0]}"
        word = local if local in ("reduce", "proj") else "conv"
        groups = f" g{args['groups']}" if args["groups"] > 1 else ""
        return f"{window} {word} {args['out']}{groups}"
    if op in ("maxpool", "avgpool"):
        return f"{window_text(args['kernel'], args['stride'])} {type_word(op)}"
    if op == "adaptive_avgpool":
        oh, ow = args["output"]
        return "global avg pool" if (oh, ow) == (1, 1) else f"avg pool to {oh}x{ow}"
    if op == "lrn":
        return short_word(op)
    if op == "dropout":
        return f"{type_word(op)} {args['p']:.0%}"
    if op == "linear":
        return f"linear {args['out']}"
    if op == "add":
        scale = f" x{args['scale']:g}" if args["scale"] != 1 else ""
        act = f", {args['activation']}" if args["activation"] != "none" else ""
        return f"add (body{scale}){act}"
    if op == "activation":
        return args["activation"]
    return type_word(op)


def row_title(row: Any) -> str:
    """A row's display name: its Table 1 label for a module ("inception (4e)"), else its name."""
    if row.kind != "parallel" or not row.label:
        return row.name
    # The spec's default label for a row named `inception4e` is "inception (inception4e)": show "(4e)".
    tail = re.search(r"(\d+[a-z]?)$", row.name)
    if row.label == f"inception ({row.name})" and tail:
        return f"inception ({tail.group(1)})"
    return row.label
