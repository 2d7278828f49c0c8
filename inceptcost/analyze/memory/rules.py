"""One memory rule per op kind: the tensors an op's forward creates, in order, and which of them autograd saves
for backward. Read off the IR (kind, args, shapes); no torch. Each rule mirrors what the torch module that
graph/model/builders.py builds really runs (held exactly to saved-tensor hooks by tests/analyze/test_memory_truth.py):

- conv unit: conv2d saves its input and weight (the fp32 parameter itself, or under autocast the weight's
  low-precision copy, cached for the whole forward); BN in training saves its input and two fp32 per-channel
  statistics (mean, inverse std); an in-place ReLU saves its output, which is the conv/BN output storage;
  in-place ReLU6 and SiLU save a copy of their input (their backward needs it); sigmoid and tanh save their
  output, GELU its input.
- LRN (torch composes it of ops): x saved by x * x, the squares padded along channels (C + size - 1) saved by
  avg_pool3d, `alpha * mean + k` saved by pow, pow's result saved by the division. Under autocast avg_pool3d
  runs in fp32 on CPU, pow in fp32 on CUDA; from there on the tensors are fp32, the output too, so every conv
  that reads it saves its own low-precision copy.
- max-pool: its input and int64 indices (one per output element); avg-pool: its input; a global average pool
  (adaptive to 1x1) is a mean and saves nothing; any other adaptive pool saves its input.
- dropout in training: on CPU a noise tensor of the input's dtype and size (output = input * noise); on CUDA a
  bool mask (the fused kernel). At inference it returns its input.
- linear (flattens first, a view): saves its input and weight, as conv does. A channels-last feature map
  larger than 1x1 does not flatten as a view: the flattened copy is what it saves.
- standalone activation (and the one after a residual add): never in place (its input may feed a shortcut
  too); ReLU, sigmoid and tanh save their output, the others their input. Standalone BN: as in a conv unit.
- concat saves nothing (its backward slices the gradient); flatten is a view.
- residual add (`act(scale * body + shortcut)`): the add and a multiplication by a Python number save no
  tensor; the sum takes the wider of the two dtypes (under autocast a bf16 body plus an fp32 shortcut is
  fp32); the activation after it is never in place, as a standalone one. `body * scale` is a temporary freed by the add (kept as
  a side buffer, so the walk does not hold it past the add).

A rule returns `Op.bufs` in creation order. Chain buffers (`side=False`) are the successive values of the op's
data path, the last being the output; each gets a gradient in backward. Side buffers (indices, masks, BN
statistics, input copies) are kept for backward only. `alias` marks an in-place step: no new storage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from math import prod

SIZES = {"fp32": 4, "bf16": 2, "fp16": 2, "int64": 8, "bool": 1}
DEVICES = ("cuda", "cpu")


@dataclass(frozen=True)
class Ctx:
    batch: int
    amp: str | None  # None (fp32) or the autocast dtype: "bf16" | "fp16"
    device: str  # "cuda" | "cpu": autocast's op lists and dropout differ
    train: bool
    channels_last: bool = False


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

    def keep_last(self, ctx: Ctx) -> None:
        """Mark the newest chain buffer (or the input, if there is none) as saved for backward."""
        chain = [k for k, b in enumerate(self.bufs) if not b.side and not b.alias]
        if chain:
            self.bufs[chain[-1]] = replace(self.bufs[chain[-1]], saved=self.bufs[chain[-1]].saved or ctx.train)
        else:
            self.saves_input = self.saves_input or ctx.train

    def chain_dtype(self, x: str) -> str:
        chain = [b for b in self.bufs if not b.side]
        return chain[-1].dtype if chain else x


def _wide(a: str, b: str) -> str:
    return a if SIZES[a] >= SIZES[b] else b


def _matmul(op: Op, x: str, numel_in: int, weights: int, bias: int, ctx: Ctx, what: str) -> str:
    """conv2d / linear: under autocast the input (unless already low) and the params are cast, the copies of
    input and weight saved; the bias copy is only cached."""
    if ctx.amp is None or x == ctx.amp:
        op.keep_last(ctx)
    else:
        op.bufs.append(Buf(f"{what} input ({ctx.amp} copy)", ctx.amp, numel_in, saved=ctx.train))
    if ctx.amp:
        op.weight_casts = [weights] + ([bias] if bias else [])
    return ctx.amp or x


def _activation(op: Op, name: str, dtype: str, n: int, ctx: Ctx) -> None:
    if name == "none":
        return
    if name == "relu":
        op.keep_last(ctx)
        op.bufs.append(Buf("relu (in place)", dtype, n, alias=True))
    elif name in ("relu6", "silu"):
        op.bufs.append(Buf(f"{name} input (copy kept by the in-place op)", dtype, n, saved=ctx.train, side=True))
        op.bufs.append(Buf(f"{name} (in place)", dtype, n, alias=True))
    elif name in ("sigmoid", "tanh"):
        op.bufs.append(Buf(f"{name} output", dtype, n, saved=ctx.train))
    else:  # gelu
        op.keep_last(ctx)
        op.bufs.append(Buf(f"{name} output", dtype, n))


def _lrn(op: Op, x: str, c: int, hw: int, size: int, ctx: Ctx) -> None:
    """torch.nn.functional.local_response_norm on a (B, C, H, W) tensor, op by op."""
    n, padded = ctx.batch * c * hw, ctx.batch * (c + size - 1) * hw
    pool_dt = "fp32" if ctx.amp and ctx.device == "cpu" else x
    pow_dt = "fp32" if ctx.amp and ctx.device == "cuda" else pool_dt
    op.keep_last(ctx)  # x * x keeps x
    op.bufs.append(Buf("lrn squares", x, n))
    op.bufs.append(Buf("lrn padded squares", x, padded))
    if pool_dt != x:
        op.bufs.append(Buf(f"lrn padded squares ({pool_dt} copy)", pool_dt, padded))
    op.keep_last(ctx)  # avg_pool3d keeps its input
    op.bufs.append(Buf("lrn window mean", pool_dt, n))
    op.bufs.append(Buf("lrn alpha * mean", pool_dt, n))
    op.bufs.append(Buf("lrn alpha * mean + k", pool_dt, n))
    if pow_dt != pool_dt:
        op.bufs.append(Buf(f"lrn alpha * mean + k ({pow_dt} copy)", pow_dt, n))
    op.keep_last(ctx)  # pow keeps its base
    op.bufs.append(Buf("lrn (alpha * mean + k)^beta", pow_dt, n, saved=ctx.train))  # the division keeps it
    op.bufs.append(Buf("lrn output", _wide(x, pow_dt), n))


def conv_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    op = Op()
    kh, kw = a["kernel"]
    weights = o[0] * (i[0] // a["groups"]) * kh * kw
    bias = o[0] if a["bias"] else 0
    op.param_bytes = 4 * (weights + bias + (2 * o[0] if a["norm"] == "bn" else 0))
    dt = _matmul(op, x, ctx.batch * prod(i), weights, bias, ctx, "conv")
    n = ctx.batch * prod(o)
    op.bufs.append(Buf("conv output", dt, n))
    if a["norm"] == "bn":
        op.keep_last(ctx)
        if ctx.train:
            op.bufs += [Buf(f"bn {s}", "fp32", o[0], saved=True, side=True) for s in ("mean", "inverse std")]
        op.bufs.append(Buf("bn output", dt, n))
    elif a["norm"] == "lrn":
        _lrn(op, dt, o[0], o[1] * o[2], a["size"], ctx)
    _activation(op, a["activation"], op.chain_dtype(dt), n, ctx)
    return op


def lrn_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    op = Op()
    _lrn(op, x, i[0], i[1] * i[2], a["size"], ctx)
    return op


def maxpool_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    n = ctx.batch * prod(o)
    indices = [Buf("max-pool indices (int64)", "int64", n, saved=True, side=True)] if ctx.train else []
    return Op(bufs=[*indices, Buf("max-pool output", x, n)], saves_input=ctx.train)


def avgpool_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    return Op(bufs=[Buf("avg-pool output", x, ctx.batch * prod(o))], saves_input=ctx.train)


def adaptive_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    mean = tuple(o[1:]) == (1, 1)  # torch computes a 1x1 adaptive pool as a mean, which saves nothing
    return Op(bufs=[Buf("adaptive-pool output", x, ctx.batch * prod(o))], saves_input=ctx.train and not mean)


def dropout_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    if not ctx.train:
        return Op(out_is_input=True)
    n = ctx.batch * prod(o)
    if ctx.device == "cuda":
        mask = Buf("dropout mask (bool)", "bool", n, saved=True, side=True)
    else:
        mask = Buf("dropout noise", x, n, saved=True, side=True)
    return Op(bufs=[mask, Buf("dropout output", x, n)])


def flatten_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    return Op(out_is_input=True)


def linear_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    op = Op()
    weights, bias = prod(i) * o[0], o[0] if a["bias"] else 0
    op.param_bytes = 4 * (weights + bias)
    if ctx.channels_last and len(i) == 3 and i[1] * i[2] > 1:
        op.bufs.append(Buf("linear input (flattened copy)", x, ctx.batch * prod(i)))
    dt = _matmul(op, x, ctx.batch * prod(i), weights, bias, ctx, "linear")
    op.bufs.append(Buf("linear output", dt, ctx.batch * o[0]))
    _activation(op, a["activation"], dt, ctx.batch * o[0], ctx)
    return op


def bn_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    """A standalone BatchNorm2d: as in a conv unit, its input and two fp32 statistics."""
    stats = [Buf(f"bn {s}", "fp32", i[0], saved=True, side=True) for s in ("mean", "inverse std")] if ctx.train else []
    return Op(bufs=[*stats, Buf("bn output", x, ctx.batch * prod(o))], saves_input=ctx.train, param_bytes=8 * i[0])


def _apart(op: Op, name: str, dtype: str, n: int, ctx: Ctx) -> None:
    """An activation that is never in place (builders.activation_build): ReLU, sigmoid and tanh save their new
    output, ReLU6 (hardtanh), SiLU and GELU their input."""
    if name == "none":
        return
    if name in ("relu", "sigmoid", "tanh"):
        op.bufs.append(Buf(f"{name} output", dtype, n, saved=ctx.train))
    else:
        op.keep_last(ctx)
        op.bufs.append(Buf(f"{name} output", dtype, n))


def activation_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    """A standalone activation: never in place, since its input may also feed a shortcut or another branch."""
    if a["activation"] == "none":
        return Op(out_is_input=True)
    op = Op()
    _apart(op, a["activation"], x, ctx.batch * prod(o), ctx)
    return op


def add_memory(a: dict, x: str, i: tuple, o: tuple, ctx: Ctx) -> Op:
    """x is the body's dtype; the walk passes the shortcut's as a["shortcut_dtype"]."""
    n, out = ctx.batch * prod(o), _wide(x, a["shortcut_dtype"])
    op = Op()
    if a["scale"] != 1:
        op.bufs.append(Buf("add body * scale", x, n, side=True))
    op.bufs.append(Buf("add output", out, n))
    _apart(op, a["activation"], out, n, ctx)
    return op


Rule = Callable[[dict, str, tuple, tuple, Ctx], Op]
# Keyed like kinds.KINDS, and `add` (a residual block's node); `concat` and `input` are the compiler's own nodes and handled by the walk.
MEMORY: dict[str, Rule] = {
    "conv": conv_memory,
    "maxpool": maxpool_memory,
    "avgpool": avgpool_memory,
    "adaptive_avgpool": adaptive_memory,
    "lrn": lrn_memory,
    "dropout": dropout_memory,
    "flatten": flatten_memory,
    "linear": linear_memory,
    "bn": bn_memory,
    "activation": activation_memory,
    "add": add_memory,
}
