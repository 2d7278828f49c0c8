"""Spec -> IR: a networkx DiGraph with one node per op, shapes inferred and costs attached.

Node keys are the dotted names used everywhere (`inception_4e.b3x3.reduce`). Besides the ops there is an
`input` node, one `<module>.concat` node per parallel module and one `<block>.add` node per residual block
(its edge from the shortcut carries `shortcut=True`). The graph also carries:
- `graph["tree"]`: the nesting, for builders that need it (the torch model, the diagram):
  ("op", name) | ("sequence", name, [children]) | ("parallel", name, [branches], concat_name)
  | ("residual", name, [body], shortcut sequence or None, add_name);
- `graph["rows"]`: the top-level rows in order (Table 1's rows), each with its nodes, shapes and paper values;
- `graph["aux"]`: the auxiliary heads, each with the row it taps and its nodes;
- `graph["spec"]`, `graph["output"]` (the last node of the main net).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..errors import ShapeError
from ..kinds import ADD, ShapeProblem
from ..spec import Node, Spec
from ..text import shape_text
from .shapes import concat_shape, infer, resolve


@dataclass
class Row:
    """One top-level row of the network (or one aux head), as Table 1 groups them."""

    name: str
    kind: str
    label: str | None
    line: int | None
    nodes: list[str] = field(default_factory=list)
    in_shape: tuple[int, ...] = ()
    out_shape: tuple[int, ...] = ()
    output: str = ""  # the node whose tensor leaves the row
    paper: Any = None
    columns: dict[str, int] | None = None
    aux: str | None = None  # aux head name for rows of an aux head
    at: str | None = None  # the row an aux head taps
    weight: float | None = None


class _Compiler:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.g = nx.DiGraph(spec=spec, name=spec.name)
        self.added: list[str] = []  # node names in the order added; a row's nodes are a slice (linear time)

    def fail(self, message: str, node: Node, full: str, hint: str | None = None) -> ShapeError:
        return ShapeError(message, file=self.spec.file, line=node.line, where=full, hint=hint)

    def emit(self, node: Node, prefix: str, src: str, shape: tuple[int, ...], ctx: dict) -> tuple[str, tuple, tuple]:
        """Add `node` fed by `src`; returns (output node name, output shape, tree entry)."""
        full = f"{prefix}{node.name}"
        if node.kind == "sequence":
            entries = []
            for child in node.children:
                src, shape, entry = self.emit(child, f"{full}.", src, shape, ctx)
                entries.append(entry)
            return src, shape, ("sequence", full, entries)
        if node.kind == "parallel":
            return self.parallel(node, full, src, shape, ctx)
        if node.kind == "residual":
            return self.residual(node, full, src, shape, ctx)
        return self.op(node, full, src, shape, ctx)

    def residual(self, node: Node, full: str, src: str, shape: tuple, ctx: dict) -> tuple[str, tuple, tuple]:
        out, out_shape, entries = src, shape, []
        for child in node.children:
            out, out_shape, entry = self.emit(child, f"{full}.", out, out_shape, ctx)
            entries.append(entry)
        side, side_shape, side_entry = src, shape, None
        if node.shortcut is not None:
            side, side_shape, side_entry = self.emit(node.shortcut, f"{full}.", src, shape, ctx)
        if out_shape != side_shape:
            what = (
                "the projection shortcut" if node.shortcut is not None else "the identity shortcut (the block's input)"
            )
            raise self.fail(
                f"cannot add: the body ends in {shape_text(out_shape)} but {what} is {shape_text(side_shape)}",
                node,
                full,
                "make the body's last layer give the shortcut's shape, or project the shortcut"
                " (shortcut: [{type: conv, kernel: 1, stride: S, out: C, activation: none}])",
            )
        add = f"{full}.add"
        cost = ADD.cost(node.args, out_shape, out_shape)
        self.added.append(add)
        self.g.add_node(
            add,
            name=add,
            op="add",
            args=dict(node.args),
            in_shape=out_shape,
            out_shape=out_shape,
            line=node.line,
            weights=0,
            biases=0,
            norm_params=0,
            params=0,
            macs=0,
            other_ops=cost.other_ops,
            **ctx,
        )
        self.g.add_edge(out, add, shape=out_shape)
        self.g.add_edge(side, add, shape=side_shape, shortcut=True)
        return add, out_shape, ("residual", full, entries, side_entry, add)

    def parallel(self, node: Node, full: str, src: str, shape: tuple, ctx: dict) -> tuple[str, tuple, tuple]:
        outs, entries = [], []
        for branch in node.children:
            out, out_shape, entry = self.emit(
                branch, f"{full}.", src, shape, {**ctx, "module": full, "branch": branch.name}
            )
            outs.append((branch.name, out, out_shape))
            entries.append(entry)
        try:
            out_shape = concat_shape([(b, o) for b, _, o in outs])
        except ShapeProblem as exc:
            raise self.fail(str(exc), node, full, exc.hint) from None
        concat = f"{full}.concat"
        self.added.append(concat)
        self.g.add_node(
            concat,
            name=concat,
            op="concat",
            args={},
            in_shape=out_shape,
            out_shape=out_shape,
            line=node.line,
            **self._zero(),
            **{**ctx, "module": full, "branch": None},
        )
        for _, out, out_shape_b in outs:
            self.g.add_edge(out, concat, shape=out_shape_b)
        return concat, out_shape, ("parallel", full, entries, concat)

    @staticmethod
    def _zero() -> dict[str, int]:
        return {"weights": 0, "biases": 0, "norm_params": 0, "params": 0, "macs": 0, "other_ops": 0}

    def op(self, node: Node, full: str, src: str, shape: tuple, ctx: dict) -> tuple[str, tuple, tuple]:
        try:
            args = resolve(node.kind, dict(node.args), shape, self.spec.classes)
            out_shape, cost = infer(node.kind, args, shape)
        except ShapeProblem as exc:
            raise self.fail(str(exc), node, full, exc.hint) from None
        self.added.append(full)
        self.g.add_node(
            full,
            name=full,
            op=node.kind,
            args=args,
            in_shape=tuple(shape),
            out_shape=tuple(out_shape),
            line=node.line,
            weights=cost.weights,
            biases=cost.biases,
            norm_params=cost.norm,
            params=cost.params,
            macs=cost.macs,
            other_ops=cost.other_ops,
            **ctx,
        )
        self.g.add_edge(src, full, shape=tuple(shape))
        return full, tuple(out_shape), ("op", full)

    def row(self, node: Node, src: str, shape: tuple, aux: str | None = None, prefix: str = "") -> tuple[Row, tuple]:
        start = len(self.added)
        ctx = {"row": node.name, "module": None, "branch": None, "aux": aux}
        out, out_shape, entry = self.emit(node, prefix, src, shape, ctx)
        row = Row(
            name=f"{prefix}{node.name}",
            kind=node.kind,
            label=node.label,
            line=node.line,
            nodes=self.added[start:],
            in_shape=tuple(shape),
            out_shape=out_shape,
            output=out,
            paper=node.paper,
            columns=node.columns,
            aux=aux,
        )
        return row, entry

    def check_ends_in_classes(
        self, shape: tuple, what: str, line: int | None, where: str, flat_hint: str, width_hint: str
    ) -> None:
        """The main net and each aux head must end in one score per class."""
        if len(shape) != 1:
            message = f"ends in a {shape_text(shape)} feature map"
            if what == "the network":
                message += ", not a vector of class scores"
            raise ShapeError(f"{what} {message}", file=self.spec.file, line=line, where=where, hint=flat_hint)
        if shape[0] != self.spec.classes:
            raise ShapeError(
                f"{what} ends in {shape[0]} outputs but the spec has {self.spec.classes} classes",
                file=self.spec.file,
                line=line,
                where=where,
                hint=width_hint,
            )

    def run(self) -> nx.DiGraph:
        spec, g = self.spec, self.g
        g.add_node(
            "input",
            name="input",
            op="input",
            args={},
            in_shape=spec.input,
            out_shape=spec.input,
            line=None,
            row="input",
            module=None,
            branch=None,
            aux=None,
            **self._zero(),
        )
        src, shape = "input", spec.input
        rows, tree = [], []
        for child in spec.body.children:
            row, entry = self.row(child, src, shape)
            rows.append(row)
            tree.append(entry)
            src, shape = row.output, row.out_shape
        g.graph["output"] = src
        self.check_ends_in_classes(
            shape,
            "the network",
            spec.body.children[-1].line,
            spec.body.children[-1].name,
            "end with a global average pool ('type: gap') and a 'linear' layer",
            "end with a 'linear' layer without 'out' (it takes 'classes'), or set 'classes'",
        )
        by_name = {r.name: r for r in rows}
        aux_rows, aux_tree = [], []
        for head in spec.aux:
            tap = by_name[head.at]
            row, entry = self.row(head.body, tap.output, tap.out_shape, aux=head.name)
            row.at, row.weight, row.kind = head.at, head.weight, "aux"
            self.check_ends_in_classes(
                row.out_shape,
                "aux head",
                head.line,
                head.name,
                "end it with a 'linear' layer",
                "end it with a 'linear' layer without 'out' (it takes 'classes')",
            )
            aux_rows.append(row)
            aux_tree.append(entry)
        g.graph.update(rows=rows, aux=aux_rows, tree=tree, aux_tree=aux_tree)
        return g


def compile_graph(spec: Spec) -> nx.DiGraph:
    """Compile a Spec into the IR graph. Raises ShapeError (with file:line and layer) when shapes fail."""
    return _Compiler(spec).run()


def op_nodes(graph: nx.DiGraph, aux: bool = False) -> list[dict[str, Any]]:
    """The op nodes' attributes in topological order; the main net only unless `aux`."""
    return [
        graph.nodes[n]
        for n in nx.topological_sort(graph)
        if graph.nodes[n]["op"] not in ("input", "concat") and (aux or graph.nodes[n]["aux"] is None)
    ]
