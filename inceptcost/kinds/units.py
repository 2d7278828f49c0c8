"""The pieces several kinds are made of, memory and traffic: a product (conv2d or linear: one GEMM forward, two
backward) and the norm and activation that run after it, in a conv unit or on their own. No torch."""

from __future__ import annotations

from dataclasses import replace

from .base import Buf, Kernel, Kernels, Op, RuleContext, wide

# ---- memory ----


def matmul_memory(op: Op, x: str, numel_in: int, weights: int, bias: int, ctx: RuleContext, what: str) -> str:
    """conv2d / linear: under autocast the input (unless already low) and the params are cast, the copies of
    input and weight saved; the bias copy is only cached."""
    if ctx.amp is None or x == ctx.amp:
        op.keep_last(ctx)
    else:
        op.bufs.append(Buf(f"{what} input ({ctx.amp} copy)", ctx.amp, numel_in, saved=ctx.train))
    if ctx.amp:
        op.weight_casts = [weights] + ([bias] if bias else [])
    return ctx.amp or x


def in_place_activation_memory(op: Op, name: str, dtype: str, n: int, ctx: RuleContext) -> None:
    """A conv unit's (or linear's) activation, as builders._activation runs it: ReLU, ReLU6 and SiLU in place."""
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


def apart_activation_memory(op: Op, name: str, dtype: str, n: int, ctx: RuleContext) -> None:
    """An activation that is never in place (builders.activation_build): ReLU, sigmoid and tanh save their new
    output, ReLU6 (hardtanh), SiLU and GELU their input."""
    if name == "none":
        return
    if name in ("relu", "sigmoid", "tanh"):
        op.bufs.append(Buf(f"{name} output", dtype, n, saved=ctx.train))
    else:
        op.keep_last(ctx)
        op.bufs.append(Buf(f"{name} output", dtype, n))


def lrn_memory_steps(op: Op, x: str, c: int, hw: int, size: int, ctx: RuleContext) -> None:
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
    op.bufs.append(Buf("lrn output", wide(x, pow_dt), n))


# ---- traffic ----

IN_PLACE = ("relu", "relu6", "silu")  # a conv unit's activations that the model builder runs in place
LRN_FORWARD = 7  # x*x, pad, average over the channel window, *alpha, +k, **beta, x / that
LRN_BACKWARD = 10  # autograd through those seven: two gradients of the division, pow, scale, pool, pad, x*x


def epilogue(args: dict, e_out: int, c: RuleContext, in_place: bool = True) -> Kernels:
    fwd, bwd = [], []
    b = e_out * c.size
    if args.get("norm") == "bn":
        fwd.append(Kernel("bn", 0, (2 if c.train else 1) * b, b, (b,)))
        bwd.append(Kernel("bn_bwd", 0, 2 * b, b, (b,)))
    elif args.get("norm") == "lrn":
        fwd += lrn_kernels(b)
        bwd += lrn_kernels(b, backward=True)
    act = args.get("activation", "none")
    if act != "none":
        fwd.append(Kernel("eltwise", 0, b, b, () if in_place and act in IN_PLACE else (b,)))
        bwd.append(Kernel("eltwise_bwd", 0, 2 * b, b, (b,)))
    return fwd, bwd


def lrn_kernels(b: int, backward: bool = False) -> list[Kernel]:
    """LRN as PyTorch composes it: elementwise and pooling kernels, each reading (backward: two) tensors."""
    if backward:
        return [Kernel("lrn_bwd", 0, 2 * b, b, (b,))] * LRN_BACKWARD
    return [Kernel("lrn", 0, b, b, (b,))] * (LRN_FORWARD - 1) + [Kernel("lrn", 0, 2 * b, b, (b,))]


def gemm_pair(kind: str, a: dict, c: RuleContext, e_in: int, e_out: int) -> tuple[Kernel, Kernel]:
    """A conv or linear: forward, and backward (input gradient only when needed, weight gradient always)."""
    s, w = c.size, a["params"] - a["norm_params"]
    macs = c.batch * a["macs"]
    fwd = Kernel(kind, macs, (e_in + w) * s, e_out * s, (e_out * s,))
    grads = tuple(n * s for n in (a["weights"], a["biases"]) if n)  # new tensors each step (set to None)
    if c.input_grad:
        bwd = Kernel(f"{kind}_bwd", 2 * macs, (e_in + e_out + w) * s, (e_in + w) * s, (e_in * s, *grads))
    else:
        bwd = Kernel(f"{kind}_bwd", macs, (e_in + e_out) * s, w * s, grads)
    return fwd, bwd


def with_norm_params(fwd: Kernel, bwd: Kernel, norm: int) -> tuple[Kernel, Kernel]:
    """A batch norm's kernels plus its affine parameters' own reads (forward, backward) and gradient writes."""
    return replace(fwd, read=fwd.read + norm), replace(bwd, read=bwd.read + norm, write=bwd.write + norm)
