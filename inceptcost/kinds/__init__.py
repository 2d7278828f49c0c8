"""The layer-kind registry: every kind a spec may name, each a `Kind` holding all of its static rules (accepted
keys, shape, params and MACs, other ops, memory, traffic, diagram style), written in one module per family:

- conv.py: the conv unit (conv [+ bn | lrn] [+ activation]);
- pool.py: max, average and adaptive average pools;
- norm.py: standalone batch norm and LRN;
- activation.py: a standalone activation;
- linear.py: the linear layer;
- structure.py: dropout, flatten, the residual add and the concat.

base.py holds what they are made of (value parsers, `Cost`, `Buf` and `Op`, `Kernel`, the one `RuleContext`);
units.py the pieces several kinds share (a product's GEMMs, the norm and activation after it). The engines
that run the rules live above: graph/shapes.py (shape, cost), analyze/memory/walk.py (memory),
analyze/timing/traffic.py (traffic), analyze/diagram (style). Each kind's torch module is registered under its
name in graph/model/builders.BUILDERS, on the torch side, so that nothing here imports torch
(tests/graph/test_kinds.py fails when a kind lacks one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import BadValue
from .activation import ACTIVATION
from .base import (
    ACTIVATIONS,
    LRN_DEFAULTS,
    MAX_INT,
    NORMS,
    REQUIRED,
    SIZES,
    Buf,
    Cost,
    Kernel,
    Kernels,
    Kind,
    MemoryRule,
    Op,
    RuleContext,
    Shape,
    ShapeProblem,
    TrafficRule,
    boolean,
    choice,
    dims2,
    nonneg_int,
    padding,
    pos_float,
    pos_int,
    probability,
    resolve_padding,
    window_out,
)
from .conv import CONV
from .linear import LINEAR
from .norm import BN, LRN
from .pool import ADAPTIVE_AVGPOOL, AVGPOOL, MAXPOOL
from .structure import ADD, DROPOUT, FLATTEN, concat_traffic

__all__ = [
    "ACTIVATIONS",
    "ADD",
    "KINDS",
    "KIND_ALIASES",
    "LRN_DEFAULTS",
    "MAX_INT",
    "NODE_KINDS",
    "NORMS",
    "REQUIRED",
    "SIZES",
    "TRAFFIC",
    "Buf",
    "Cost",
    "Kernel",
    "Kernels",
    "Kind",
    "MemoryRule",
    "Op",
    "RuleContext",
    "Shape",
    "ShapeProblem",
    "TrafficRule",
    "boolean",
    "choice",
    "dims2",
    "kinds_reference",
    "nonneg_int",
    "padding",
    "pos_float",
    "pos_int",
    "probability",
    "resolve_padding",
    "window_out",
]

# The kinds one writes in a spec, in the manual's order.
KINDS: dict[str, Kind] = {
    "conv": CONV,
    "maxpool": MAXPOOL,
    "avgpool": AVGPOOL,
    "adaptive_avgpool": ADAPTIVE_AVGPOOL,
    "bn": BN,
    "activation": ACTIVATION,
    "lrn": LRN,
    "dropout": DROPOUT,
    "flatten": FLATTEN,
    "linear": LINEAR,
}

# A global average pool is an adaptive pool to 1x1; `gap` is the word people use for it.
KIND_ALIASES = {
    "gap": ("adaptive_avgpool", {"output": (1, 1)}),
    "fc": ("linear", {}),
    "convolution": ("conv", {}),
    "batchnorm": ("bn", {}),
    **{name: ("activation", {"activation": name}) for name in ACTIVATIONS[:-1]},
}

# Every kind an IR node can have besides the compiler's `input` and `concat`: the layer kinds and the residual
# add (a node of its own: `scale` times the body plus the shortcut, then the activation).
NODE_KINDS: dict[str, Kind] = {**KINDS, "add": ADD}

# The traffic rule of every op node: each kind's own, and the concat's copy.
TRAFFIC: dict[str, TrafficRule] = {
    **{name: kind.traffic for name, kind in NODE_KINDS.items()},
    "concat": concat_traffic,
}


def kinds_reference() -> str:
    """The layer-kind reference of the manual, as a markdown table generated from KINDS and KIND_ALIASES (so that
    it cannot go stale): each kind's keys, what a key takes (its parser's own message) and its default."""

    def takes(parse: Callable[[Any], Any]) -> str:
        try:
            parse(object())  # every parser refuses an object, saying what it expected
        except BadValue as exc:
            return str(exc).split(", got ")[0].removeprefix("expected ")
        return "any value"

    def default(value: Any) -> str:
        if value is REQUIRED:
            return "**required**"
        if value is None:
            return "unset"
        return "x".join(map(str, value)) if isinstance(value, tuple) else str(value).lower()

    lines = ["| kind | key | takes | default |", "| --- | --- | --- | --- |"]
    for name, kind in KINDS.items():
        keys = kind.keys.items() or [("(none)", (None, ""))]
        for i, (key, (parse, value)) in enumerate(keys):
            cells = [f"`{name}`" if i == 0 else "", f"`{key}`" if parse else key]
            cells += [takes(parse), default(value)] if parse else ["", ""]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    aliases = ", ".join(
        f"`{alias}` = `{kind}`"
        + (f" with {', '.join(f'{k}: {default(v)}' for k, v in fixed.items())}" if fixed else "")
        for alias, (kind, fixed) in KIND_ALIASES.items()
    )
    return "\n".join(lines) + f"\n\nOther names for these kinds: {aliases}.\n"
