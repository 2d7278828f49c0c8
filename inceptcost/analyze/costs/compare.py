"""Two specs side by side: per row (paired by position in the structure) and in total, with the differences B - A.

Names say little across specs (torchvision's conv2 is GoogLeNet's 3x3 reduce, not its conv2), so rows are paired
by where they sit: difflib aligns the two sequences of (output shape, has parameters). Paired rows whose kinds
differ (a separable pair against a dense conv) are marked; rows that pair with nothing are listed apart.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...graph.compile import compile_graph
from ...quantities import human
from ...spec import load_spec
from ...text import shape_text
from ..view import View
from .count import RowCost, row_costs, summarize


def _key(r: RowCost) -> tuple[tuple[int, ...], bool]:
    return r.row.out_shape, r.params > 0


@dataclass
class Side:
    path: str
    totals: dict[str, Any]
    rows: list[RowCost]


@dataclass
class Comparison:
    a: Side
    b: Side
    pairs: list[tuple[RowCost, RowCost]]
    only_a: list[RowCost]
    only_b: list[RowCost]


def _side(path: str | Path) -> Side:
    graph = compile_graph(load_spec(path))
    return Side(str(path), summarize(graph), row_costs(graph))


def compare_specs(a: str | Path, b: str | Path) -> Comparison:
    sa, sb = _side(a), _side(b)
    ka, kb = [_key(r) for r in sa.rows], [_key(r) for r in sb.rows]
    c = Comparison(sa, sb, [], [], [])
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if tag == "equal":
            c.pairs += list(zip(sa.rows[i1:i2], sb.rows[j1:j2], strict=True))
        else:
            c.only_a += sa.rows[i1:i2]
            c.only_b += sb.rows[j1:j2]
    return c


def _kinds(ra: RowCost, rb: RowCost) -> str:
    """'' when both rows are the same kind of layer, else 'sequence vs conv'."""
    return "" if ra.row.kind == rb.row.kind else f"{ra.row.kind} vs {rb.row.kind}"


def _record(r: RowCost) -> dict[str, Any]:
    return {
        "name": r.row.name,
        "kind": r.row.kind,
        "output": shape_text(r.row.out_shape),
        "params": r.params,
        "weights": r.weights,
        "macs": r.macs,
    }


def _pct(x: int | None, y: int | None) -> str:
    if x is None or y is None:
        return ""
    if x == 0:
        return "" if y == 0 else "new"
    return f"{(y - x) / x:+.1%}"


def comparison_json(c: Comparison) -> dict[str, Any]:
    rows = [
        {
            "a": _record(ra),
            "b": _record(rb),
            "kinds_differ": bool(_kinds(ra, rb)),
            "params_diff": rb.params - ra.params,
            "macs_diff": rb.macs - ra.macs,
        }
        for ra, rb in c.pairs
    ]
    keys = ("params", "weights", "macs", "flops", "params_aux", "macs_aux")
    ta, tb = c.a.totals, c.b.totals
    return {
        "a": c.a.path,
        "b": c.b.path,
        "rows": rows,
        "only_a": [_record(r) for r in c.only_a],
        "only_b": [_record(r) for r in c.only_b],
        "totals": {k: {"a": ta[k], "b": tb[k], "diff": tb[k] - ta[k]} for k in keys},
        "budget": {"a": ta["budget_macs"], "b": tb["budget_macs"]},
    }


def _n(x: int | None, base: int = 1000) -> str:
    return "" if x is None else (human(x, base) if x else "0")


def comparison_view(c: Comparison) -> View:
    cols = [("A row", "l"), ("B row", "l"), ("kinds differ", "l"), ("out", "r"), ("A params", "r"), ("A MACs", "r")]
    cols += [("B params", "r"), ("B MACs", "r"), ("d params", "r"), ("d MACs", "r"), ("d %", "r")]
    out = []
    for ra, rb in c.pairs:
        dp, dm = rb.params - ra.params, rb.macs - ra.macs
        out.append(
            [
                ra.row.name,
                rb.row.name,
                _kinds(ra, rb),
                shape_text(ra.row.out_shape),
                _n(ra.params),
                _n(ra.macs),
                _n(rb.params),
                _n(rb.macs),
                f"{'+' if dp > 0 else ''}{_n(dp)}",
                f"{'+' if dm > 0 else ''}{_n(dm)}",
                _pct(ra.macs, rb.macs),
            ]
        )
    ta, tb = c.a.totals, c.b.totals
    for label, suffix in (("total", ""), ("aux heads", "_aux")):
        p, m = f"params{suffix}", f"macs{suffix}"
        if label == "aux heads" and not (ta[p] or tb[p]):
            continue
        dp, dm = tb[p] - ta[p], tb[m] - ta[m]
        out.append(
            [
                label,
                "",
                "",
                "",
                human(ta[p], digits=4),
                human(ta[m], digits=4),
                human(tb[p], digits=4),
                human(tb[m], digits=4),
                f"{'+' if dp > 0 else ''}{_n(dp)}",
                f"{'+' if dm > 0 else ''}{_n(dm)}",
                _pct(ta[m], tb[m]),
            ]
        )
    notes = [
        f"A = {c.a.path} ({ta['spec']}), B = {c.b.path} ({tb['spec']}); d = B - A. params include biases and norm"
        " parameters; MACs are multiply-adds per image (conv + linear). Rows are paired by position (same output and"
        " both with or both without parameters), not by name; rows that pair with nothing are listed below.",
        f"In total: params {ta['params']:,} -> {tb['params']:,}"
        f" ({_pct(ta['params'], tb['params'])}), MACs {ta['macs']:,} -> {tb['macs']:,} ({_pct(ta['macs'], tb['macs'])}).",
    ]
    ranks = [0, 1, 2, 3, 2, 1, 2, 1, 0, 0, 1]  # narrow terminals keep the rows and what changed
    legends = {"d %": "d % is the MACs change."}
    return View(f"compare: {ta['spec']} vs {tb['spec']}", cols, out, notes, ranks, legends=legends)


def unmatched_view(c: Comparison) -> View | None:
    """The rows of either spec that pair with no row of the other, in their spec's order."""
    if not (c.only_a or c.only_b):
        return None
    cols = [("spec", "l"), ("row", "l"), ("kind", "l"), ("out", "r"), ("params", "r"), ("MACs", "r")]
    out = [
        [side, r.row.name, r.row.kind, shape_text(r.row.out_shape), _n(r.params), _n(r.macs)]
        for side, rows in (("A", c.only_a), ("B", c.only_b))
        for r in rows
    ]
    return View("rows in one spec only", cols, out, ranks=[0, 0, 1, 2, 0, 0])


def comparison_csv(c: Comparison) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["a_name", "a_kind", "a_output", "a_params", "a_macs", "b_name", "b_kind", "b_output", "b_params", "b_macs"]
    )
    blank = ["", "", "", "", ""]
    rows = [*c.pairs, *((r, None) for r in c.only_a), *((None, r) for r in c.only_b)]
    for ra, rb in rows:
        w.writerow(
            [
                *(
                    blank
                    if ra is None
                    else [ra.row.name, ra.row.kind, shape_text(ra.row.out_shape), ra.params, ra.macs]
                ),
                *(
                    blank
                    if rb is None
                    else [rb.row.name, rb.row.kind, shape_text(rb.row.out_shape), rb.params, rb.macs]
                ),
            ]
        )
    ta, tb = c.a.totals, c.b.totals
    w.writerow(["total", "", "", ta["params"], ta["macs"], "total", "", "", tb["params"], tb["macs"]])
    return buf.getvalue()
