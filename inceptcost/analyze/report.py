"""The renderings of one analysis (analysis.py gathers it: `analyze_spec` -> `Analysis`).

`to_json` gives its machine form; `views` give it as plain tables of strings (`View`) that `to_markdown`
renders here and the CLI renders with rich; `to_csv` gives the per-row table with exact numbers. Nothing here
imports torch, pandas or rich.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..quantities import human
from ..spec import TABLE_COLUMNS
from ..text import shape_text, short_word
from .analysis import Analysis, analyze_spec
from .costs import RowCost, row_costs
from .printed import CLOSE, OFF, mib
from .traffic import totals as traffic_totals
from .traffic import traffic
from .verify import paper_values

__all__ = [
    "Analysis",
    "View",
    "analyze_spec",
    "summary_lines",
    "table_view",
    "to_csv",
    "to_json",
    "to_markdown",
    "verify_views",
    "view_markdown",
]
SHORT_HEADERS = {"1x1": "1x1", "3x3reduce": "3x3r", "3x3": "3x3", "5x5reduce": "5x5r", "5x5": "5x5", "poolproj": "proj"}
UNITS = (
    "params: weights only (the paper's convention), K = 1024; ops: multiply-adds per image, M = 10^6"
    " (FLOPs = 2 x MACs). Delta = ours - paper; '~' off by up to one unit of the paper's last printed digit,"
    " '!' off by more (the paper's rounding allows half a unit)."
)


# ---- JSON ----


def _traffic_json(a: Analysis) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Bytes moved per Table-1 row and per node at the analysis' batch and dtype (training: with backward)."""
    nodes = traffic(a.graph, a.memory.setup.batch, a.memory.setup.dtype, train=True)
    per_row: dict[str, dict[str, Any]] = {}
    for row in a.graph.graph["rows"]:
        mine = [t for t in nodes if t.name in set(row.nodes)]
        fwd = sum(t.read() + t.write() for t in mine)
        per_row[row.name] = {
            "bytes_forward": fwd,
            "bytes_backward": sum(t.read(True) + t.write(True) for t in mine),
            "intensity": sum(t.macs for t in mine) / fwd if fwd else None,
        }
    block = {
        "batch": a.memory.setup.batch,
        "dtype": a.memory.setup.dtype,
        "units": "bytes for the whole batch; intensity = forward MACs per forward byte; backward of a training step",
        "totals": traffic_totals(nodes),
        "nodes": [t.as_dict() for t in nodes],
    }
    return per_row, block


def to_json(a: Analysis) -> dict[str, Any]:
    t = a.totals
    moved, traffic_block = _traffic_json(a)
    layers = []
    for rec, rc in zip(a.records, a.rows, strict=True):
        paper = rc.row.paper
        check = a.checks.get(rc.row.name)
        layers.append(
            {
                "name": rec["name"],
                "type": rec["type"],
                "patch": rec["patch"] or None,
                "output": rec["output"],
                "depth": rec["depth"],
                "columns": dict(rc.row.columns) if rc.row.columns else None,
                "params": rc.params,
                "weights": rc.weights,
                "macs": rc.macs,
                "other_ops": rc.other_ops,
                "activation_bytes": a.memory.outputs[rc.row.output],
                **moved[rc.row.name],
                "paper": None
                if paper is None
                else {
                    "params": paper.params,
                    "ops": paper.ops,
                    "output": rec["paper_output"],
                    "text": dict(paper.text),
                    "check": None
                    if check is None
                    else {
                        "params": check.params,
                        "ops": check.ops,
                        "output": check.output,
                        "params_diff": check.params_diff,
                        "ops_diff": check.ops_diff,
                    },
                },
            }
        )
    return {
        "spec": a.spec_path,
        "name": a.name,
        "units": UNITS,
        "totals": {
            "params": t["params"],
            "params_paper": t["weights"],
            "weights": t["weights"],
            "biases": t["biases"],
            "norm_params": t["norm_params"],
            "macs": t["macs"],
            "flops": t["flops"],
            "other_ops": t["other_ops"],
            "params_aux": t["params_aux"],
            "macs_aux": t["macs_aux"],
            "flops_aux": 2 * t["macs_aux"],
        },
        "budget": a.budget.as_dict(),
        "layers": layers,
        "aux": [
            {"name": rc.row.name, "at": rc.row.at, "weight": rc.row.weight, "params": rc.params, "macs": rc.macs}
            for rc in row_costs(a.graph, aux=True)
        ],
        "table1": {
            "rows_with_paper_values": len(a.checks),
            "rows_off": a.rows_off,
            "rows_close": [n for n, c in a.checks.items() if c.worst == CLOSE],
            "self_consistency": [s.as_dict() for s in a.self_checks],
        },
        "claims": [c.as_dict() for c in a.claims],
        "memory": {
            **{k: v for k, v in a.memory.as_dict().items() if k != "rows"},
            "inference_peak_bytes": a.inference.peak_bytes,
            "inference_peak_at": a.inference.peak_at,
        },
        "traffic": traffic_block,
        "strict_failures": a.failed,
    }


# ---- views: plain tables of strings ----


@dataclass
class View:
    """A table of strings. On a narrow terminal the columns of the highest rank are left out first (rank 0:
    always shown; no ranks: from the right); the columns named in `wrap` are free text that may wrap between
    words, every other cell is shown whole on one line."""

    title: str
    columns: list[tuple[str, str]]  # (header, "l" | "r")
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    ranks: list[int] | None = None
    wrap: tuple[str, ...] = ()


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
            cells.append(mib(a.memory.outputs[rc.row.output]))
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
    notes = [
        UNITS,
        (f"act: the row's output activation at batch {m.setup.batch}, {m.setup.dtype}. " if activations else "")
        + "d: layers with parameters on the row's longest path. The paper's totals are its column sums.",
    ]
    # narrow terminals lose Table 1's own columns first, then depth and activations, then type, output, paper
    ranks = [0, 3, 2, 4, *[5] * len(TABLE_COLUMNS), 1, 2, 1, 1, 2, 1] + ([4] if activations else [])
    return View(f"{a.name} ({a.spec_path}): Table 1 recomputed", cols, out, notes, ranks)


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
        f" {mib(i.peak_bytes)} (at {i.peak_at}); training step peak {mib(m.peak_bytes)} (at {m.peak_at})"
        f" with fp32 weights {mib(m.weights_bytes)} + grads {mib(m.grads_bytes)} + SGD momentum"
        f" {mib(m.optimizer_bytes)}; saved for backward {mib(m.saved_bytes)}"
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


# ---- markdown and csv ----


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def view_markdown(v: View) -> str:
    head = "| " + " | ".join(_md_cell(h) for h, _ in v.columns) + " |"
    rule = "|" + "|".join("---:" if al == "r" else ":---" for _, al in v.columns) + "|"
    body = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in v.rows]
    parts = [f"### {v.title}", "", head, rule, *body, ""]
    for n in v.notes:
        parts += [n, ""]
    return "\n".join(parts).rstrip() + "\n"


def to_markdown(a: Analysis, command: str | None = None) -> str:
    t = a.graph.graph["spec"]
    parts = [f"# {t.title or a.name}", ""]
    if command:
        parts += [f"Generated by `{command}`; do not edit by hand.", ""]
    if t.reference:
        parts += [f"Reference: {t.reference}", ""]
    parts += [view_markdown(table_view(a)), "## Totals", ""]
    parts += [f"- {line}" for line in summary_lines(a)]
    parts += ["", "## Verification", ""]
    for v in verify_views(a):
        parts += [view_markdown(v)]
    return "\n".join(parts).rstrip() + "\n"


def to_csv(a: Analysis) -> str:
    """One line per row with exact numbers (weights, MACs, the paper's values, grades), and a total line."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "name",
            "type",
            "patch",
            "output",
            "depth",
            *TABLE_COLUMNS,
            "weights",
            "params",
            "macs",
            "paper_params",
            "paper_ops",
            "paper_output",
            "params_grade",
            "ops_grade",
            "activation_bytes",
        ]
    )
    for rec, rc in zip(a.records, a.rows, strict=True):
        c = a.checks.get(rc.row.name)
        w.writerow(
            [
                rec["name"],
                rec["type"],
                rec["patch"],
                rec["output"],
                rec["depth"],
                *("" if rec[col] is None else rec[col] for col in TABLE_COLUMNS),
                rc.weights,
                rc.params,
                rc.macs,
                "" if rec["paper_params"] is None else f"{rec['paper_params']:g}",
                "" if rec["paper_ops"] is None else f"{rec['paper_ops']:g}",
                rec["paper_output"] or "",
                (c.params or "") if c else "",
                (c.ops or "") if c else "",
                a.memory.outputs[rc.row.output],
            ]
        )
    t = a.totals
    w.writerow(["total", "", "", "", "", *[""] * len(TABLE_COLUMNS), t["weights"], t["params"], t["macs"]])
    return buf.getvalue()
