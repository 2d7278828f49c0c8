"""Bytes moved per layer, read off the IR: the kernels each op runs, forward and backward. No torch.

One rule per op kind (the `RULES` table), each returning the kernels that eager PyTorch runs for that op on
a batch, with their multiply-adds and the bytes they read and write in the run's dtype (`size` bytes per
element). E = batch x elements of a tensor, W = the op's parameters (weights, biases, norm affine).

- conv unit: conv reads E_in + W, writes E_out. Its epilogue runs as separate kernels, each reading and
  writing E_out: batch norm (in training it reads E_out twice: statistics, then normalization), the
  activation (in place). Backward: the activation reads its output and the gradient and writes a gradient;
  batch norm reads the saved tensor and the gradient and writes a gradient; the conv reads the saved
  input, the output gradient and W, and writes the input gradient and the weight gradient (2 x MACs). The
  first layer does not compute an input gradient (the image needs none).
- LRN (alone or in a conv unit) is composed by PyTorch of 7 kernels, each reading and writing E_out (the
  final division reads two tensors); its backward of about 10, each reading two tensors and writing one.
- linear: the same as a conv (one GEMM forward, two backward).
- max pool: reads E_in, writes E_out (and, in training, int64 indices of E_out). Backward reads the output
  gradient (and the indices) and writes the input gradient E_in. Average and adaptive pools: no indices.
  A pool's work besides its bytes is its window: E_out x kh x kw elements compared or summed (the `macs`
  of its kernel, for time only: a pool has no multiply-adds); a max pool's backward adds each output's
  gradient at one index (E_out), an average pool's spreads it over the window (E_out x kh x kw). On a CPU
  the window loop, not the bytes, bounds a pool.
- concat: copies its inputs into one tensor: reads and writes E_out. Backward: the gradient's slices are
  views, no kernel.
- dropout: at inference returns its input (no kernel); in training reads E_in, writes E_out and a one-byte
  mask. Backward reads the gradient and the mask, writes the gradient. Flatten is a view (no kernel).
- A tensor read by k > 1 ops gets k gradients in backward, summed by k - 1 additions (each reads two
  gradients, writes one); they are charged to the op that produced the tensor.
- Optimizer (SGD with momentum, fp32), one parameter tensor at a time as PyTorch runs it on CPU: the momentum
  is scaled (reads and writes it), the gradient added (reads momentum and gradient, writes momentum), and the
  weight updated (reads weight and momentum, writes weight): 3 kernels per tensor.
- Each kernel also lists the new tensors it writes (`allocs`): outputs, gradients, indices and masks, each
  step anew (weight gradients too: the trainer sets them to None); a conv unit's ReLU and the optimizer write
  in place. A CPU's allocator maps large ones fresh every step (see the profile's `first_touch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from math import prod

import networkx as nx

from ..memory import PARAM_BYTES, dtype_bytes

INDEX_BYTES = 8  # max-pool indices are int64
MASK_BYTES = 1  # dropout masks are bool

# kernel kinds; the profile gives an efficiency for each (compute kinds: of peak FLOP/s, others: of bandwidth)
MAC_KINDS = ("conv1x1", "conv1x1_gemm", "conv", "depthwise", "gemm")  # multiply-adds
WINDOW_KINDS = ("maxpool", "avgpool")  # window elements compared or summed, on the vector units (fp32 peak)
COMPUTE_KINDS = MAC_KINDS + WINDOW_KINDS
MEMORY_KINDS = ("eltwise", "bn", "lrn", "copy")
KINDS = tuple(k + s for k in COMPUTE_KINDS + MEMORY_KINDS for s in ("", "_bwd") if k + s != "copy_bwd")
# a kind that only some devices run, and the kind a profile without it falls back to
FALLBACK = {"conv1x1_gemm": "conv1x1", "conv1x1_gemm_bwd": "conv1x1_bwd"}
GEMM_1X1_BELOW = 16  # batch


def device_kind(kind: str, device: str, threads: int | None, batch: int) -> str:
    """The kernel a device really runs for `kind`. PyTorch on a CPU (ATen's use_mkldnn rule) runs an unstrided
    1x1 conv as a plain GEMM below batch 16 on one thread, and through oneDNN otherwise (with layout reorders:
    2-3x slower per image on the build machine); GPUs run cuDNN's either way."""
    if kind.startswith("conv1x1") and device == "cpu" and threads == 1 and batch < GEMM_1X1_BELOW:
        return kind.replace("conv1x1", "conv1x1_gemm")
    return kind


@dataclass(frozen=True)
class Kernel:
    kind: str  # one of KINDS
    macs: int  # multiply-adds for the whole batch (pools: window elements, see WINDOW_KINDS)
    read: int  # bytes
    write: int
    allocs: tuple[int, ...] = ()  # bytes of each new tensor it writes (none: it writes in place)

    @property
    def bytes(self) -> int:
        return self.read + self.write

    @property
    def backward(self) -> bool:
        return self.kind.endswith("_bwd")


@dataclass(frozen=True)
class Ctx:
    """What a rule needs besides the node: the batch, bytes per element, training or not, input grad needed."""

    batch: int
    size: int
    train: bool
    input_grad: bool


IN_PLACE = ("relu", "relu6", "silu")  # a conv unit's activations that the model builder runs in place


def _epilogue(args: dict, e_out: int, c: Ctx, in_place: bool = True) -> tuple[list[Kernel], list[Kernel]]:
    fwd, bwd = [], []
    b = e_out * c.size
    if args.get("norm") == "bn":
        fwd.append(Kernel("bn", 0, (2 if c.train else 1) * b, b, (b,)))
        bwd.append(Kernel("bn_bwd", 0, 2 * b, b, (b,)))
    elif args.get("norm") == "lrn":
        fwd += _lrn(b)
        bwd += _lrn(b, backward=True)
    act = args.get("activation", "none")
    if act != "none":
        fwd.append(Kernel("eltwise", 0, b, b, () if in_place and act in IN_PLACE else (b,)))
        bwd.append(Kernel("eltwise_bwd", 0, 2 * b, b, (b,)))
    return fwd, bwd


LRN_FORWARD = 7  # x*x, pad, average over the channel window, *alpha, +k, **beta, x / that
LRN_BACKWARD = 10  # autograd through those seven: two gradients of the division, pow, scale, pool, pad, x*x


def _lrn(b: int, backward: bool = False) -> list[Kernel]:
    """LRN as PyTorch composes it: elementwise and pooling kernels, each reading (backward: two) tensors."""
    if backward:
        return [Kernel("lrn_bwd", 0, 2 * b, b, (b,))] * LRN_BACKWARD
    return [Kernel("lrn", 0, b, b, (b,))] * (LRN_FORWARD - 1) + [Kernel("lrn", 0, 2 * b, b, (b,))]


def _gemm_pair(kind: str, a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[Kernel, Kernel]:
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


def conv_kind(args: dict) -> str:
    """depthwise, conv1x1 (unstrided: a GEMM over the pixels), or conv (a strided 1x1 is a conv's kernel too)."""
    if args.get("depthwise"):
        return "depthwise"
    return "conv1x1" if tuple(args["kernel"]) == (1, 1) and tuple(args["stride"]) == (1, 1) else "conv"


def conv_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    fwd, bwd = _gemm_pair(conv_kind(a["args"]), a, c, e_in, e_out)
    efwd, ebwd = _epilogue(a["args"], e_out, c)
    norm = a["norm_params"] * c.size  # the affine parameters' own reads and gradient writes
    if norm:
        efwd[0] = replace(efwd[0], read=efwd[0].read + norm)
        ebwd[0] = replace(ebwd[0], read=ebwd[0].read + norm, write=ebwd[0].write + norm)
    return [fwd, *efwd], [*reversed(ebwd), bwd]


def linear_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    fwd, bwd = _gemm_pair("gemm", a, c, e_in, e_out)
    efwd, ebwd = _epilogue(a["args"], e_out, c)
    return [fwd, *efwd], [*reversed(ebwd), bwd]


def pool_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    s = c.size
    kind = "maxpool" if a["op"] == "maxpool" else "avgpool"
    # an adaptive pool's windows tile its input; a fixed one's cover kh x kw elements each (padding included)
    window = e_in if a["op"] == "adaptive_avgpool" else e_out * prod(a["args"]["kernel"])
    idx = e_out * INDEX_BYTES if kind == "maxpool" and c.train else 0
    fwd = Kernel(kind, window, e_in * s, e_out * s + idx, (e_out * s, idx) if idx else (e_out * s,))
    bwd = Kernel(f"{kind}_bwd", e_out if kind == "maxpool" else window, e_out * s + idx, e_in * s, (e_in * s,))
    return [fwd], [bwd]


def lrn_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    return _epilogue({"norm": "lrn"}, e_out, c)


def concat_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    b = e_out * c.size
    return [Kernel("copy", 0, b, b, (b,))], []


def dropout_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    if not c.train:
        return [], []
    s = c.size
    fwd = Kernel("eltwise", 0, e_in * s, e_out * (s + MASK_BYTES), (e_out * s, e_out * MASK_BYTES))
    bwd = Kernel("eltwise_bwd", 0, e_out * (s + MASK_BYTES), e_in * s, (e_in * s,))
    return [fwd], [bwd]


def bn_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    """A standalone BatchNorm (after an add, in Xception's blocks): conv's norm epilogue with its affine params."""
    fwd, bwd = _epilogue({"norm": "bn"}, e_out, c)
    norm = a["norm_params"] * c.size
    return [replace(fwd[0], read=fwd[0].read + norm)], [
        replace(bwd[0], read=bwd[0].read + norm, write=bwd[0].write + norm)
    ]


def activation_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    return _epilogue({"activation": a["args"]["activation"]}, e_out, c, in_place=False)


def add_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    """A residual add: the body scaled (one kernel when scale != 1), the add reading two tensors, then the
    activation; backward hands the gradient to both inputs (scaled on the body's side)."""
    b = e_out * c.size
    scaled = a["args"]["scale"] != 1
    fwd = [Kernel("eltwise", 0, b, b, (b,))] if scaled else []
    fwd.append(Kernel("eltwise", 0, 2 * b, b, (b,)))
    bwd = [Kernel("eltwise_bwd", 0, b, b, (b,))] if scaled else []
    efwd, ebwd = _epilogue({"activation": a["args"]["activation"]}, e_out, c, in_place=False)
    return [*fwd, *efwd], [*reversed(ebwd), *bwd]


def view_rule(a: dict, c: Ctx, e_in: int, e_out: int) -> tuple[list[Kernel], list[Kernel]]:
    return [], []


Rule = Callable[[dict, Ctx, int, int], tuple[list[Kernel], list[Kernel]]]
RULES: dict[str, Rule] = {
    "conv": conv_rule,
    "linear": linear_rule,
    "maxpool": pool_rule,
    "avgpool": pool_rule,
    "adaptive_avgpool": pool_rule,
    "lrn": lrn_rule,
    "concat": concat_rule,
    "dropout": dropout_rule,
    "flatten": view_rule,
    "bn": bn_rule,
    "activation": activation_rule,
    "add": add_rule,
}


@dataclass(frozen=True)
class NodeTraffic:
    name: str
    op: str
    row: str
    macs: int  # forward, whole batch
    forward: tuple[Kernel, ...]
    backward: tuple[Kernel, ...]  # empty at inference

    def read(self, backward: bool = False) -> int:
        return sum(k.read for k in (self.backward if backward else self.forward))

    def write(self, backward: bool = False) -> int:
        return sum(k.write for k in (self.backward if backward else self.forward))

    def as_dict(self) -> dict:
        fwd = self.read() + self.write()
        return {
            "name": self.name,
            "op": self.op,
            "row": self.row,
            "macs": self.macs,
            "forward_read": self.read(),
            "forward_write": self.write(),
            "backward_read": self.read(True),
            "backward_write": self.write(True),
            "kernels_forward": len(self.forward),
            "kernels_backward": len(self.backward),
            "intensity": self.macs / fwd if fwd else None,
        }


def _in_train_graph(graph: nx.DiGraph, aux: bool) -> list[str]:
    return [
        n
        for n in nx.topological_sort(graph)
        if graph.nodes[n]["op"] != "input" and (aux or graph.nodes[n]["aux"] is None)
    ]


def traffic(
    graph: nx.DiGraph, batch: int, dtype: str = "fp32", train: bool = False, aux: bool = False
) -> list[NodeTraffic]:
    """Kernels of every op node (concats included) in network order; backward kernels when `train`.

    `aux`: include the aux heads (a training step runs them; inference never does).
    """
    _, size = dtype_bytes(dtype)
    names = _in_train_graph(graph, aux and train)
    kept = set(names) | {"input"}
    out = []
    for n in names:
        a = graph.nodes[n]
        preds = list(graph.predecessors(n))
        ctx = Ctx(batch, size, train, input_grad=preds != ["input"])
        e_in = batch * prod(a["in_shape"])
        e_out = batch * prod(a["out_shape"])
        fwd, bwd = RULES[a["op"]](a, ctx, e_in, e_out)
        readers = sum(1 for s in graph.successors(n) if s in kept)
        if train and readers > 1:  # gradient accumulation of a tensor read k times
            g = e_out * size
            bwd = [Kernel("eltwise_bwd", 0, 2 * g, g, (g,))] * (readers - 1) + list(bwd)
        out.append(NodeTraffic(n, a["op"], a["row"], batch * a["macs"], tuple(fwd), tuple(bwd) if train else ()))
    return out


def param_tensors(graph: nx.DiGraph, aux: bool = False) -> list[int]:
    """Element counts of the parameter tensors (weight, bias, bn weight and bias), as the optimizer sees them."""
    sizes = []
    for _, a in graph.nodes(data=True):
        if a["op"] in ("input", "concat") or not a["params"] or (a["aux"] is not None and not aux):
            continue
        sizes.append(a["weights"])
        if a["biases"]:
            sizes.append(a["biases"])
        if a["norm_params"]:
            sizes += [a["norm_params"] // 2] * 2
    return sizes


def optimizer_kernels(graph: nx.DiGraph, aux: bool = False) -> list[Kernel]:
    """SGD with momentum in fp32, one parameter tensor at a time (PyTorch's loop on CPU)."""
    out = []
    for n in param_tensors(graph, aux):
        b = n * PARAM_BYTES
        out += [Kernel("eltwise", 0, b, b), Kernel("eltwise", 0, 2 * b, b), Kernel("eltwise", 0, 2 * b, b)]
    return out


def totals(nodes: list[NodeTraffic]) -> dict[str, int]:
    return {
        "forward_read": sum(t.read() for t in nodes),
        "forward_write": sum(t.write() for t in nodes),
        "backward_read": sum(t.read(True) for t in nodes),
        "backward_write": sum(t.write(True) for t in nodes),
    }
