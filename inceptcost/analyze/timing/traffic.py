"""Bytes moved per layer, read off the IR: the kernels each op runs, forward and backward. No torch.

Each kind's traffic rule (its `traffic` in inceptcost/kinds; the concat's there too) returns the kernels that
eager PyTorch runs for that op on a batch, with their multiply-adds and the bytes they read and write in the
run's dtype (`size` bytes per element); this module walks the graph with them and adds what no single op owns:

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

from dataclasses import dataclass
from math import prod

import networkx as nx

from ...kinds import TRAFFIC, Kernel, RuleContext
from ..memory import PARAM_BYTES, dtype_bytes

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
    """Kernels of every op node (concats included) in network order, from its kind's traffic rule; backward kernels when `train`.

    `aux`: include the aux heads (a training step runs them; inference never does).
    """
    _, size = dtype_bytes(dtype)
    names = _in_train_graph(graph, aux and train)
    kept = set(names) | {"input"}
    out = []
    for n in names:
        a = graph.nodes[n]
        preds = list(graph.predecessors(n))
        ctx = RuleContext(batch, train, size=size, input_grad=preds != ["input"])
        e_in = batch * prod(a["in_shape"])
        e_out = batch * prod(a["out_shape"])
        fwd, bwd = TRAFFIC[a["op"]](a, ctx, e_in, e_out)
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
