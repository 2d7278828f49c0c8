"""The views of one analysis: plain tables of strings (`View`, view.py) that the CLI renders with rich: Table 1 beside the paper, the totals, and the verification tables; the `Analysis` they show
(built by analysis.py) and its HTML for Jupyter. Nothing here imports torch, pandas or rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import networkx as nx

from ..quantities import format_bytes, human
from ..spec import TABLE_COLUMNS
from ..text import shape_text, short_word
from .costs import RowCost
from .costs.budget import Budget
from .costs.claims import Claim
from .costs.printed import CLOSE, OFF
from .costs.verify import RowCheck, SelfCheck, paper_values
from .memory import Memory
from .view import View, view_html

SHORT_HEADERS = {"1x1": "1x1", "3x3reduce": "3x3r", "3x3": "3x3", "5x5reduce": "5x5r", "5x5": "5x5", "poolproj": "proj"}
UNITS = (
    "params: weights only (the paper's convention), K = 1024; ops: multiply-adds per image, M = 10^6"
    " (FLOPs = 2 x MACs). Delta = ours - paper; '~' off by up to one unit of the paper's last printed digit,"
    " '!' off by more (the paper's rounding allows half a unit)."
)


@dataclass
class Analysis:
    spec_path: str
    graph: nx.DiGraph
    totals: dict[str, Any]
    rows: list[RowCost]
    records: list[dict[str, Any]]
    checks: dict[str, RowCheck]
    self_checks: list[SelfCheck]
    claims: list[Claim]
    budget: Budget
    memory: Memory  # one training step (SGD momentum, CUDA autocast rules)
    inference: Memory  # one inference forward

    @property
    def name(self) -> str:
        return self.totals["spec"]

    @property
    def rows_off(self) -> list[str]:
        return [n for n, c in self.checks.items() if c.worst == OFF]

    @property
    def failed(self) -> list[str]:
        """What `--strict` fails on: over budget, or a row off the paper beyond one unit of its last digit."""
        reasons = []
        if self.budget.within is False:
            reasons.append(f"over budget ({self.budget.macs:,} > {self.budget.limit_macs:,.0f} MACs)")
        if self.rows_off:
            reasons.append(f"{len(self.rows_off)} row(s) off the paper: {', '.join(self.rows_off)}")
        return reasons

    def __repr__(self) -> str:
        t = self.totals
        return f"<Analysis {self.name}: {t['params']:,} params, {t['macs']:,} MACs, {len(self.rows)} rows>"

    def _repr_html_(self) -> str:
        return analysis_html(self)


def _short_type(graph: nx.DiGraph, rc: RowCost, rec: dict[str, Any]) -> str:
    if rc.row.kind == "parallel":
        return "inception" if rc.row.columns else "module"
    if rc.row.kind == "residual":
        return "residual"
    if rc.row.kind == "sequence" and not rc.row.label:
        return "sequence"
    op = graph.nodes[rc.row.output]["op"]
    if op == "dropout":
        return f"{short_word(op)} {graph.nodes[rc.row.output]['args']['p']:.0%}"
    return f"{short_word(op)} {rec['patch']}".strip()


def _mark(grade: str | None) -> str:
    return {CLOSE: " ~", OFF: " !"}.get(grade or "", "")


def table_view(a: Analysis, activations: bool = True) -> View:
    """Table 1's layout with ours beside the paper's values and the difference (and each row's activation
    memory, left out of the terminal table to keep it within ~110 columns)."""
    cols = [("layer", "l"), ("type", "l"), ("output", "r"), ("d", "r")]
    cols += [(SHORT_HEADERS[c], "r") for c in TABLE_COLUMNS]
    cols += [("params", "r"), ("paper", "r"), ("delta", "r"), ("ops", "r"), ("paper", "r"), ("delta", "r")]
    if activations:
        cols += [("act", "r")]
    out = []
    for rec, rc in zip(a.records, a.rows, strict=True):
        p, o = paper_values(rc)
        check = a.checks.get(rc.row.name)
        cells = [
            rc.row.name,
            _short_type(a.graph, rc, rec),
            rec["output"],
            str(rec["depth"] or ""),
            *("" if rec[c] is None else str(rec[c]) for c in TABLE_COLUMNS),
        ]
        if p:
            cells += [p.same_style(rc.weights), p.text, p.diff(rc.weights) + _mark(check and check.params)]
        else:
            cells += [human(rc.weights, 1024) if rc.weights else "", "", ""]
        if o:
            cells += [o.same_style(rc.macs), o.text, o.diff(rc.macs) + _mark(check and check.ops)]
        else:
            cells += [human(rc.macs) if rc.macs else "", "", ""]
        if activations:
            cells.append(format_bytes(a.memory.outputs[rc.row.output]))
        out.append(cells)
    t = a.totals
    paper_k = sum(p.value for p, _ in map(paper_values, a.rows) if p)
    paper_m = sum(o.value for _, o in map(paper_values, a.rows) if o)
    out.append(
        [
            "total",
            "",
            shape_text(a.graph.nodes[a.graph.graph["output"]]["out_shape"]),
            "",
            *[""] * len(TABLE_COLUMNS),
            f"{t['weights'] / 1024:.1f}K",
            f"{paper_k / 1024:.1f}K" if paper_k else "",
            f"{(t['weights'] - paper_k) / 1024:+.1f}K" if paper_k else "",
            f"{t['macs'] / 1e6:.1f}M",
            f"{paper_m / 1e6:.0f}M" if paper_m else "",
            f"{(t['macs'] - paper_m) / 1e6:+.1f}M" if paper_m else "",
            *([""] if activations else []),
        ]
    )
    m = a.memory
    legends = (
        {"act": f"act: the row's output activation at batch {m.setup.batch}, {m.setup.dtype}."} if activations else {}
    )
    legends["d"] = "d: layers with parameters on the row's longest path."
    legends["paper"] = "The paper's totals are its column sums."
    # narrow terminals lose Table 1's own columns first, then depth and activations, then type, output, paper
    ranks = [0, 3, 2, 4, *[5] * len(TABLE_COLUMNS), 1, 2, 1, 1, 2, 1] + ([4] if activations else [])
    return View(f"{a.name} ({a.spec_path}): Table 1 recomputed", cols, out, [UNITS], ranks, legends=legends)


def summary_lines(a: Analysis) -> list[str]:
    """Totals, budget, aux heads and memory in a few lines."""
    t, b, m = a.totals, a.budget, a.memory
    lines = [
        f"params {t['params']:,} (weights only, the paper's convention: {t['weights']:,}; biases {t['biases']:,};"
        f" norm {t['norm_params']:,}) · MACs {t['macs']:,} ({human(t['macs'])}; FLOPs = 2 x MACs = {human(t['flops'])})"
    ]
    if b.limit_macs is None:
        lines.append("budget: none given (use --budget 1.5G or `budget: {macs: 1.5G}` in the spec)")
    else:
        verdict = "within" if b.within else "OVER"
        lines.append(
            f"budget ({b.source}) {human(b.limit_macs)} MACs: {verdict} ({b.macs / b.limit_macs:.1%} of it,"
            f" {b.limit_macs - b.macs:+,.0f} MACs to spare)"
        )
    if a.graph.graph["aux"]:
        lines.append(
            f"aux heads (training only): params {t['params_aux']:,} · MACs {t['macs_aux']:,}"
            f" (+{t['params_aux'] / max(t['params'], 1):.0%} params, +{t['macs_aux'] / max(t['macs'], 1):.2%} MACs)"
        )
    i, amp = a.inference, "fp32" if m.setup.dtype == "fp32" else f"{m.setup.dtype} autocast"
    lines.append(
        f"memory at batch {m.setup.batch}, {amp} (CUDA rules; `inceptcost memory` per layer): inference peak"
        f" {format_bytes(i.peak_bytes)} (at {i.peak_at}); training step peak {format_bytes(m.peak_bytes)} (at {m.peak_at})"
        f" with fp32 weights {format_bytes(m.weights_bytes)} + grads {format_bytes(m.grads_bytes)} + SGD momentum"
        f" {format_bytes(m.optimizer_bytes)}; saved for backward {format_bytes(m.saved_bytes)}"
    )
    return lines


def rows_view(a: Analysis) -> View | None:
    """Every row that does not agree with the paper within its rounding."""
    out = []
    for rc in a.rows:
        c = a.checks.get(rc.row.name)
        if c is None or c.worst not in (CLOSE, OFF):
            continue
        p, o = paper_values(rc)
        what = []
        if c.params in (CLOSE, OFF) and p:
            what.append(
                f"params {p.same_style(rc.weights)} vs {p.text} ({c.params_diff / p.value:+.1%}){_mark(c.params)}"
            )
        if c.ops in (CLOSE, OFF) and o:
            what.append(f"ops {o.same_style(rc.macs)} vs {o.text} ({c.ops_diff / o.value:+.1%}){_mark(c.ops)}")
        if c.output == OFF:
            what.append(f"output {shape_text(rc.row.out_shape)} vs {rc.row.paper.text.get('output')} !")
        out.append([rc.row.name, f"{rc.weights:,}", f"{rc.macs:,}", "; ".join(what)])
    if not a.checks:
        return None
    n = len(a.checks)
    close = sum(1 for c in a.checks.values() if c.worst == CLOSE)
    notes = [
        f"Of {n} rows with paper values (params, ops or output size): {n - len(out)} agree within the paper's"
        f" rounding, {close} only within one unit of its last digit ('~'), {len(out) - close} are off by more ('!')."
    ]
    return View(
        "Table 1 row by row: rows that differ from ours",
        [("row", "l"), ("our weights", "r"), ("our MACs", "r"), ("ours vs paper", "l")],
        out,
        notes,
        ranks=[0, 1, 1, 0],
        wrap=("ours vs paper",),
    )


def self_view(a: Analysis) -> View | None:
    """Paper rows whose ops do not equal params x H x W at their output size."""
    out = []
    for s in a.self_checks:
        if s.grade == "ok":
            continue
        out.append(
            [
                s.name,
                f"{s.paper_params} x {s.area} = {s.implied_ops / 1e6:.1f}M",
                s.paper_ops,
                f"{s.implied_params / 1024:.1f}K",
                f"{s.ours_weights / 1024:.1f}K / {s.ours_macs / 1e6:.1f}M",
                s.grade,
            ]
        )
    if not a.self_checks:
        return None
    consistent = [s.name for s in a.self_checks if s.grade == "ok"]
    notes = [
        "Every conv of these rows runs at the row's output H x W, so ops = weights x H x W exactly; a row disagrees"
        " with itself when no weight count rounds to both its params and its ops ('~': only if each may be off by"
        " one unit of its last digit).",
        f"Self-consistent: {', '.join(consistent) or 'none'}.",
    ]
    return View(
        "The paper against itself: params x H x W vs ops",
        [
            ("row", "l"),
            ("paper params x HW", "r"),
            ("paper ops", "r"),
            ("params from ops", "r"),
            ("ours", "r"),
            ("fit", "l"),
        ],
        out,
        notes,
        ranks=[0, 1, 1, 2, 2, 0],
    )


def claims_view(a: Analysis) -> View:
    return View(
        "The published claims (declared in the spec)",
        [("verdict", "l"), ("claim", "l"), ("ours", "r"), ("published", "r"), ("why", "l"), ("source", "l")],
        [[c.verdict, c.claim, c.ours_text, c.paper_text, c.note, c.source] for c in a.claims],
        [
            "holds: ours prints as the published figure at its precision ('about' claims: within 10%; 'at most':"
            " not above); close: within 15%; n/a: nothing to compare against (the spec named by 'versus' is"
            " missing). A spec without `claims:` has none."
        ],
        ranks=[0, 0, 0, 0, 1, 2],
        wrap=("claim", "why", "source"),
    )


def verify_views(a: Analysis) -> list[View]:
    return [v for v in (rows_view(a), self_view(a), claims_view(a)) if v is not None]


def analysis_html(a: Analysis) -> str:
    lines = "".join(f"<li>{escape(line)}</li>" for line in summary_lines(a))
    return f"<div>{view_html(table_view(a))}<ul>{lines}</ul></div>"
