"""The renderings of one analysis (analysis.py gathers it: `analyze_spec` -> `Analysis`).

`to_json` gives its machine form; the views (report_views.py) give it as plain tables of strings (`View`) that
`to_markdown` renders here and the CLI renders with rich; `to_csv` gives the per-row table with exact numbers.
Nothing here imports torch, pandas or rich.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ..spec import TABLE_COLUMNS
from .analysis import Analysis, analyze_spec
from .costs import row_costs
from .costs.printed import CLOSE
from .report_views import UNITS, summary_lines, table_view, verify_views
from .timing.traffic import totals as traffic_totals
from .timing.traffic import traffic
from .view import View, view_markdown

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


# ---- markdown and csv ----


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
