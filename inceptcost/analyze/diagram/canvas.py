"""A drawing under construction, built with the graphviz package's `Digraph`.

Clusters open and close in order (each a `Digraph` named `cluster_...`, attached to its parent when it
closes). The document lists the top-level nodes, then every edge, then the clusters: in this order dot keeps
the written order left to right (a module's branches as in the paper), and a node named in an edge still joins
the cluster that declares it later. Edges stay at the top level because a node first named in an edge inside a
cluster would become a member of that cluster.
"""

from __future__ import annotations

import hashlib
from typing import Any

import graphviz

from .style import EDGE, NODE, shown


class _Digraph(graphviz.Digraph):
    # Node names hold ':' (the naive twin's `naive:` prefix): an edge's ends are names, never node:port.
    _quote_edge = staticmethod(graphviz.Digraph._quote)


MAX_ID = 200  # a layer's dotted name is a node's id: a longer one is cut and made unique by a hash


def _ident(name: str) -> str:
    """A node or cluster name bounded for dot (its scanner refuses a very long string with an error of its own);
    the same name always gives the same id, two names two ids."""
    if len(name) <= MAX_ID:
        return name
    return f"{name[: MAX_ID - 17]}~{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def _values(values: dict[str, Any]) -> dict[str, str]:
    """Attribute values as text: ids bounded like names, a plain-text label cut (an HTML one is cut by esc)."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        text = str(value)
        if key == "id":
            text = _ident(text)
        elif key in ("label", "xlabel", "tooltip") and not (text.startswith("<") and text.endswith(">")):
            text = shown(text)
        out[key] = text
    return out


class Canvas:
    def __init__(self) -> None:
        self.roots = _Digraph()  # nodes outside any cluster
        self.edges = _Digraph()
        self.stack = [_Digraph()]  # [the top-level blocks, the open clusters ...]

    @property
    def nested(self) -> bool:
        return len(self.stack) > 1

    def node(self, name: str, **values: Any) -> None:
        (self.stack[-1] if self.nested else self.roots).node(_ident(name), **_values(values))

    def edge(self, tail: str, head: str, **values: Any) -> None:
        self.edges.edge(_ident(tail), _ident(head), **_values(values))

    def open(self, name: str, **values: Any) -> None:
        self.stack.append(_Digraph(_ident(name), graph_attr=_values(values)))

    def close(self) -> None:
        cluster = self.stack.pop()
        self.stack[-1].subgraph(cluster)

    def same_rank(self, names: list[str], chain: bool = True) -> None:
        """Keep `names` on one rank; with `chain`, invisible edges also fix their left-to-right order."""
        if len(names) < 2 and chain:
            return
        group = _Digraph()
        group.attr(rank="same")
        for tail, head in zip(names, names[1:], strict=False) if chain else ():
            group.edge(_ident(tail), _ident(head), style="invis")
        for name in () if chain else names:
            group.node(_ident(name))
        self.stack[-1].subgraph(group)

    def source(self, name: str, graph: dict[str, Any]) -> str:
        doc = _Digraph(_ident(name), graph_attr=_values(graph), node_attr=_values(NODE), edge_attr=_values(EDGE))
        doc.body += self.roots.body + self.edges.body + self.stack[0].body
        return doc.source
