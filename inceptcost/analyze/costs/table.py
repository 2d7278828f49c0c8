"""Table 1's layout, recomputed: one record per row with the paper's columns and our costs beside its values."""

from __future__ import annotations

from typing import Any

import networkx as nx

from ...spec import TABLE_COLUMNS
from ...text import dims_text, shape_text, type_word, window_text
from .count import RowCost, row_costs


def _patch(graph: nx.DiGraph, rc: RowCost) -> str:
    """Table 1's patch size/stride for rows that are one windowed op (or a conv with its reduce/partner)."""
    if rc.row.kind in ("parallel", "residual") or _written_sequence(rc):
        return ""
    windowed = [graph.nodes[n] for n in rc.row.nodes if "kernel" in graph.nodes[n]["args"]]
    if not windowed:
        return ""
    big = max(windowed, key=lambda a: a["args"]["kernel"][0] * a["args"]["kernel"][1])
    return window_text(big["args"]["kernel"], big["args"]["stride"], always_stride=True)


def _written_sequence(rc: RowCost) -> bool:
    """A `type: sequence` row (the conv sugar's sequences carry the label "convolution")."""
    return rc.row.kind == "sequence" and not rc.row.label


def _type(graph: nx.DiGraph, rc: RowCost) -> str:
    if rc.row.label:
        return rc.row.label
    if rc.row.kind == "parallel":  # a module written in the general form (no table-row label)
        return "inception module"
    if rc.row.kind == "residual":
        return "residual block"
    words = [type_word(graph.nodes[n]["op"]) for n in rc.row.nodes] or [type_word(rc.row.kind)]
    if _written_sequence(rc):  # its layers in order, each once: "convolution + max pool"
        return " + ".join(dict.fromkeys(words))
    return words[0]


def table_records(graph: nx.DiGraph, aux: bool = False) -> list[dict[str, Any]]:
    """One record per row: name, type, patch, output, depth, Table 1's columns, our costs, the paper's."""
    records = []
    for rc in row_costs(graph, aux=aux):
        row = rc.row
        paper = row.paper
        records.append(
            {
                "name": row.name,
                "type": _type(graph, rc),
                "patch": _patch(graph, rc),
                "output": shape_text(row.out_shape),
                "depth": rc.depth,
                **{col: (row.columns or {}).get(col) for col in TABLE_COLUMNS},
                "weights": rc.weights,
                "params": rc.params,
                "macs": rc.macs,
                "other_ops": rc.other_ops,
                "paper_params": paper.params if paper else None,
                "paper_ops": paper.ops if paper else None,
                "paper_output": dims_text(paper.output) if paper and paper.output else None,
                "paper_text": dict(paper.text) if paper else {},
                "line": row.line,
            }
        )
    return records
