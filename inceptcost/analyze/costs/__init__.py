"""Params and multiply-adds read off the IR (count.py), the Table 1 view (table.py), the paper's values and the
self-checks (verify.py, printed.py), the budget, the claims, compare, the sweep and fit (sweep.py), the index."""

from .count import COST_FIELDS, RowCost, costs_table, node_records, row_costs, summarize

__all__ = ["COST_FIELDS", "RowCost", "costs_table", "node_records", "row_costs", "summarize"]
