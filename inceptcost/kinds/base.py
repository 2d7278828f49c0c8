"""What every layer kind is made of: the value parsers of its keys, the shape helpers, the `Cost` of one image,
the tensors a memory rule returns (`Buf`, `Op`), the kernels a traffic rule returns (`Kernel`), the one
`RuleContext` passed to both, and the `Kind` record that holds all of a kind's rules. No torch.

Shapes are (C, H, W) for feature maps and (C,) once flattened. Costs are for one image. MACs count only
conv and linear multiply-adds (the paper's "ops"); pooling, normalization and activations are "other ops",
one per output element per window element (pools), per element (activations), or per each kind's formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from ..errors import BadValue

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
    from ..quantities import parse_dims

    dims = parse_dims(v, 2)
    for d in dims:
        pos_int(d)
    return dims  # type: ignore[return-value]


def padding(v: Any) -> tuple[int, int] | str:
    if v in ("same", "valid"):
        return v
    from ..quantities import parse_dims

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


def spatial(args: dict, shape: Shape, ceil: bool = False) -> tuple[int, int]:
    k, s = args["kernel"], args["stride"]
    ph, pw = args["padding"]
    return window_out(shape[1], k[0], s[0], ph, ceil), window_out(shape[2], k[1], s[1], pw, ceil)


class ShapeProblem(ValueError):
    """Raised by a shape rule (with the fix, if one is known); the compiler adds the file, line and layer."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def need_map(shape: Shape) -> None:
    if len(shape) != 3:
        raise ShapeProblem(
            f"needs a C x H x W feature map but gets a flat vector of {shape[0]}; move it before the flattening layer"
        )


def same_shape(args: dict, shape: Shape) -> Shape:
    return shape


def map_shape(args: dict, shape: Shape) -> Shape:
    need_map(shape)
    return shape


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


def act_ops(args: dict, numel: int) -> int:
    """The other ops of an activation fused after a product (conv, linear): one per element, if any."""
    return numel if args.get("activation", "none") != "none" else 0


def free_cost(args: dict, i: Shape, o: Shape) -> Cost:
    return Cost()


# ---- the one context of the memory and traffic rules ----


@dataclass(frozen=True)
class RuleContext:
    """What a memory or traffic rule needs besides the node: the batch, training or not, and the run's setup.

    The memory walk sets `amp` (None for fp32, else the autocast dtype "bf16" | "fp16"), `device` ("cuda" |
    "cpu": autocast's op lists and dropout differ) and `channels_last`; the traffic walk sets `size` (bytes per
    element of the run's dtype) and `input_grad` (whether backward computes the input's gradient; the image
    needs none). A rule reads only the fields of its own walk."""

    batch: int
    train: bool
    amp: str | None = None
    device: str = "cuda"
    channels_last: bool = False
    size: int = 4
    input_grad: bool = True


# ---- what a memory rule returns: the tensors an op's forward creates, in order ----
# A rule returns `Op.bufs` in creation order, mirroring what the torch module of graph/model/builders.py runs
# (held exactly to saved-tensor hooks by tests/analyze/test_memory_truth.py). Chain buffers (`side=False`) are the
# successive values of the op's data path, the last being the output; each gets a gradient in backward. Side
# buffers (indices, masks, BN statistics, input copies) are kept for backward only. `alias` marks an in-place
# step: no new storage.

SIZES = {"fp32": 4, "bf16": 2, "fp16": 2, "int64": 8, "bool": 1}


@dataclass(frozen=True)
class Buf:
    what: str  # why it exists, e.g. "conv input (bf16 copy)"
    dtype: str
    numel: int  # batch included
    saved: bool = False
    side: bool = False  # not on the data path: no gradient
    alias: bool = False  # in place on the previous chain buffer: no new storage

    @property
    def nbytes(self) -> int:
        return 0 if self.alias else self.numel * SIZES[self.dtype]


@dataclass
class Op:
    bufs: list[Buf] = field(default_factory=list)
    saves_input: bool = False  # autograd keeps the input tensor itself
    out_is_input: bool = False  # a view or identity: the output is the input's storage
    weight_casts: list[int] = field(default_factory=list)  # elements of the params cast under autocast
    param_bytes: int = 0  # fp32 parameters; their gradients are allocated in backward

    def keep_last(self, ctx: RuleContext) -> None:
        """Mark the newest chain buffer (or the input, if there is none) as saved for backward."""
        chain = [k for k, b in enumerate(self.bufs) if not b.side and not b.alias]
        if chain:
            self.bufs[chain[-1]] = replace(self.bufs[chain[-1]], saved=self.bufs[chain[-1]].saved or ctx.train)
        else:
            self.saves_input = self.saves_input or ctx.train

    def chain_dtype(self, x: str) -> str:
        chain = [b for b in self.bufs if not b.side]
        return chain[-1].dtype if chain else x


def wide(a: str, b: str) -> str:
    return a if SIZES[a] >= SIZES[b] else b


# ---- what a traffic rule returns: the kernels eager PyTorch runs for an op, forward and backward ----

INDEX_BYTES = 8  # max-pool indices are int64
MASK_BYTES = 1  # dropout masks are bool


@dataclass(frozen=True)
class Kernel:
    kind: str  # one of analyze/timing/traffic.py's KINDS
    macs: int  # multiply-adds for the whole batch (pools: window elements, see traffic.WINDOW_KINDS)
    read: int  # bytes
    write: int
    allocs: tuple[int, ...] = ()  # bytes of each new tensor it writes (none: it writes in place)

    @property
    def bytes(self) -> int:
        return self.read + self.write

    @property
    def backward(self) -> bool:
        return self.kind.endswith("_bwd")


Kernels = tuple[list[Kernel], list[Kernel]]  # forward, backward

# ---- a kind: all of its rules ----

MemoryRule = Callable[[dict, str, tuple, tuple, RuleContext], Op]  # (args, input dtype, in shape, out shape, ctx)
TrafficRule = Callable[[dict, RuleContext, int, int], Kernels]  # (IR node, ctx, elements in, elements out)


@dataclass(frozen=True)
class Kind:
    """One layer kind. `keys`: key -> (parser, default; REQUIRED = must give, None = from the spec's defaults).
    `shape`: (args, input shape) -> output shape, raising ShapeProblem. `cost`: (args, in, out) -> Cost for one
    image. `memory`: the tensors its forward creates and which autograd saves (an `Op`). `traffic`: the kernels
    it runs, forward and backward, with their bytes. `style`: graphviz node attributes. Its torch module is
    registered under its name in graph/model/builders.BUILDERS, on the torch side."""

    keys: dict[str, tuple[Callable[[Any], Any], Any]]
    shape: Callable[[dict, Shape], Shape]
    cost: Callable[[dict, Shape, Shape], Cost]
    memory: MemoryRule
    traffic: TrafficRule
    style: dict[str, str]
    is_pool: bool = False


REQUIRED = object()
LRN_DEFAULTS = {"size": (pos_int, 5), "alpha": (pos_float, 1e-4), "beta": (pos_float, 0.75), "k": (pos_float, 1.0)}
