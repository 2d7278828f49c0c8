"""IR graph -> a real torch nn.Module whose submodule paths are the IR's dotted names (the network class,
`InceptionNet`, is in blocks.py beside the modules it is made of; the fast build in fast.py)."""

from __future__ import annotations

import os
from typing import Any

import networkx as nx
from torch import nn

from ...errors import InceptcostError, SpecError
from ..compile import compile_graph
from .blocks import Add, InceptionNet, Parallel, Residual
from .builders import BUILDERS
from .fast import FastOptions, make_fast

# Refuse up front rather than let the allocator fail (or the machine swap) on absurd specs.
MAX_MODEL_BYTES = 64 << 30


def _build(graph: nx.DiGraph, entry: tuple) -> nn.Module:
    kind, name = entry[0], entry[1]
    if kind == "op":
        attrs = graph.nodes[name]
        return BUILDERS[attrs["op"]](attrs["args"], attrs["in_shape"], attrs["out_shape"])
    if kind == "sequence":
        seq = nn.Sequential()
        for child in entry[2]:
            seq.add_module(child[1].rsplit(".", 1)[-1], _build(graph, child))
        return seq
    if kind == "residual":
        body = [(child[1].rsplit(".", 1)[-1], _build(graph, child)) for child in entry[2]]
        shortcut = _build(graph, entry[3]) if entry[3] is not None else None
        attrs = graph.nodes[entry[4]]
        return Residual(body, shortcut, BUILDERS["add"](attrs["args"], attrs["in_shape"], attrs["out_shape"]))
    par = Parallel()
    for branch in entry[2]:
        par[branch[1].rsplit(".", 1)[-1]] = _build(graph, branch)
    return par


def _first_line(graph: nx.DiGraph, entry: tuple) -> int | None:
    if entry[0] == "op":
        return graph.nodes[entry[1]]["line"]
    return next((line for child in entry[2] if (line := _first_line(graph, child))), None)


def _check_names(graph: nx.DiGraph) -> None:
    """Refuse names that torch cannot take as submodule names because they shadow an attribute (`forward`,
    `keys`, `training`): add_module would raise a bare KeyError halfway through building."""
    taken = {
        "root": set(dir(InceptionNet([], []))),
        "sequence": set(dir(nn.Sequential())),
        "parallel": set(dir(Parallel())),
        "residual": set(dir(Residual([], None, Add(1.0, None)))),
    }

    def walk(entries: list[tuple], container: str) -> None:
        for entry in entries:
            local = entry[1].rsplit(".", 1)[-1]
            if local in taken[container]:
                raise SpecError(
                    f"the name '{local}' cannot be used: torch's modules have an attribute of that name",
                    file=graph.graph["spec"].file,
                    line=_first_line(graph, entry),
                    where=entry[1],
                    hint="rename the layer or branch",
                )
            if entry[0] in ("sequence", "parallel", "residual"):
                walk(entry[2], entry[0])
            if entry[0] == "residual" and entry[3] is not None:
                walk(entry[3][2], "sequence")

    walk([*graph.graph["tree"], *graph.graph["aux_tree"]], "root")


def _memory_limit() -> int:
    """Half the machine's memory, at most MAX_MODEL_BYTES: training needs weights, grads and optimizer state."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return MAX_MODEL_BYTES
    return min(MAX_MODEL_BYTES, physical // 2)


def build_model(spec_or_graph: Any, aux: bool = False, fast: Any = False) -> InceptionNet:
    """Build the torch model of a Spec or a compiled IR graph (weights initialized by torch's defaults);
    the aux heads only with `aux` (they serve training alone, as in `inceptcost train`).

    fast: True or a graph.fast.FastOptions for the fast build (same parameters, names and state dict)."""
    graph = spec_or_graph if isinstance(spec_or_graph, nx.DiGraph) else compile_graph(spec_or_graph)
    params = sum(graph.nodes[n]["params"] for n in graph)
    buffers = sum(graph.nodes[n]["norm_params"] for n in graph)  # BN running mean and variance
    needed, limit = 4 * (params + buffers), _memory_limit()
    if needed > limit:
        raise InceptcostError(
            f"the model would need {needed / 2**30:,.1f} GiB for its float32 weights alone"
            f" ({params:,} parameters); the limit here is {limit / 2**30:,.1f} GiB",
            file=graph.graph["spec"].file,
            hint="analyze works on any size; shrink the widths to build it",
        )
    _check_names(graph)
    rows = [(entry[1], _build(graph, entry)) for entry in graph.graph["tree"]]
    aux = [
        (row.name, row.at, row.weight, _build(graph, entry))
        for row, entry in zip(graph.graph["aux"], graph.graph["aux_tree"], strict=True)
        if aux
    ]
    model = InceptionNet(rows, aux)
    if fast is False:
        return model
    return make_fast(graph, model, FastOptions() if fast is True else fast)
