"""The whole net: each multi-node row (an inception module, a conv with its reduction) is a cluster titled with
its output shape and MACs, a module's branches side by side as in the paper's Figures 2(b) and 3; rows are
grouped into stages by grid size, and the stages set side by side as columns so that the 60-odd layers of
GoogLeNet read on one screen. `collapse=True` draws each row as one node."""

from __future__ import annotations

from typing import Any

import networkx as nx

from ...quantities import human
from ...text import op_title, row_title, shape_text
from .canvas import Canvas
from .draw import Drawer
from .layout import Stage, columns, net_totals, stages, total
from .style import esc, fill, graph_attrs, html, title_label


class NetDrawer(Drawer):
    def __init__(self, graph: nx.DiGraph, collapse: bool) -> None:
        rows = [*graph.graph["rows"], *graph.graph["aux"]]
        costs = [total(graph, r.nodes, "macs") for r in rows] if collapse else [graph.nodes[n]["macs"] for n in graph]
        super().__init__(graph, Canvas(), max(costs, default=0) or 1)
        self.collapse = collapse
        self.rows = {r.name: r for r in rows}
        self.shapes.update({r.name: r.out_shape for r in rows})

    def row(self, row: Any, entry: tuple, src: str, first: dict) -> str:
        if self.collapse:
            return self.row_node(row, src, first)
        if entry[0] == "op":
            return self.entry(entry, src, first=first)
        self.canvas.open(
            f"cluster_{row.name}",
            label=html(self.cluster_title(row)),
            style="rounded,filled" if entry[0] == "parallel" else "rounded,dashed",
            color="#9a9a9a",
            fillcolor="#ffffff",
            fontsize=9,
            margin=6,
            id=f"cluster_{row.name}",
        )
        out = self.entry(entry, src, first=first)
        self.canvas.close()
        return out

    def row_node(self, row: Any, src: str, first: dict) -> str:
        """A whole row as one node: its name, output shape and MACs."""
        macs, params = total(self.g, row.nodes, "macs"), total(self.g, row.nodes, "params")
        if row.kind == "parallel":
            title = row_title(row)
        else:
            title = op_title(self.a(row.nodes[0])) if len(row.nodes) == 1 else row.name
        sub = shape_text(row.out_shape) + (f" · {human(macs)} MACs" if macs else "")
        shapes = f"{shape_text(row.in_shape)} -> {shape_text(row.out_shape)}"
        self.canvas.node(
            row.name,
            label=html(f'<b>{esc(title)}</b><br/><font point-size="8">{esc(sub)}</font>'),
            tooltip=f"{row.name}: {shapes}, {params:,} params, {macs:,} MACs",
            id=row.name,
            **fill(macs, self.top),
        )
        self.shape_edge(src, row.name, self.out_shape(src), **first)
        return row.name

    def cluster_title(self, row: Any) -> str:
        rest = f"{shape_text(row.out_shape)} · {human(total(self.g, row.nodes, 'macs'))} MACs"
        return f"<b>{esc(row_title(row))}</b> {esc(rest)}"

    def connect(self, src: str, row: Any) -> str:
        """Off-page connectors between columns ("to inception (4a)" / "from pool3"), not a long edge back up."""
        shape = self.out_shape(src)
        source = self.g.nodes[src]["row"] if src in self.g else src
        style = {"shape": "cds", "style": "filled", "fillcolor": "#e8e8e8", "color": "#9a9a9a", "fontsize": 9}
        self.canvas.node(f"{src}.to", label=f"to {row_title(row)}", id=f"{src}.to", **style)
        self.canvas.edge(src, f"{src}.to", weight=4)
        self.canvas.node(f"{row.name}.from", label=f"from {source}", id=f"{row.name}.from", **style)
        self.shapes[f"{row.name}.from"] = shape
        return f"{row.name}.from"

    def draw(self) -> None:
        parts = stages(self.g)
        cols = columns(parts, goal=2 if self.collapse else 3)
        self.canvas.node("input", label=f"input {shape_text(self.a('input')['out_shape'])}", id="input")
        src, tops = "input", ["input"]
        for c, col in enumerate(cols):
            if c > 0:
                src = self.connect(src, col[0].rows[0][0])
                tops.append(src)
            for s, stage in enumerate(col):
                if len(parts) > 1:
                    self.stage_cluster(stage, f"cluster_stage_{c}_{s}")
                for row, entry in stage.rows:
                    src = self.row(row, entry, src, {"weight": 4})
                if len(parts) > 1:
                    self.canvas.close()
        for row, entry in zip(self.g.graph["aux"], self.g.graph["aux_tree"], strict=True):
            self.aux(row, entry)
        self.canvas.same_rank(tops)

    def stage_cluster(self, stage: Stage, name: str) -> None:
        macs = sum(total(self.g, r.nodes, "macs") for r, _ in stage.rows)
        title = stage.title if stage.title in ("stem", "head") else f"{stage.title} grid"
        self.canvas.open(
            name,
            label=html(f"<b>{esc(title)}</b> · {esc(human(macs))} MACs"),
            style="rounded,filled",
            color="#d8d8d8",
            fillcolor="#f4f4f4",
            fontsize=10,
            margin=8,
        )

    def aux(self, row: Any, entry: tuple) -> None:
        tap = self.rows[row.at]
        macs = total(self.g, row.nodes, "macs")
        if self.collapse:
            self.canvas.node(
                row.name,
                label=html(
                    f'<b>{esc(row.name)}</b> (training only)<br/><font point-size="8">{human(macs)} MACs</font>'
                ),
                id=row.name,
                style="rounded,filled,dashed",
                **fill(macs, self.top),
            )
            self.shape_edge(tap.name, row.name, tap.out_shape, style="dashed")
            return
        self.canvas.open(
            f"cluster_{row.name}",
            label=html(f"<b>{esc(row.name)}</b> training only, loss x{row.weight:g} · {esc(human(macs))} MACs"),
            style="rounded,dashed",
            color="#8a8a8a",
            fontsize=9,
            margin=6,
            id=f"cluster_{row.name}",
        )
        self.entry(entry, tap.output, aux=True)
        self.canvas.close()


def network_source(graph: nx.DiGraph, collapse: bool = False) -> str:
    """DOT source for the whole net; `collapse` draws each row (a module, a stem conv) as one node."""
    drawer = NetDrawer(graph, collapse)
    drawer.draw()
    spec = graph.graph["spec"]
    if collapse:
        top_name = max(drawer.rows.values(), key=lambda r: total(graph, r.nodes, "macs")).name
    else:
        top_name = max(graph.nodes, key=lambda n: graph.nodes[n]["macs"])
    caption = f"MACs per {'row' if collapse else 'layer'} (darkest: {top_name}, {human(drawer.top)})"
    params, macs, macs_aux = net_totals(graph)
    line = f"input {shape_text(spec.input)} · {params:,} params · {human(macs)} MACs"
    if macs_aux:
        line += f" (aux heads, training only: {human(macs_aux)} MACs)"
    label = title_label(spec.title or spec.name, [line], drawer.top, caption)
    return drawer.canvas.source(spec.name, graph_attrs(label))
