"""Two specs side by side: per row (matched by name) and in total, with the differences B - A.

Rows are matched by their name; where names differ only in case, `_` or `-` (`inception_3a` and torchvision's
`inception3a`) they are matched too. The merged order follows both specs (difflib's alignment of the two
name lists); a row present in one spec only is shown with the other side empty.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..graph.compile import compile_graph
from ..quantities import human
from ..spec import load_spec
from ..text import shape_text
from .costs import RowCost, row_costs, summarize
from .report import View


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


@dataclass
class Side:
    path: str
    totals: dict[str, Any]
    rows: list[RowCost]


@dataclass
class Comparison:
    a: Side
    b: Side
    pairs: list[tuple[RowCost | None, RowCost | None]]


def _side(path: str | Path) -> Side:
    graph = compile_graph(load_spec(path))
    return Side(str(path), summarize(graph), row_costs(graph))


def compare_specs(a: str | Path, b: str | Path) -> Comparison:
    sa, sb = _side(a), _side(b)
    ka, kb = [_key(r.row.name) for r in sa.rows], [_key(r.row.name) for r in sb.rows]
    pairs: list[tuple[RowCost | None, RowCost | None]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if tag == "equal":
            pairs += list(zip(sa.rows[i1:i2], sb.rows[j1:j2], strict=True))
        else:
            pairs += [(r, None) for r in sa.rows[i1:i2]] + [(None, r) for r in sb.rows[j1:j2]]
    return Comparison(sa, sb, pairs)


def _delta(x: int | None, y: int | None) -> int | None:
    return None if x is None or y is None else y - x


def _pct(x: int | None, y: int | None) -> str:
    if x is None or y is None:
        return ""
    if x == 0:
        return "" if y == 0 else "new"
    return f"{(y - x) / x:+.1%}"


def comparison_json(c: Comparison) -> dict[str, Any]:
    rows = []
    for ra, rb in c.pairs:
        row: dict[str, Any] = {"name": (ra or rb).row.name}  # type: ignore[union-attr]
        for tag, r in (("a", ra), ("b", rb)):
            row[tag] = (
                None
                if r is None
                else {
                    "name": r.row.name,
                    "output": shape_text(r.row.out_shape),
                    "params": r.params,
                    "weights": r.weights,
                    "macs": r.macs,
                }
            )
        row["params_diff"] = _delta(ra and ra.params, rb and rb.params)
        row["macs_diff"] = _delta(ra and ra.macs, rb and rb.macs)
        rows.append(row)
    keys = ("params", "weights", "macs", "flops", "params_aux", "macs_aux")
    ta, tb = c.a.totals, c.b.totals
    return {
        "a": c.a.path,
        "b": c.b.path,
        "rows": rows,
        "totals": {k: {"a": ta[k], "b": tb[k], "diff": tb[k] - ta[k]} for k in keys},
        "budget": {"a": ta["budget_macs"], "b": tb["budget_macs"]},
    }


def _n(x: int | None, base: int = 1000) -> str:
    return "" if x is None else (human(x, base) if x else "0")


def comparison_view(c: Comparison) -> View:
    cols = [("row", "l"), ("A out", "r"), ("A params", "r"), ("A MACs", "r")]
    cols += [("B out", "r"), ("B params", "r"), ("B MACs", "r"), ("d params", "r"), ("d MACs", "r"), ("d %", "r")]
    out = []
    for ra, rb in c.pairs:
        name = ra.row.name if ra else rb.row.name  # type: ignore[union-attr]
        if ra and rb and ra.row.name != rb.row.name:
            name = f"{ra.row.name} = {rb.row.name}"
        dp = _delta(ra and ra.params, rb and rb.params)
        dm = _delta(ra and ra.macs, rb and rb.macs)
        out.append(
            [
                name,
                shape_text(ra.row.out_shape) if ra else "-",
                _n(ra and ra.params) if ra else "-",
                _n(ra and ra.macs) if ra else "-",
                shape_text(rb.row.out_shape) if rb else "-",
                _n(rb and rb.params) if rb else "-",
                _n(rb and rb.macs) if rb else "-",
                "" if dp is None else f"{'+' if dp > 0 else ''}{_n(dp)}",
                "" if dm is None else f"{'+' if dm > 0 else ''}{_n(dm)}",
                _pct(ra and ra.macs, rb and rb.macs),
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
                human(ta[p], digits=4),
                human(ta[m], digits=4),
                "",
                human(tb[p], digits=4),
                human(tb[m], digits=4),
                f"{'+' if dp > 0 else ''}{_n(dp)}",
                f"{'+' if dm > 0 else ''}{_n(dm)}",
                _pct(ta[m], tb[m]),
            ]
        )
    notes = [
        f"A = {c.a.path} ({ta['spec']}), B = {c.b.path} ({tb['spec']}); d = B - A. params include biases and norm"
        " parameters; MACs are multiply-adds per image (conv + linear). '-': the row is not in that spec.",
        f"d % is the MACs change. In total: params {ta['params']:,} -> {tb['params']:,}"
        f" ({_pct(ta['params'], tb['params'])}), MACs {ta['macs']:,} -> {tb['macs']:,} ({_pct(ta['macs'], tb['macs'])}).",
    ]
    return View(f"compare: {ta['spec']} vs {tb['spec']}", cols, out, notes)


def comparison_csv(c: Comparison) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "a_name", "a_output", "a_params", "a_macs", "b_name", "b_output", "b_params", "b_macs"])
    for ra, rb in c.pairs:
        w.writerow(
            [
                (ra or rb).row.name,  # type: ignore[union-attr]
                *(["", "", "", ""] if ra is None else [ra.row.name, shape_text(ra.row.out_shape), ra.params, ra.macs]),
                *(["", "", "", ""] if rb is None else [rb.row.name, shape_text(rb.row.out_shape), rb.params, rb.macs]),
            ]
        )
    ta, tb = c.a.totals, c.b.totals
    w.writerow(["total", "", "", ta["params"], ta["macs"], "", "", tb["params"], tb["macs"]])
    return buf.getvalue()
