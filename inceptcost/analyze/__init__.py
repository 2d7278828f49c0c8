"""Costs, budget checks, verification against the paper and independent counters, reports: costs/, memory/,
timing/, diagram/, and the one analysis of a spec with its views (analysis.py, report_views.py, report.py)."""
