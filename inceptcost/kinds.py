"""One table: layer kind -> (accepted keys, shape rule, cost rule, diagram style).

Shapes are (C, H, W) for feature maps and (C,) once flattened. Costs are for one image. MACs count only
conv and linear multiply-adds (the paper's "ops"); pooling, normalization and activations are "other ops",
one per output element per window element (pools), per element (activations), or per the formulas below.
Each kind's torch builder is registered under its name in builders.BUILDERS, on the torch side, so that
nothing here imports torch (tests/graph/test_kinds.py fails when a kind lacks one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import BadValue

Shape = tuple[int, ...]

ACTIVATIONS = ("relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "none")
NORMS = ("none", "bn", "lrn")
MAX_INT = 10**12  # larger than any real width or size; keeps arithmetic exact and sane


# ---- value parsers: each returns the normalized value or raises BadValue with what was expected ----


def pos_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise BadValue(f"expected a positive whole number, got {v!r}")
    if not 1 <= v <= MAX_INT:
        raise BadValue(f"expected a positive whole number (at most 10^12), got {v}")
    return v


def nonneg_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_INT:
        raise BadValue(f"expected a whole number >= 0, got {v!r}")
    return v


def dims2(v: Any) -> tuple[int, int]:
    from .quantities import parse_dims

    dims = parse_dims(v, 2)
    for d in dims:
        pos_int(d)
    return dims  # type: ignore[return-value]


def padding(v: Any) -> tuple[int, int] | str:
    if v in ("same", "valid"):
        return v
    from .quantities import parse_dims

    try:
        dims = parse_dims(v, 2)
    except BadValue:
        raise BadValue(f"expected 'same', 'valid', a number or HxW, got {v!r}") from None
    for d in dims:
        nonneg_int(d)
    return dims  # type: ignore[return-value]


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise BadValue(f"expected true or false, got {v!r}")
    return v


def probability(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
        raise BadValue(f"expected a probability from 0 to below 1 (e.g. 0.4), got {v!r}")
    return float(v)


def pos_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < math.inf):
        raise BadValue(f"expected a positive number, got {v!r}")
    return float(v)


def choice(*options: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        if v is None:
            v = "none"
        if v not in options:
            raise BadValue(f"expected one of {', '.join(options)}, got {v!r}")
        return v

    return parse


# ---- shape rules ----


def window_out(size: int, k: int, s: int, p: int, ceil: bool = False) -> int:
    """Output length of a conv/pool window, PyTorch's rule (a ceil-mode window may not start in padding)."""
    span = size + 2 * p - k
    if span < 0:
        return 0
    out = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def resolve_padding(padding: tuple[int, int] | str, kernel: tuple[int, int]) -> tuple[int, int]:
    """'valid' -> 0; 'same' -> (k - 1) / 2 per side, which keeps the size at stride 1 (odd kernels only)."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise BadValue("padding 'same' needs an odd kernel; give the padding as a number")
        return ((kernel[0] - 1) // 2, (kernel[1] - 1) // 2)
    return padding  # type: ignore[return-value]


def _spatial(args: dict, shape: Shape, ceil: bool = False) -> tuple[int, int]:
    k, s = args["kernel"], args["stride"]
    ph, pw = args["padding"]
    return window_out(shape[1], k[0], s[0], ph, ceil), window_out(shape[2], k[1], s[1], pw, ceil)


class ShapeProblem(ValueError):
    """Raised by a shape rule (with the fix, if one is known); the compiler adds the file, line and layer."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _need_map(shape: Shape) -> None:
    if len(shape) != 3:
        raise ShapeProblem(
            f"needs a C x H x W feature map but gets a flat vector of {shape[0]}; move it before the flattening layer"
        )


def conv_shape(args: dict, shape: Shape) -> Shape:
    _need_map(shape)
    c = shape[0]
    g = args["groups"]
    if c % g or args["out"] % g:
        raise ShapeProblem(
            f"groups={g} must divide both the input channels ({c}) and out ({args['out']}); pick a common divisor"
        )
    return (args["out"], *_spatial(args, shape))


def pool_shape(args: dict, shape: Shape) -> Shape:
    _need_map(shape)
    ph, pw = args["padding"]
    if ph > args["kernel"][0] // 2 or pw > args["kernel"][1] // 2:
        raise ShapeProblem("pool padding must be at most half the kernel; use a smaller padding or a larger kernel")
    return (shape[0], *_spatial(args, shape, args.get("ceil", False)))


def adaptive_shape(args: dict, shape: Shape) -> Shape:
    _need_map(shape)
    return (shape[0], *args["output"])


def same_shape(args: dict, shape: Shape) -> Shape:
    return shape


def map_shape(args: dict, shape: Shape) -> Shape:
    _need_map(shape)
    return shape


def flatten_shape(args: dict, shape: Shape) -> Shape:
    return (math.prod(shape),)


def linear_shape(args: dict, shape: Shape) -> Shape:
    return (args["out"],)


# ---- cost rules: (weights, biases, norm params, MACs, other ops) for one image ----


class Cost(NamedTuple):  # a tuple, not a dataclass: the sweep builds thousands a second
    weights: int = 0
    biases: int = 0
    norm: int = 0
    macs: int = 0
    other_ops: int = 0

    @property
    def params(self) -> int:
        return self.weights + self.biases + self.norm


def _act_ops(args: dict, numel: int) -> int:
    return numel if args.get("activation", "none") != "none" else 0


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
        other_ops=norm_ops + _act_ops(args, numel),
    )


def pool_cost(args: dict, i: Shape, o: Shape) -> Cost:
    kh, kw = args["kernel"]
    return Cost(other_ops=math.prod(o) * kh * kw)


def adaptive_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(other_ops=math.prod(i))  # every input element is read into one average


def lrn_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(other_ops=math.prod(o) * (args["size"] + 3))  # window sum of squares, scale, power, divide


def bn_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(norm=2 * o[0], other_ops=2 * math.prod(o))  # gamma, beta; one scale and one shift per element


def activation_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost(other_ops=math.prod(o))


def add_cost(args: dict, i: Shape, o: Shape) -> Cost:
    """A residual add: one add per element, plus the body's scaling and the activation after it."""
    numel = math.prod(o)
    return Cost(other_ops=numel * (1 + (args["scale"] != 1) + (args["activation"] != "none")))


def free_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost()


def linear_cost(args: dict, i: Shape, o: Shape) -> Cost:
    weights = math.prod(i) * o[0]
    return Cost(weights=weights, biases=o[0] if args["bias"] else 0, macs=weights, other_ops=_act_ops(args, o[0]))


# ---- the table ----


@dataclass(frozen=True)
class Kind:
    keys: dict[str, tuple[Callable[[Any], Any], Any]]  # key -> (parser, default); default REQUIRED = must give
    shape: Callable[[dict, Shape], Shape]
    cost: Callable[[dict, Shape, Shape], Cost]
    style: dict[str, str]  # graphviz node attributes
    is_pool: bool = False


REQUIRED = object()
LRN_DEFAULTS = {"size": (pos_int, 5), "alpha": (pos_float, 1e-4), "beta": (pos_float, 0.75), "k": (pos_float, 1.0)}
_WINDOW = {"kernel": (dims2, REQUIRED), "stride": (dims2, None), "padding": (padding, (0, 0))}

KINDS: dict[str, Kind] = {
    "conv": Kind(
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
        style={"shape": "box", "style": "rounded,filled"},
    ),
    "maxpool": Kind(
        keys={**_WINDOW, "ceil": (boolean, False)},
        shape=pool_shape,
        cost=pool_cost,
        style={"shape": "box", "style": "filled"},
        is_pool=True,
    ),
    "avgpool": Kind(
        keys={**_WINDOW, "ceil": (boolean, False), "count_pad": (boolean, True)},
        shape=pool_shape,
        cost=pool_cost,
        style={"shape": "box", "style": "filled"},
        is_pool=True,
    ),
    "adaptive_avgpool": Kind(
        keys={"output": (dims2, (1, 1))},
        shape=adaptive_shape,
        cost=adaptive_cost,
        style={"shape": "box", "style": "filled"},
        is_pool=True,
    ),
    "bn": Kind(
        keys={"eps": (pos_float, None)},  # None: the spec's defaults
        shape=map_shape,
        cost=bn_cost,
        style={"shape": "box"},
    ),
    "activation": Kind(
        keys={"activation": (choice(*ACTIVATIONS[:-1]), REQUIRED)},
        shape=same_shape,
        cost=activation_cost,
        style={"shape": "box"},
    ),
    "lrn": Kind(keys=dict(LRN_DEFAULTS), shape=map_shape, cost=lrn_cost, style={"shape": "box"}),
    "dropout": Kind(
        keys={"p": (probability, REQUIRED)},
        shape=same_shape,
        cost=free_cost,
        style={"shape": "box", "style": "dashed"},
    ),
    "flatten": Kind(keys={}, shape=flatten_shape, cost=free_cost, style={"shape": "box"}),
    "linear": Kind(
        keys={
            "out": (pos_int, None),  # None: the spec's classes
            "bias": (boolean, None),
            "activation": (choice(*ACTIVATIONS), "none"),
        },
        shape=linear_shape,
        cost=linear_cost,
        style={"shape": "box", "style": "rounded,filled"},
    ),
}

# A global average pool is an adaptive pool to 1x1; `gap` is the word people use for it.
KIND_ALIASES = {
    "gap": ("adaptive_avgpool", {"output": (1, 1)}),
    "fc": ("linear", {}),
    "convolution": ("conv", {}),
    "batchnorm": ("bn", {}),
    **{name: ("activation", {"activation": name}) for name in ACTIVATIONS[:-1]},
}

# The residual add is an IR node of its own (not a layer one writes): `scale` times the body plus the
# shortcut, then the activation. Its costs come from this entry like any layer's (its module: BUILDERS['add']).
ADD = Kind(
    keys={},
    shape=same_shape,
    cost=add_cost,
    style={"shape": "circle", "style": "filled", "fillcolor": "white", "width": "0.3", "fixedsize": "true"},
)


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
