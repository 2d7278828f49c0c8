"""Table 1's layout, recomputed: one record per row with the paper's columns and our costs beside its values."""

from __future__ import annotations

from typing import Any

import networkx as nx

from ..spec import TABLE_COLUMNS
from .costs import RowCost, row_costs


def shape_text(shape: tuple[int, ...]) -> str:
    """(C, H, W) -> Table 1's `HxWxC`; a flat (C,) -> `1x1xC`."""
    if len(shape) == 3:
        return f"{shape[1]}x{shape[2]}x{shape[0]}"
    return f"1x1x{shape[0]}"


def _patch(graph: nx.DiGraph, rc: RowCost) -> str:
    """Table 1's patch size/stride for rows that are one windowed op (or a conv with its reduce/partner)."""
    if rc.row.kind in ("parallel", "residual") or _written_sequence(rc):
        return ""
    windowed = [graph.nodes[n] for n in rc.row.nodes if "kernel" in graph.nodes[n]["args"]]
    if not windowed:
        return ""
    big = max(windowed, key=lambda a: a["args"]["kernel"][0] * a["args"]["kernel"][1])
    (kh, kw), (s, _) = big["args"]["kernel"], big["args"]["stride"]
    return f"{kh}x{kw}/{s}"


def _written_sequence(rc: RowCost) -> bool:
    """A `type: sequence` row (the conv sugar's sequences carry the label "convolution")."""
    return rc.row.kind == "sequence" and not rc.row.label


_WORDS = {"conv": "convolution", "linear": "linear", "maxpool": "max pool", "avgpool": "avg pool"}


def _type(graph: nx.DiGraph, rc: RowCost) -> str:
    if rc.row.label:
        return rc.row.label
    if rc.row.kind == "parallel":  # a module written in the general form (no table-row label)
        return "inception module"
    if rc.row.kind == "residual":
        return "residual block"
    ops = [graph.nodes[n]["op"] for n in rc.row.nodes] or [rc.row.kind]
    words = [_WORDS.get(op, op.replace("_", " ")) for op in ops]
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
                "paper_output": "x".join(map(str, paper.output)) if paper and paper.output else None,
                "paper_text": dict(paper.text) if paper else {},
                "line": row.line,
            }
        )
    return records
