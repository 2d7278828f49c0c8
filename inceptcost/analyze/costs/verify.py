"""Table 1 row by row: our costs against the paper's printed values, and each paper row against itself.

Ours against the paper: params are compared as weights (the paper's convention) with K = 1024, ops as
multiply-adds with M = 10^6, each graded by `printed.Printed.grade` (ok / ~ / !).

The paper against itself: when every conv of a row runs at the row's output size H x W (true of conv1's
separable pair, conv2's reduce + 3x3 and every inception module, whose convs keep their input's size; read
off the IR, not assumed), each weight is used once per output position, so ops = weights x H x W exactly.
The paper's params and ops then have to fit one true weight count. A row disagrees with itself when no
count rounds to both printed values; the consistent values are the other column divided or multiplied by
H x W.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

from .count import RowCost
from .printed import CLOSE, OFF, OK, Printed, printed

PARAMS_BASE = 1024  # Table 1: K = 1024 weights (3a: 163,328 weights = 159.5K)
OPS_BASE = 1000  # Table 1: M = 10^6 multiply-adds


@dataclass(frozen=True)
class RowCheck:
    """One row of Table 1 against ours: the grade of each printed value (None where the paper prints none)."""

    name: str
    params: str | None
    ops: str | None
    output: str | None  # ok / ! (shapes are exact)
    params_diff: float | None  # ours - paper, weights
    ops_diff: float | None  # ours - paper, multiply-adds

    @property
    def worst(self) -> str | None:
        grades = [g for g in (self.params, self.ops, self.output) if g]
        for g in (OFF, CLOSE, OK):
            if g in grades:
                return g
        return None


@dataclass(frozen=True)
class SelfCheck:
    """A paper row's params against its own ops at its output size."""

    name: str
    area: int  # H x W at which every conv of the row runs
    paper_params: str
    paper_ops: str
    implied_ops: float  # paper params x area (multiply-adds)
    implied_params: float  # paper ops / area (weights)
    grade: str  # ok: one weight count fits both; ~: only if each is allowed one unit; !: none fits
    ours_weights: int
    ours_macs: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def paper_values(rc: RowCost) -> tuple[Printed | None, Printed | None]:
    paper = rc.row.paper
    if paper is None:
        return None, None
    p = printed(paper.text.get("params"), PARAMS_BASE) if "params" in paper.text else None
    o = printed(paper.text.get("ops"), OPS_BASE) if "ops" in paper.text else None
    return p, o


def output_hwc(shape: tuple[int, ...]) -> tuple[int, int, int]:
    return (shape[1], shape[2], shape[0]) if len(shape) == 3 else (1, 1, shape[0])


def check_row(rc: RowCost) -> RowCheck | None:
    """None for rows without paper values."""
    paper = rc.row.paper
    if paper is None:
        return None
    p, o = paper_values(rc)
    out = None
    if paper.output:
        out = OK if tuple(paper.output) == output_hwc(rc.row.out_shape) else OFF
    return RowCheck(
        name=rc.row.name,
        params=p.grade(rc.weights) if p else None,
        ops=o.grade(rc.macs) if o else None,
        output=out,
        params_diff=rc.weights - p.value if p else None,
        ops_diff=rc.macs - o.value if o else None,
    )


def uniform_area(graph: nx.DiGraph, rc: RowCost) -> int | None:
    """H x W when every parameterized layer of the row outputs the row's own H x W, else None."""
    out = rc.row.out_shape
    area = out[1] * out[2] if len(out) == 3 else 1
    for n in rc.row.nodes:
        a = graph.nodes[n]
        if a["params"]:
            shape = a["out_shape"]
            if (shape[1] * shape[2] if len(shape) == 3 else 1) != area:
                return None
            if a["op"] == "linear" and len(a["in_shape"]) != 1 and a["in_shape"][1:] != (1, 1):
                return None  # a linear on a feature map uses each weight once, not once per position
    return area


def self_check(graph: nx.DiGraph, rc: RowCost) -> SelfCheck | None:
    """None where the paper lacks params or ops for the row, or the row's convs run at several sizes."""
    p, o = paper_values(rc)
    area = uniform_area(graph, rc)
    if p is None or o is None or area is None:
        return None

    def fits(units: float) -> bool:
        lo_p, hi_p = p.interval(units)
        lo_o, hi_o = o.interval(units)
        return lo_p * area <= hi_o * (1 + 1e-9) and lo_o <= hi_p * area * (1 + 1e-9)

    grade = OK if fits(0.5) else CLOSE if fits(1.0) else OFF
    return SelfCheck(
        name=rc.row.name,
        area=area,
        paper_params=p.text,
        paper_ops=o.text,
        implied_ops=p.value * area,
        implied_params=o.value / area,
        grade=grade,
        ours_weights=rc.weights,
        ours_macs=rc.macs,
    )
