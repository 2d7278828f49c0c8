"""Costs read off the IR: per node, per Table-1 row, and in total. Pure functions of the graph; no torch.

Units: params are counts; `weights` is the paper's convention (conv/linear weights only, no biases or
norm affine parameters); MACs are multiply-adds of conv and linear layers for one image (FLOPs = 2 x MACs);
other ops are pooling/normalization/activation element operations, listed apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from ...graph.compile import Row, op_nodes
from ...text import dims_text, shape_text

COST_FIELDS = ("weights", "biases", "norm_params", "params", "macs", "other_ops")


@dataclass(frozen=True)
class RowCost:
    row: Row
    weights: int
    biases: int
    norm_params: int
    params: int
    macs: int
    other_ops: int
    depth: int  # layers with parameters on the row's longest path (Table 1's "depth" column)


def _depth(graph: nx.DiGraph, names: list[str]) -> int:
    """Longest chain of layers with weights through the row's nodes (a separable pair counts as one; a
    standalone BN has parameters but no weights and is not a layer of the paper's depth)."""
    sub = graph.subgraph(names)
    best: dict[str, int] = {}
    for n in nx.topological_sort(sub):
        a = sub.nodes[n]
        own = 1 if a["weights"] and not a["args"].get("depthwise") else 0
        best[n] = own + max((best[p] for p in sub.predecessors(n)), default=0)
    return max(best.values(), default=0)


def row_costs(graph: nx.DiGraph, aux: bool = False) -> list[RowCost]:
    """Costs summed per top-level row (or per aux head), in network order."""
    out = []
    for row in graph.graph["aux" if aux else "rows"]:
        sums = {f: sum(graph.nodes[n][f] for n in row.nodes) for f in COST_FIELDS}
        out.append(RowCost(row=row, depth=_depth(graph, row.nodes), **sums))
    return out


def summarize(graph: nx.DiGraph) -> dict[str, Any]:
    """Totals for the main net (inference) and, apart, for the aux heads (training only)."""
    main = [a for a in op_nodes(graph)]
    aux = [a for a in op_nodes(graph, aux=True) if a["aux"] is not None]
    spec = graph.graph["spec"]
    totals: dict[str, Any] = {"spec": spec.name, "input": list(spec.input), "classes": spec.classes}
    for field in COST_FIELDS:
        totals[field] = sum(a[field] for a in main)
        totals[f"{field}_aux"] = sum(a[field] for a in aux)
    totals["flops"] = 2 * totals["macs"]
    totals["budget_macs"] = spec.budget_macs
    totals["within_budget"] = None if spec.budget_macs is None else totals["macs"] <= spec.budget_macs
    return totals


def node_records(graph: nx.DiGraph, aux: bool = True) -> list[dict[str, Any]]:
    """One flat record per op node: name, op, shapes (HxWxC), kernel/stride/padding and costs."""
    records = []
    for a in op_nodes(graph, aux=aux):
        args = a["args"]
        records.append(
            {
                "name": a["name"],
                "op": a["op"],
                "row": a["row"],
                "module": a["module"],
                "branch": a["branch"],
                "aux": a["aux"],
                "kernel": dims_text(args["kernel"]) if "kernel" in args else "",
                "stride": args["stride"][0] if "stride" in args else None,
                "padding": dims_text(args["padding"]) if "padding" in args else "",
                "groups": args.get("groups"),
                "in_shape": shape_text(a["in_shape"]),
                "out_shape": shape_text(a["out_shape"]),
                **{f: a[f] for f in COST_FIELDS},
                "line": a["line"],
            }
        )
    return records


def costs_table(graph: nx.DiGraph, aux: bool = False):
    """The per-node costs as a pandas DataFrame indexed by dotted name (pandas is imported here only);
    the aux heads' nodes only with `aux`, as `inceptcost analyze` shows them only with --aux."""
    import pandas as pd

    return pd.DataFrame.from_records(node_records(graph, aux=aux)).set_index("name")
