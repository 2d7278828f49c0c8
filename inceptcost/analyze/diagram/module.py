"""One module alone, a cluster per branch with its params and MACs; with `naive=True` beside its Figure 2(a)
twin without 1x1 reductions (compiled from the same row with `naive: true`)."""

from __future__ import annotations

import re
from typing import Any

import networkx as nx

from ...errors import InceptcostError, did_you_mean
from ...quantities import human
from ...text import row_title, shape_text
from .canvas import Canvas
from .draw import Drawer
from .layout import total, tree_ops
from .style import esc, graph_attrs, lines_label, title_label


def find_module(graph: nx.DiGraph, query: str) -> tuple[Any, tuple]:
    """The module row (and its tree entry) named by `query`: `4e`, `inception_4e`, or the row's name."""
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
    from ...graph.compile import compile_graph
    from ...spec import parse_spec
    from ...spec.yamlsafe import LineMap

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
    macs = {p: total(g, r.nodes, "macs") for g, r, _, p in drawn}
    canvas = Canvas()
    for g, r, e, prefix in drawn:
        if naive:
            name = "(a) naive, Figure 2(a)" if prefix else "(b) with 1x1 reductions, Figure 2(b)"
            facts = (
                f"{shape_text(r.in_shape)} → {shape_text(r.out_shape)} · {human(total(g, r.nodes, 'params'))} params"
            )
            canvas.open(
                f"cluster_{prefix}{r.name}",
                label=lines_label([f"<b>{esc(name)}</b>", f"{esc(facts)} · <b>{esc(human(macs[prefix]))} MACs</b>"]),
                style="rounded",
                color="#8a8a8a",
                fontsize=10,
                margin=10,
                id=f"cluster_{prefix}{r.name}",
            )
        # Each drawing has its own "previous layer" box, as in the paper's Figure 2.
        canvas.node(f"{prefix}previous", label=f"previous layer ({source})", id=f"{prefix}previous")
        drawer = Drawer(g, canvas, top, prefix=prefix, detail=True)
        drawer.shapes[f"{prefix}previous"] = r.in_shape
        drawer.entry(e, f"{prefix}previous")
        if naive:
            canvas.close()
    if naive:
        canvas.same_rank([f"{p}{r.name}.split" for _, r, _, p in drawn])
    main_macs = sum(graph.nodes[n]["macs"] for n in graph if graph.nodes[n]["aux"] is None)
    lines = [
        f"{row.name} in {spec.title or spec.name}",
        f"{shape_text(row.in_shape)} → {shape_text(row.out_shape)} · {human(total(graph, row.nodes, 'params'))} params · "
        f"{human(macs[''])} MACs ({macs[''] / max(1, main_macs):.1%} of the network's MACs)",
    ]
    if naive:
        lines.append(
            f"the 1x1 reductions save {human(macs['naive:'] - macs[''])} MACs: {human(macs['naive:'])} without them, "
            f"{macs['naive:'] / max(1, macs['']):.1f}x as many"
        )
    title = row_title(row) + (" vs. its naive version" if naive else "")
    label = title_label(title, lines, top, "MACs per layer")
    return canvas.source(row.name, graph_attrs(label, nodesep=0.25, ranksep=0.3))
