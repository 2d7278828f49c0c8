"""One analysis of a spec: costs, Table 1 checks, claims, budget and memory gathered into an `Analysis`
(the dataclass lives beside its views in report_views.py, which its `_repr_html_` uses).

Its renderings (JSON, views, markdown, csv) are in report.py. Nothing here imports torch, pandas or rich.
"""

from __future__ import annotations

from pathlib import Path

from ..graph.compile import compile_graph
from ..spec import Spec, load_spec
from .costs import row_costs, summarize
from .costs.budget import budget_verdict
from .costs.claims import claims
from .costs.table import table_records
from .costs.verify import check_row, self_check
from .memory import Setup, memory
from .report_views import Analysis

__all__ = ["Analysis", "analyze_spec"]


def analyze_spec(path: str | Path | Spec, budget: float | None = None, batch: int = 1, dtype: str = "fp32") -> Analysis:
    """Analyze a spec: a file, a shipped spec's name or a loaded Spec."""
    spec = path if isinstance(path, Spec) else load_spec(path)
    graph = compile_graph(spec)
    totals = summarize(graph)
    rows = row_costs(graph)
    checks = {c.name: c for c in (check_row(rc) for rc in rows) if c is not None}
    selfs = [s for s in (self_check(graph, rc) for rc in rows) if s is not None]
    return Analysis(
        spec_path=spec.file if isinstance(path, Spec) else str(path),
        graph=graph,
        totals=totals,
        rows=rows,
        records=table_records(graph),
        checks=checks,
        self_checks=selfs,
        claims=claims(graph, totals, rows),
        budget=budget_verdict(totals["macs"], totals["budget_macs"], budget),
        memory=memory(graph, Setup.checked(batch, dtype)),
        inference=memory(graph, Setup.checked(batch, dtype, "infer")),
    )
