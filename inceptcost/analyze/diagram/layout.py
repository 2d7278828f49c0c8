"""What a drawing reads off the IR: the op tree's names and heights, rows' sums, stages and columns.

Everything here reads the compiled graph's node attributes (`params`, `macs`, shapes) and its `rows` / `tree`;
nothing recomputes a cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx


def tree_ops(entry: tuple) -> list[str]:
    """The op names of a tree entry, in order (concat nodes included)."""
    if entry[0] == "op":
        return [entry[1]]
    names = [n for child in entry[2] for n in tree_ops(child)]
    if entry[0] == "residual":
        return names + (tree_ops(entry[3]) if entry[3] is not None else []) + [entry[4]]
    return names + ([entry[3]] if entry[0] == "parallel" else [])


def height(entry: tuple) -> int:
    """Ranks an entry takes when drawn: a module is its split point, longest branch and concat."""
    if entry[0] == "op":
        return 1
    if entry[0] == "sequence":
        return sum(height(c) for c in entry[2])
    if entry[0] == "residual":
        return 1 + sum(height(c) for c in entry[2])
    return 2 + max(height(c) for c in entry[2])


def total(graph: nx.DiGraph, names: list[str], key: str) -> int:
    """The sum of one cost attribute (`params`, `macs`) over IR nodes."""
    return sum(graph.nodes[n][key] for n in names)


def net_totals(graph: nx.DiGraph) -> tuple[int, int, int]:
    """(params, MACs) of the inference network and the aux heads' MACs (training only)."""
    main = [n for n, a in graph.nodes(data=True) if a["aux"] is None]
    aux = [n for n, a in graph.nodes(data=True) if a["aux"] is not None]
    return total(graph, main, "params"), total(graph, main, "macs"), total(graph, aux, "macs")


@dataclass
class Stage:
    title: str
    rows: list[tuple[Any, tuple]]  # (Row, tree entry)

    @property
    def height(self) -> int:
        return sum(height(e) for _, e in self.rows)


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
    sum_height = sum(s.height for s in parts)
    target = max(max(s.height for s in parts), math.ceil(sum_height / goal))
    cols: list[list[Stage]] = [[]]
    for stage in parts:
        if cols[-1] and sum(s.height for s in cols[-1]) + stage.height > target:
            cols.append([])
        cols[-1].append(stage)
    return cols
