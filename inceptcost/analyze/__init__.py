"""Costs, budget checks, verification against the paper and independent counters, reports."""
