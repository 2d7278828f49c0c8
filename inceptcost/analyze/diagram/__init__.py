"""Diagrams read off the IR: graphviz source built with the graphviz package's `Digraph`, rendering apart.

Three drawings, all with the IR's dotted names as node ids (so a node in the SVG is the layer in the report):
`network_source` (the whole net, or one node per row with `collapse`; network.py), `module_source` (one module,
each branch boxed with its params and MACs, optionally beside its naive twin; module.py). Nodes are filled by
their MACs (style.py). `render` (render.py) pipes the source through `dot`. Costs and shapes come from the IR's
node attributes only; nothing here imports torch or the rest of `inceptcost.analyze`.
"""

from __future__ import annotations

import networkx as nx

from ...errors import InceptcostError
from .module import module_source
from .network import network_source
from .render import output_format, render
from .style import PALETTE, cost_level


def diagram_source(graph: nx.DiGraph, module: str | None = None, naive: bool = False, collapse: bool = False) -> str:
    """The DOT source the `diagram` command draws, from its options."""
    if module is None:
        if naive:
            raise InceptcostError("--naive draws one module beside its naive version", hint="add --module, e.g. 4e")
        return network_source(graph, collapse=collapse)
    if collapse:
        raise InceptcostError("--collapse draws the whole network", hint="drop --module, or drop --collapse")
    return module_source(graph, module, naive=naive)


__all__ = ["PALETTE", "cost_level", "diagram_source", "module_source", "network_source", "output_format", "render"]
