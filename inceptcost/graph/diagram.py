"""Diagrams read off the IR: graphviz DOT source built as plain text, rendering a separate side effect.

Three drawings, all with the IR's dotted names as node ids (so a node in the SVG is the layer in the report):
- `network_source`: the whole net. Each multi-node row (an inception module, a conv with its reduction) is a
  cluster titled with its output shape and MACs, a module's branches side by side as in the paper's
  Figures 2(b) and 3; rows are grouped into stages by grid size, and the stages set side by side as columns
  so that the 60-odd layers of GoogLeNet read on one screen. `collapse=True` draws each row as one node.
- `module_source`: one module alone, a cluster per branch with its params and MACs; with `naive=True` beside
  its Figure 2(a) twin without 1x1 reductions (compiled from the same row with `naive: true`).
- Every node is filled by its MACs on a sequential palette (ColorBrewer YlOrRd): the most expensive node is
  the darkest, each step lighter halves the MACs; a legend under the title gives the steps.

`render` pipes the source through Debian's `dot` with the `graphviz` package; without `dot` it raises
ToolMissing. Nothing here imports torch.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from .. import layers
from ..analyze.table import shape_text
from ..errors import InceptcostError, ToolMissing, did_you_mean
from ..quantities import human

# ColorBrewer YlOrRd, 9 classes, light to dark: "hot" reads as "expensive".
PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026")
NO_MACS = "#ffffff"  # pools, norms, concats: no multiply-adds
DARK_FROM = 6  # palette levels from here on get white text
FONT = "Helvetica,Arial,sans-serif"
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL_HINT = "install graphviz: apt-get install graphviz (macOS: brew install graphviz)"


# ---- DOT text ----


class Html(str):
    """A graphviz HTML-like label, written between < > instead of quotes."""


def quote(value: Any) -> str:
    if isinstance(value, Html):
        return f"<{value}>"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def esc(text: Any) -> str:
    """Escape text for an HTML-like label."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def attrs(values: dict[str, Any]) -> str:
    shown = [f"{k}={quote(v)}" for k, v in values.items() if v is not None]
    return f" [{', '.join(shown)}]" if shown else ""


@dataclass
class Dot:
    """A DOT document under construction: lines with indentation, clusters opened and closed in order."""

    lines: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)  # nodes outside any cluster
    edges: list[str] = field(default_factory=list)  # all at the top level (see `edge` and `text`)
    depth: int = 1

    def add(self, line: str) -> None:
        self.lines.append("  " * self.depth + line)

    def node(self, name: str, **values: Any) -> None:
        if self.depth == 1:
            self.roots.append(f"  {quote(name)}{attrs(values)}")
        else:
            self.add(f"{quote(name)}{attrs(values)}")

    def edge(self, tail: str, head: str, **values: Any) -> None:
        # At the top level: a node named in an edge inside a cluster would become a member of that cluster.
        self.edges.append(f"  {quote(tail)} -> {quote(head)}{attrs(values)}")

    def open(self, name: str, **values: Any) -> None:
        self.add(f"subgraph {quote(name)} {{")
        self.depth += 1
        for k, v in values.items():
            if v is not None:
                self.add(f"{k}={quote(v)}")

    def close(self) -> None:
        self.depth -= 1
        self.add("}")

    def same_rank(self, names: list[str]) -> None:
        """Keep `names` on one rank in this order (invisible edges fix the left-to-right order)."""
        if len(names) > 1:
            chain = " -> ".join(quote(n) for n in names)
            self.add(f"{{rank=same; {chain} [style=invis]}}")

    def text(self, name: str, graph: dict[str, Any]) -> str:
        head = [
            f"digraph {quote(name)} {{",
            f"  graph{attrs(graph)}",
            "  node"
            + attrs(
                {
                    "shape": "box",
                    "style": "rounded,filled",
                    "fontname": FONT,
                    "fontsize": 10,
                    "height": 0.3,
                    "margin": "0.07,0.03",
                    "penwidth": 0.7,
                    "color": "#5a5a5a",
                    "fillcolor": NO_MACS,
                }
            ),
            "  edge"
            + attrs(
                {
                    "fontname": FONT,
                    "fontsize": 8,
                    "fontcolor": "#505050",
                    "color": "#6a6a6a",
                    "arrowsize": 0.5,
                    "penwidth": 0.7,
                }
            ),
        ]
        # Top-level nodes, then the edges, then the clusters: in this order dot keeps the written order left to
        # right (a module's branches as in the paper); a node named in an edge still joins the cluster that
        # declares it later.
        return "\n".join(head + self.roots + self.edges + self.lines + ["}", ""])


# ---- colors ----


def cost_level(macs: int, top: int) -> int:
    """0 for no MACs; 9 for the most expensive node (`top`), one level less for each halving below it."""
    if macs <= 0 or top <= 0:
        return 0
    halvings = max(0, (top // macs).bit_length() - 1)
    return max(1, len(PALETTE) - halvings)


def fill(macs: int, top: int) -> dict[str, str]:
    level = cost_level(macs, top)
    if level == 0:
        return {"fillcolor": NO_MACS}
    return {"fillcolor": PALETTE[level - 1], "fontcolor": "white" if level >= DARK_FROM else "black"}


def legend(top: int, caption: str) -> str:
    """An HTML table: one swatch per palette level with the MACs at which it starts."""
    cells = [f'<td bgcolor="{NO_MACS}" border="1"><font point-size="8">0</font></td>']
    for level in range(1, len(PALETTE) + 1):
        low = top / 2 ** (len(PALETTE) - level)
        text = f"&ge;{human(low)}" if level > 1 else f"&lt;{human(top / 2 ** (len(PALETTE) - 2))}"
        color = "white" if level >= DARK_FROM else "black"
        cells.append(
            f'<td bgcolor="{PALETTE[level - 1]}" border="1"><font point-size="8" color="{color}">{text}</font></td>'
        )
    return (
        '<table border="0" cellborder="0" cellspacing="1" cellpadding="3"><tr>'
        f'<td align="right"><font point-size="9">{esc(caption)}</font></td>' + "".join(cells) + "</tr></table>"
    )


def lines_label(lines: list[str]) -> Html:
    """Left-aligned lines of HTML text (a plain <br/> would center each line on its own)."""
    rows = "".join(f'<tr><td align="left">{line}</td></tr>' for line in lines)
    return Html(f'<table border="0" cellpadding="0" cellspacing="1">{rows}</table>')


def title_label(title: str, lines: list[str], top: int, caption: str) -> Html:
    rows = [f'<tr><td align="left"><font point-size="15"><b>{esc(title)}</b></font></td></tr>']
    rows += [f'<tr><td align="left"><font point-size="10">{esc(line)}</font></td></tr>' for line in lines]
    rows.append(f'<tr><td align="left">{legend(top, caption)}</td></tr>')
    return Html('<table border="0" cellborder="0" cellspacing="2">' + "".join(rows) + "</table>")


# ---- node text ----


def _kernel(args: dict) -> str:
    kh, kw = args["kernel"]
    text = f"{kh}x{kw}"
    sh, sw = args.get("stride") or (1, 1)
    if (sh, sw) != (1, 1):
        text += f"/{sh}" if sh == sw else f"/{sh}x{sw}"
    return text


def op_title(a: dict) -> str:
    """A compact name for a layer as the paper's figures write it: `3x3 conv 320`, `3x3/2 max pool`."""
    op, args = a["op"], a["args"]
    local = a["name"].rsplit(".", 1)[-1]
    if op == "conv":
        if args.get("depthwise"):
            return f"{_kernel(args)} depthwise x{a['out_shape'][0] // a['in_shape'][0]}"
        word = local if local in ("reduce", "proj") else "conv"
        groups = f" g{args['groups']}" if args["groups"] > 1 else ""
        return f"{_kernel(args)} {word} {args['out']}{groups}"
    if op in ("maxpool", "avgpool"):
        return f"{_kernel(args)} {op[:3]} pool"
    if op == "adaptive_avgpool":
        oh, ow = args["output"]
        return "global avg pool" if (oh, ow) == (1, 1) else f"avg pool to {oh}x{ow}"
    if op == "lrn":
        return "LRN"
    if op == "dropout":
        return f"dropout {args['p']:.0%}"
    if op == "linear":
        return f"linear {args['out']}"
    if op == "concat":
        return "concat"
    if op == "add":
        scale = f" x{args['scale']:g}" if args["scale"] != 1 else ""
        act = f", {args['activation']}" if args["activation"] != "none" else ""
        return f"add (body{scale}){act}"
    if op == "activation":
        return args["activation"]
    if op == "input":
        return "input"
    return op.replace("_", " ")


def tooltip(a: dict) -> str:
    shapes = f"{shape_text(a['in_shape'])} -> {shape_text(a['out_shape'])}"
    return f"{a['name']}: {op_title(a)}, {shapes}, {a['params']:,} params, {a['macs']:,} MACs"


def node_label(a: dict, detail: bool) -> Html:
    """Line 1 the layer, line 2 (smaller) its MACs and, with `detail`, its params."""
    head = esc(op_title(a))
    if a["op"] == "concat":
        head = f"concat {esc(shape_text(a['out_shape']))}"
    facts = []
    if detail and a["params"]:
        facts.append(f"{human(a['params'])} params")
    if a["macs"]:
        facts.append(f"{human(a['macs'])} MACs")
    if not facts:
        return Html(head)
    return Html(f'{head}<br/><font point-size="8">{" · ".join(facts)}</font>')


def node_attrs(a: dict, top: int, detail: bool = False, aux: bool = False) -> dict[str, Any]:
    kind = layers.ADD if a["op"] == "add" else layers.KINDS.get(a["op"])
    style = dict(kind.style) if kind else {"shape": "box", "style": "rounded,filled"}
    style["style"] = ",".join(sorted({*style.get("style", "").split(","), "filled"} - {""}))
    if aux:
        style["style"] += ",dashed"
    if a["op"] == "concat":
        style = {"shape": "box", "style": "filled", "height": 0.22}
    if a["op"] == "add":  # a small "+" with what it does beside it
        return {**style, "label": "+", "xlabel": esc(op_title(a)), "tooltip": tooltip(a), "id": a["name"]}
    return {
        **style,
        "label": node_label(a, detail),
        "tooltip": tooltip(a),
        "id": a["name"],
        **fill(a["macs"], top),
    }


# ---- the tree ----


def tree_ops(entry: tuple) -> list[str]:
    """The op names of a tree entry, in order (concat nodes included)."""
    if entry[0] == "op":
        return [entry[1]]
    names = [n for child in entry[2] for n in tree_ops(child)]
    if entry[0] == "residual":
        return names + (tree_ops(entry[3]) if entry[3] is not None else []) + [entry[4]]
    return names + ([entry[3]] if entry[0] == "parallel" else [])


def _height(entry: tuple) -> int:
    """Ranks an entry takes when drawn: a module is its split point, longest branch and concat."""
    if entry[0] == "op":
        return 1
    if entry[0] == "sequence":
        return sum(_height(c) for c in entry[2])
    if entry[0] == "residual":
        return 1 + sum(_height(c) for c in entry[2])
    return 2 + max(_height(c) for c in entry[2])


def _row_macs(graph: nx.DiGraph, row: Any) -> int:
    return sum(graph.nodes[n]["macs"] for n in row.nodes)


def _row_params(graph: nx.DiGraph, row: Any) -> int:
    return sum(graph.nodes[n]["params"] for n in row.nodes)


def row_title(row: Any) -> str:
    """A row's display name: its Table 1 label for a module ("inception (4e)"), else its name."""
    if row.kind != "parallel" or not row.label:
        return row.name
    # The spec's default label for a row named `inception4e` is "inception (inception4e)": show "(4e)".
    tail = re.search(r"(\d+[a-z]?)$", row.name)
    if row.label == f"inception ({row.name})" and tail:
        return f"inception ({tail.group(1)})"
    return row.label


@dataclass
class Stage:
    title: str
    rows: list[tuple[Any, tuple]]  # (Row, tree entry)

    @property
    def height(self) -> int:
        return sum(_height(e) for _, e in self.rows)


def stages(graph: nx.DiGraph) -> list[Stage]:
    """The stem (rows before the first module), then one stage per grid size the modules read."""
    pairs = list(zip(graph.graph["rows"], graph.graph["tree"], strict=True))
    first = next((i for i, (r, _) in enumerate(pairs) if r.kind == "parallel"), None)
    if first is None:
        return [Stage("", pairs)]
    out = [Stage("stem", pairs[:first])] if first else []
    for row, entry in pairs[first:]:
        # A module on a new grid opens a stage; pools, the classifier and further modules join the open one.
        grid = f"{row.in_shape[1]}x{row.in_shape[2]}" if row.kind == "parallel" else None
        if out and out[-1].title != "stem" and (grid is None or out[-1].title == grid):
            out[-1].rows.append((row, entry))
        else:
            out.append(Stage(grid or "head", [(row, entry)]))
    return out


def columns(parts: list[Stage], goal: int = 3) -> list[list[Stage]]:
    """Pack stages into about `goal` columns of similar height, in order; a stage is never split."""
    total = sum(s.height for s in parts)
    target = max(max(s.height for s in parts), math.ceil(total / goal))
    cols: list[list[Stage]] = [[]]
    for stage in parts:
        if cols[-1] and sum(s.height for s in cols[-1]) + stage.height > target:
            cols.append([])
        cols[-1].append(stage)
    return cols


# ---- drawing the whole net ----


class _Drawer:
    """Writes IR nodes and edges into a Dot; `prefix` keeps a second graph's names apart (the naive twin)."""

    def __init__(self, graph: nx.DiGraph, dot: Dot, top: int, prefix: str = "", detail: bool = False) -> None:
        self.g = graph
        self.dot = dot
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
        self.dot.edge(tail, head, label=label, **extra)

    def op(self, name: str, src: str | None, aux: bool, label_edge: bool, first: dict) -> str:
        values = node_attrs(self.a(name), self.top, detail=self.detail, aux=aux)
        self.dot.node(self.id(name), **{**values, "id": self.id(name)})
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
        self.dot.node(self.id(split), shape="point", width=0.06, height=0.06, label="", id=self.id(split))
        if src is not None:
            self.shape_edge(self.id(src), self.id(split), self.out_shape(src), arrowhead="none", **first)
        if not self.branch_boxes:  # the branches' first layers side by side, as in the paper's figures
            self.dot.add(f"{{rank=same; {'; '.join(quote(self.id(tree_ops(b)[0])) for b in branches)}}}")
        longest = max(_height(b) for b in branches)
        for i, branch in enumerate(branches):
            if self.branch_boxes:
                self.branch_cluster(branch, "l" if 2 * i + 1 <= len(branches) else "r")
            out = self.entry(branch, split, aux, label_edge=False)
            if self.branch_boxes:
                # Pad short branches with invisible nodes: boxes of equal height, and dot keeps their order.
                last = out
                for k in range(longest - _height(branch)):
                    pad = self.id(f"{branch[1]}.pad{k}")
                    self.dot.node(pad, style="invis", label="", width=0.5)
                    self.dot.edge(self.id(last) if k == 0 else last, pad, style="invis")
                    last = pad
                self.dot.close()
            self.shape_edge(self.id(out), self.id(concat), self.a(out)["out_shape"])
        values = node_attrs(self.a(concat), self.top, detail=self.detail, aux=aux)
        if self.detail:
            values["label"] = Html(f"filter concatenation {esc(shape_text(self.a(concat)['out_shape']))}")
        self.dot.node(self.id(concat), **{**values, "id": self.id(concat)})
        return concat

    def branch_cluster(self, branch: tuple, place: str) -> None:
        """A box around one branch with its name, params and MACs in a narrow label at the top, on the side
        (`place`: l or r) away from where the fan-out edge comes in, so that no edge crosses it."""
        names = [n for n in tree_ops(branch) if n in self.g]
        params = sum(self.a(n)["params"] for n in names)
        macs = sum(self.a(n)["macs"] for n in names)
        local = branch[1].rsplit(".", 1)[-1]
        facts = [f"{human(params)} params", f"{human(macs)} MACs"] if params else ["no params", "no MACs"]
        lines = "".join(f'<tr><td align="{"left" if place == "l" else "right"}">{t}</td></tr>' for t in facts)
        self.dot.open(
            f"cluster_{self.id(branch[1])}",
            label=Html(
                f'<table border="0" cellpadding="0" cellspacing="0"><tr><td align="{"left" if place == "l" else "right"}">'
                f"<b>{esc(local)}</b></td></tr>{lines}</table>"
            ),
            labeljust=place,
            style="rounded",
            color="#b0b0b0",
            fontsize=8,
            margin=6,
            id=f"cluster_{self.id(branch[1])}",
        )


class _NetDrawer(_Drawer):
    def __init__(self, graph: nx.DiGraph, collapse: bool) -> None:
        rows = [*graph.graph["rows"], *graph.graph["aux"]]
        costs = [_row_macs(graph, r) for r in rows] if collapse else [graph.nodes[n]["macs"] for n in graph]
        super().__init__(graph, Dot(), max(costs, default=0) or 1)
        self.collapse = collapse
        self.rows = {r.name: r for r in rows}
        self.shapes.update({r.name: r.out_shape for r in rows})

    def row(self, row: Any, entry: tuple, src: str, first: dict) -> str:
        if self.collapse:
            return self.row_node(row, src, first)
        if entry[0] == "op":
            return self.entry(entry, src, first=first)
        self.dot.open(
            f"cluster_{row.name}",
            label=Html(self.cluster_title(row)),
            style="rounded,filled" if entry[0] == "parallel" else "rounded,dashed",
            color="#9a9a9a",
            fillcolor="#ffffff",
            fontsize=9,
            margin=6,
            id=f"cluster_{row.name}",
        )
        out = self.entry(entry, src, first=first)
        self.dot.close()
        return out

    def row_node(self, row: Any, src: str, first: dict) -> str:
        """A whole row as one node: its name, output shape and MACs."""
        macs, params = _row_macs(self.g, row), _row_params(self.g, row)
        if row.kind == "parallel":
            title = row_title(row)
        else:
            title = op_title(self.a(row.nodes[0])) if len(row.nodes) == 1 else row.name
        sub = shape_text(row.out_shape) + (f" · {human(macs)} MACs" if macs else "")
        shapes = f"{shape_text(row.in_shape)} -> {shape_text(row.out_shape)}"
        self.dot.node(
            row.name,
            label=Html(f'<b>{esc(title)}</b><br/><font point-size="8">{esc(sub)}</font>'),
            tooltip=f"{row.name}: {shapes}, {params:,} params, {macs:,} MACs",
            id=row.name,
            **fill(macs, self.top),
        )
        self.shape_edge(src, row.name, self.out_shape(src), **first)
        return row.name

    def cluster_title(self, row: Any) -> str:
        name = row_title(row)
        rest = f"{shape_text(row.out_shape)} · {human(_row_macs(self.g, row))} MACs"
        return f"<b>{esc(name)}</b> {esc(rest)}"

    def connect(self, src: str, row: Any) -> str:
        """Off-page connectors between columns ("to inception (4a)" / "from pool3"), not a long edge back up."""
        shape = self.out_shape(src)
        source = self.g.nodes[src]["row"] if src in self.g else src
        target = row_title(row)
        style = {"shape": "cds", "style": "filled", "fillcolor": "#e8e8e8", "color": "#9a9a9a", "fontsize": 9}
        self.dot.node(f"{src}.to", label=f"to {target}", id=f"{src}.to", **style)
        self.dot.edge(src, f"{src}.to", weight=4)
        self.dot.node(f"{row.name}.from", label=f"from {source}", id=f"{row.name}.from", **style)
        self.shapes[f"{row.name}.from"] = shape
        return f"{row.name}.from"

    def draw(self) -> None:
        g = self.g
        parts = stages(g)
        cols = columns(parts, goal=2 if self.collapse else 3)
        self.dot.node("input", label=f"input {shape_text(self.a('input')['out_shape'])}", id="input")
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
                    self.dot.close()
        for row, entry in zip(g.graph["aux"], g.graph["aux_tree"], strict=True):
            self.aux(row, entry)
        self.dot.same_rank(tops)

    def stage_cluster(self, stage: Stage, name: str) -> None:
        macs = sum(_row_macs(self.g, r) for r, _ in stage.rows)
        title = stage.title if stage.title in ("stem", "head") else f"{stage.title} grid"
        self.dot.open(
            name,
            label=Html(f"<b>{esc(title)}</b> · {esc(human(macs))} MACs"),
            style="rounded,filled",
            color="#d8d8d8",
            fillcolor="#f4f4f4",
            fontsize=10,
            margin=8,
        )

    def aux(self, row: Any, entry: tuple) -> None:
        tap = self.rows[row.at]
        macs = _row_macs(self.g, row)
        if self.collapse:
            self.dot.node(
                row.name,
                label=Html(
                    f'<b>{esc(row.name)}</b> (training only)<br/><font point-size="8">{human(macs)} MACs</font>'
                ),
                id=row.name,
                style="rounded,filled,dashed",
                **fill(macs, self.top),
            )
            self.shape_edge(tap.name, row.name, tap.out_shape, style="dashed")
            return
        self.dot.open(
            f"cluster_{row.name}",
            label=Html(f"<b>{esc(row.name)}</b> training only, loss x{row.weight:g} · {esc(human(macs))} MACs"),
            style="rounded,dashed",
            color="#8a8a8a",
            fontsize=9,
            margin=6,
            id=f"cluster_{row.name}",
        )
        self.entry(entry, tap.output, aux=True)
        self.dot.close()


def _graph_attrs(label: Html, **extra: Any) -> dict[str, Any]:
    return {
        "rankdir": "TB",
        "newrank": "true",
        "fontname": FONT,
        "labelloc": "t",
        "labeljust": "l",
        "label": label,
        "nodesep": 0.12,
        "ranksep": 0.2,
        "pad": 0.25,
        "outputorder": "edgesfirst",
        # Out-edges left to right in the order written: a module's branches as in the paper (1x1, 3x3, 5x5, pool).
        "ordering": "out",
        **extra,
    }


def _totals_line(graph: nx.DiGraph) -> str:
    from ..analyze.costs import summarize

    t = summarize(graph)
    c, h, w = graph.graph["spec"].input
    text = f"input {h}x{w}x{c} · {t['params']:,} params · {human(t['macs'])} MACs"
    if t["macs_aux"]:
        text += f" (aux heads, training only: {human(t['macs_aux'])} MACs)"
    return text


def network_source(graph: nx.DiGraph, collapse: bool = False) -> str:
    """DOT source for the whole net; `collapse` draws each row (a module, a stem conv) as one node."""
    drawer = _NetDrawer(graph, collapse)
    drawer.draw()
    spec = graph.graph["spec"]
    if collapse:
        best = max(drawer.rows.values(), key=lambda r: _row_macs(graph, r))
        top_name = best.name
    else:
        top_name = max(graph.nodes, key=lambda n: graph.nodes[n]["macs"])
    caption = f"MACs per {'row' if collapse else 'layer'} (darkest: {top_name}, {human(drawer.top)})"
    label = title_label(spec.title or spec.name, [_totals_line(graph)], drawer.top, caption)
    return drawer.dot.text(spec.name, _graph_attrs(label))


# ---- one module ----


def find_module(graph: nx.DiGraph, query: str) -> tuple[Any, tuple]:
    """The module or residual block row (and its tree entry) named by `query`: `4e`, `inception_4e`, or the
    row's name."""
    pairs = list(zip(graph.graph["rows"], graph.graph["tree"], strict=True))
    modules = [(r, e) for r, e in pairs if r.kind in ("parallel", "residual")]

    def norm(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    q = norm(query)
    for row, entry in pairs:
        if row.name == query or (q and norm(row.name) == q):
            if row.kind not in ("parallel", "residual"):
                raise InceptcostError(
                    f"'{row.name}' is a {entry[0] if entry[0] != 'op' else 'single layer'}, not a module",
                    where="--module",
                    hint=f"modules: {', '.join(r.name for r, _ in modules) or 'none in this spec'}",
                )
            return row, entry
    hits = [(r, e) for r, e in modules if q and (norm(r.name).endswith(q) or f"({q})" in norm(r.label or ""))]
    hits = [(r, e) for r, e in modules if q and norm(r.name).endswith(q)] or hits
    if len(hits) == 1:
        return hits[0]
    names = [r.name for r, _ in modules]
    if not names:
        raise InceptcostError("this spec has no inception modules", where="--module", hint="drop --module")
    if hits:
        hint = f"which one: {', '.join(r.name for r, _ in hits)}?"
    else:
        hint = did_you_mean(query, names)
    raise InceptcostError(f"no module '{query}'", where="--module", hint=hint)


def naive_twin(graph: nx.DiGraph, row: Any) -> tuple[nx.DiGraph, Any, tuple]:
    """The Figure 2(a) version of a Table-1 row: same 1x1/3x3/5x5 widths, no reductions, no pool projection.

    Built by the spec language itself (`naive: true`) on the module's input shape, so its costs come from the
    same rules as everything else.
    """
    from ..spec import parse_spec
    from ..yamlsafe import LineMap
    from .compile import compile_graph

    cols = row.columns
    if not cols:
        raise InceptcostError(
            f"'{row.name}' is not written as a Table 1 row",
            where="--naive",
            hint="--naive needs a module given by its columns (1x1, 3x3reduce, 3x3, 5x5reduce, 5x5, poolproj)",
        )
    if not any(cols.get(c) for c in ("3x3reduce", "5x5reduce", "poolproj")):
        raise InceptcostError(f"'{row.name}' is already naive: it has no 1x1 reductions", where="--naive")
    nodes = {n.split(".", 1)[1]: graph.nodes[n] for n in row.nodes}
    conv = next(a for a in nodes.values() if a["op"] == "conv")
    options = {k: conv["args"][k] for k in ("bias", "norm", "activation", "eps")}
    for col in ("3x3", "5x5"):
        if f"b{col}.conv" in nodes:
            options[f"kernel_{col}"] = list(nodes[f"b{col}.conv"]["args"]["kernel"])
    if "bpool.pool" in nodes:
        options["pool"] = nodes["bpool.pool"]["op"][:3]

    def mapping(**values: Any) -> LineMap:
        m = LineMap(values)
        m.line = row.line
        return m

    c, h, w = row.in_shape
    layer = mapping(name=row.name, type="inception", naive=True, label=row.label or row.name, **options)
    layer.update({col: cols.get(col, 0) for col in ("1x1", "3x3", "5x5")})
    # Closed with a global pool and a classifier only because a spec must end in class scores.
    data = mapping(
        name="naive",
        input=f"{h}x{w}x{c}",
        layers=[layer, mapping(name="gap", type="gap"), mapping(name="linear", type="linear")],
    )
    twin = compile_graph(parse_spec(data, graph.graph["spec"].file))
    return twin, twin.graph["rows"][0], twin.graph["tree"][0]


def module_source(graph: nx.DiGraph, query: str, naive: bool = False) -> str:
    """DOT source for one module, each branch boxed with its params and MACs; `naive` adds its Figure 2(a) twin."""
    row, entry = find_module(graph, query)
    spec = graph.graph["spec"]
    if naive and row.kind != "parallel":
        raise InceptcostError(
            f"'{row.name}' is a residual block: --naive compares an inception module with Figure 2(a)",
            where="--naive",
            hint="drop --naive",
        )
    drawn = [(graph, row, entry, "")]
    if naive:
        twin, trow, tentry = naive_twin(graph, row)
        drawn.insert(0, (twin, trow, tentry, "naive:"))  # (a) left of (b), as in the paper
    top = max(g.nodes[n]["macs"] for g, r, _, _ in drawn for n in r.nodes) or 1
    previous = next(iter(graph.predecessors(tree_ops(entry[2][0])[0])))
    source = graph.nodes[previous]["row"] or previous
    macs = {p: _row_macs(g, r) for g, r, _, p in drawn}
    dot = Dot()
    for g, r, e, prefix in drawn:
        if naive:
            name = "(a) naive, Figure 2(a)" if prefix else "(b) with 1x1 reductions, Figure 2(b)"
            facts = f"{shape_text(r.in_shape)} → {shape_text(r.out_shape)} · {human(_row_params(g, r))} params"
            dot.open(
                f"cluster_{prefix}{r.name}",
                label=lines_label([f"<b>{esc(name)}</b>", f"{esc(facts)} · <b>{esc(human(macs[prefix]))} MACs</b>"]),
                style="rounded",
                color="#8a8a8a",
                fontsize=10,
                margin=10,
                id=f"cluster_{prefix}{r.name}",
            )
        # Each drawing has its own "previous layer" box, as in the paper's Figure 2.
        dot.node(f"{prefix}previous", label=f"previous layer ({source})", id=f"{prefix}previous")
        drawer = _Drawer(g, dot, top, prefix=prefix, detail=True)
        drawer.shapes[f"{prefix}previous"] = r.in_shape
        drawer.entry(e, f"{prefix}previous")
        if naive:
            dot.close()
    if naive:
        dot.same_rank([f"{p}{r.name}.split" for _, r, _, p in drawn])
    main_macs = sum(graph.nodes[n]["macs"] for n in graph if graph.nodes[n]["aux"] is None)
    lines = [
        f"{row.name} in {spec.title or spec.name}",
        f"{shape_text(row.in_shape)} → {shape_text(row.out_shape)} · {human(_row_params(graph, row))} params · "
        f"{human(macs[''])} MACs ({macs[''] / max(1, main_macs):.1%} of the network's MACs)",
    ]
    if naive:
        lines.append(
            f"the 1x1 reductions save {human(macs['naive:'] - macs[''])} MACs: {human(macs['naive:'])} without them, "
            f"{macs['naive:'] / max(1, macs['']):.1f}x as many"
        )
    title = row_title(row) + (" vs. its naive version" if naive else "")
    label = title_label(title, lines, top, "MACs per layer")
    return dot.text(row.name, _graph_attrs(label, nodesep=0.25, ranksep=0.3))


# ---- rendering (the side effect) ----


def output_format(path: Path) -> str:
    """svg, png, pdf, or dot (source only), from the file's extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InceptcostError(
            f"unknown diagram format '{Path(path).suffix or '(none)'}'",
            file=str(path),
            hint="end the file name in .svg, .png, .pdf, or .dot/.gv for the source alone",
        )
    return fmt


def render(source: str, fmt: str) -> bytes:
    """Lay out and draw DOT source with graphviz's `dot`; ToolMissing when it is not installed."""
    import graphviz

    if shutil.which("dot") is None:
        raise ToolMissing("graphviz's `dot` program is not on PATH", hint=INSTALL_HINT)
    try:
        return graphviz.pipe("dot", fmt, source.encode(), quiet=True)
    except graphviz.ExecutableNotFound:
        raise ToolMissing("graphviz's `dot` program is not on PATH", hint=INSTALL_HINT) from None
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise InceptcostError(f"dot failed: {detail[-1] if detail else exc}") from None


def diagram_source(graph: nx.DiGraph, module: str | None = None, naive: bool = False, collapse: bool = False) -> str:
    """The DOT source the `diagram` command draws, from its options."""
    if module is None:
        if naive:
            raise InceptcostError("--naive draws one module beside its naive version", hint="add --module, e.g. 4e")
        return network_source(graph, collapse=collapse)
    if collapse:
        raise InceptcostError("--collapse draws the whole network", hint="drop --module, or drop --collapse")
    return module_source(graph, module, naive=naive)
