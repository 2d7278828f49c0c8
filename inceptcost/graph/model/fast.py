"""The fast build of a model: the plain model's modules, parameters and state dict, faster forwards.

make_fast takes the plain model built from an IR graph and swaps its containers for the blocks of
inceptcost/graph/model/blocks.py, keeping every submodule (and so every parameter and buffer) under its name: checkpoints
load both ways. Which 1x1 convs fuse is read off the IR: every set of stride-1, unpadded, ungrouped 1x1
convs that a parallel module's branches start with and whose input is the same node, with the same norm
(BatchNorm with the same eps, or none) and the same activation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import torch
from torch import nn

from .blocks import ConvUnit, FastParallel, FusedGroup, InceptionNet


@dataclass(frozen=True)
class FastOptions:
    """Each optimization on its own, so that a benchmark can show what each one buys."""

    fuse_1x1: bool = True  # sibling 1x1 convs on one input as one conv (+ one BatchNorm), then split
    fold_bn: bool = True  # eval mode: BatchNorm folded into the conv's weight and bias
    fuse_act: bool = True  # a fused group's activation applied once, in place, before the split
    slice_concat: bool = False  # no-grad eager inference: branches write into slices of one output
    channels_last: bool = False  # weights and activations in NHWC (pooling branches included)
    cuda_graphs: bool = False  # the step builders capture the whole step as one CUDA graph (CUDA only)

    @classmethod
    def none(cls) -> FastOptions:
        return cls(fuse_1x1=False, fold_bn=False, fuse_act=False)


def _local(entry: tuple) -> str:
    return entry[1].rsplit(".", 1)[-1]


def _first_op(entry: tuple) -> str | None:
    """The op a branch starts with (None when it starts with a nested parallel module)."""
    if entry[0] == "op":
        return entry[1]
    if entry[0] == "sequence" and entry[2]:
        return _first_op(entry[2][0])
    return None


def _leaves(entry: tuple, module: nn.Module) -> list[nn.Module]:
    """A branch as the flat list of its ops' and nested parallels' modules, in order."""
    if entry[0] == "sequence":
        return [leaf for child in entry[2] for leaf in _leaves(child, module._modules[_local(child)])]
    return [module]


def fusable_1x1(attrs: dict) -> bool:
    args = attrs["args"]
    return (
        attrs["op"] == "conv"
        and tuple(args["kernel"]) == (1, 1)
        and tuple(args["stride"]) == (1, 1)
        and tuple(args["padding"]) == (0, 0)
        and args["groups"] == 1
        and args["norm"] in ("none", "bn")
    )


def sibling_groups(graph: nx.DiGraph, entry: tuple) -> list[list[int]]:
    """Indices of a parallel module's branches that start with fusable 1x1 convs reading the same node,
    grouped by input, norm and activation; only groups of two or more."""
    groups: dict[tuple, list[int]] = {}
    for i, branch in enumerate(entry[2]):
        first = _first_op(branch)
        if first is None or not fusable_1x1(graph.nodes[first]):
            continue
        (src,) = graph.predecessors(first)
        args = graph.nodes[first]["args"]
        key = (src, args["norm"], args.get("eps") if args["norm"] == "bn" else None, args["activation"])
        groups.setdefault(key, []).append(i)
    return [members for members in groups.values() if len(members) > 1]


def make_fast(graph: nx.DiGraph, model: InceptionNet, options: FastOptions) -> FastInceptionNet:
    """The fast model over `model`'s own modules (which it takes over: do not use `model` afterwards)."""

    def convert(entry: tuple, module: nn.Module) -> nn.Module:
        if entry[0] == "op":
            return ConvUnit(module, options.fold_bn) if graph.nodes[entry[1]]["op"] == "conv" else module
        if entry[0] in ("sequence", "residual"):
            for child in entry[2]:
                module._modules[_local(child)] = convert(child, module._modules[_local(child)])
            if entry[0] == "residual" and entry[3] is not None:  # the projection shortcut, a sequence
                module.shortcut = convert(entry[3], module.shortcut)
            return module
        branches = {_local(b): convert(b, module[_local(b)]) for b in entry[2]}
        plans = [_leaves(b, branches[_local(b)]) for b in entry[2]]
        groups = [
            FusedGroup(members, [plans[i][0] for i in members], options.fuse_act)
            for members in (sibling_groups(graph, entry) if options.fuse_1x1 else [])
        ]
        channels = graph.nodes[entry[3]]["out_shape"][0]
        return FastParallel(branches, plans, groups, channels, options.slice_concat)

    for entry in [*graph.graph["tree"], *(graph.graph["aux_tree"] if model.aux_names else [])]:  # aux: if built
        model._modules[entry[1]] = convert(entry, model._modules[entry[1]])
    fast = FastInceptionNet(model, options.channels_last)
    if options.channels_last:
        fast = fast.to(memory_format=torch.channels_last)
    return fast


class FastInceptionNet(InceptionNet):
    """The plain network's rows and aux heads (the same module objects); optionally channels_last inside."""

    def __init__(self, plain: InceptionNet, channels_last: bool) -> None:
        rows = [(name, plain._modules[name]) for name in plain.row_names]
        at = {i: tap for tap, ids in plain.taps.items() for i in ids}
        aux = [
            (name, at[i], weight, plain._modules[name])
            for i, (name, weight) in enumerate(zip(plain.aux_names, plain.aux_weights, strict=True))
        ]
        super().__init__(rows, aux)
        self.channels_last = channels_last

    def forward(self, x: torch.Tensor) -> Any:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x)
