"""Drawing IR nodes and edges: ops, sequences and modules (a split point, the branches, the concat)."""

from __future__ import annotations

from typing import Any

import networkx as nx

from ...quantities import human
from ...text import shape_text
from .canvas import Canvas
from .layout import height, total, tree_ops
from .style import esc, html, node_attrs


class Drawer:
    """Writes IR nodes and edges onto a Canvas; `prefix` keeps a second graph's names apart (the naive twin)."""

    def __init__(self, graph: nx.DiGraph, canvas: Canvas, top: int, prefix: str = "", detail: bool = False) -> None:
        self.g = graph
        self.canvas = canvas
        self.top = top
        self.prefix = prefix
        self.detail = detail
        self.branch_boxes = detail  # the module view boxes each branch with its params and MACs
        self.shapes: dict[str, tuple] = {}  # output shapes of drawn nodes that are not IR nodes

    def a(self, name: str) -> dict:
        return self.g.nodes[name]

    def out_shape(self, name: str) -> tuple:
        return self.a(name)["out_shape"] if name in self.g else self.shapes[name]

    def id(self, name: str) -> str:
        return name if name in self.shapes else f"{self.prefix}{name}"  # drawn extras are shared, unprefixed

    def shape_edge(self, tail: str, head: str, shape: tuple | None, **extra: Any) -> None:
        label = f" {shape_text(shape)}" if shape else None
        self.canvas.edge(tail, head, label=label, **extra)

    def op(self, name: str, src: str | None, aux: bool, label_edge: bool, first: dict) -> str:
        values = node_attrs(self.a(name), self.top, detail=self.detail, aux=aux)
        self.canvas.node(self.id(name), **{**values, "id": self.id(name)})
        if src is not None:
            shape = self.out_shape(src) if label_edge else None
            self.shape_edge(self.id(src), self.id(name), shape, **{"style": "dashed" if aux else None, **first})
        return name

    def entry(self, entry: tuple, src: str | None, aux: bool = False, label_edge: bool = True, first=None) -> str:
        first = first or {}
        if entry[0] == "op":
            return self.op(entry[1], src, aux, label_edge, first)
        if entry[0] == "sequence":
            for i, child in enumerate(entry[2]):
                src = self.entry(child, src, aux, label_edge if i == 0 else True, first if i == 0 else None)
            return src  # type: ignore[return-value]
        if entry[0] == "residual":
            return self.residual(entry, src, aux, first)
        return self.module(entry, src, aux, first)

    def residual(self, entry: tuple, src: str | None, aux: bool, first: dict) -> str:
        """The body in line, then the add node; the shortcut (the identity, or through its projection) is an
        edge of its own into the add, drawn bold and labelled."""
        _, full, body, shortcut, add = entry
        out = self.entry(("sequence", full, body), src, aux, True, first)
        side = self.entry(shortcut, src, aux) if shortcut is not None else src
        self.op(add, out, aux, True, {})
        if side is not None:
            self.shape_edge(self.id(side), self.id(add), self.out_shape(side), style="bold", xlabel="shortcut")
        return add

    def module(self, entry: tuple, src: str | None, aux: bool, first: dict) -> str:
        """One labelled edge into a split point, unlabelled fan-out to the branches, each branch into a concat."""
        _, full, branches, concat = entry
        split = f"{full}.split"
        self.canvas.node(self.id(split), shape="point", width=0.06, height=0.06, label="", id=self.id(split))
        if src is not None:
            self.shape_edge(self.id(src), self.id(split), self.out_shape(src), arrowhead="none", **first)
        if not self.branch_boxes:  # the branches' first layers side by side, as in the paper's figures
            self.canvas.same_rank([self.id(tree_ops(b)[0]) for b in branches], chain=False)
        longest = max(height(b) for b in branches)
        for i, branch in enumerate(branches):
            if self.branch_boxes:
                self.branch_cluster(branch, "l" if 2 * i + 1 <= len(branches) else "r")
            out = self.entry(branch, split, aux, label_edge=False)
            if self.branch_boxes:
                # Pad short branches with invisible nodes: boxes of equal height, and dot keeps their order.
                last = out
                for k in range(longest - height(branch)):
                    pad = self.id(f"{branch[1]}.pad{k}")
                    self.canvas.node(pad, style="invis", label="", width=0.5)
                    self.canvas.edge(self.id(last) if k == 0 else last, pad, style="invis")
                    last = pad
                self.canvas.close()
            self.shape_edge(self.id(out), self.id(concat), self.a(out)["out_shape"])
        values = node_attrs(self.a(concat), self.top, detail=self.detail, aux=aux)
        if self.detail:
            values["label"] = html(f"filter concatenation {esc(shape_text(self.a(concat)['out_shape']))}")
        self.canvas.node(self.id(concat), **{**values, "id": self.id(concat)})
        return concat

    def branch_cluster(self, branch: tuple, place: str) -> None:
        """A box around one branch with its name, params and MACs in a narrow label at the top, on the side
        (`place`: l or r) away from where the fan-out edge comes in, so that no edge crosses it."""
        names = [n for n in tree_ops(branch) if n in self.g]
        params, macs = total(self.g, names, "params"), total(self.g, names, "macs")
        local = branch[1].rsplit(".", 1)[-1]
        facts = [f"{human(params)} params", f"{human(macs)} MACs"] if params else ["no params", "no MACs"]
        align = "left" if place == "l" else "right"
        lines = "".join(f'<tr><td align="{align}">{t}</td></tr>' for t in facts)
        self.canvas.open(
            f"cluster_{self.id(branch[1])}",
            label=html(
                f'<table border="0" cellpadding="0" cellspacing="0"><tr><td align="{align}">'
                f"<b>{esc(local)}</b></td></tr>{lines}</table>"
            ),
            labeljust=place,
            style="rounded",
            color="#b0b0b0",
            fontsize=8,
            margin=6,
            id=f"cluster_{self.id(branch[1])}",
        )
