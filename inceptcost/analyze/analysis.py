"""One analysis of a spec: costs, Table 1 checks, claims, budget and memory gathered into an `Analysis`.

Its renderings (JSON, views, markdown, csv) are in report.py. Nothing here imports torch, pandas or rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from ..graph.compile import compile_graph
from ..spec import Spec, load_spec
from .budget import Budget, budget_verdict
from .claims import Claim, claims
from .costs import RowCost, row_costs, summarize
from .memory import Memory, Setup, memory
from .printed import OFF
from .table import table_records
from .verify import RowCheck, SelfCheck, check_row, self_check


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
        from .notebook import analysis_html

        return analysis_html(self)


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
