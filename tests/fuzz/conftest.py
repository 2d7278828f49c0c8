"""Hypothesis profiles for the fuzz tests, chosen with HYPOTHESIS_PROFILE: `ci` (default: bounded and
deterministic), `dev` (bounded, random seeds) and `long` (25x the examples, for a local soak run)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make fuzz_specgen importable

_COMMON = dict(
    deadline=None,  # tracing a model varies in time; hangs are caught by explicit time limits instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("dev", **_COMMON)
settings.register_profile("long", **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE if PROFILE in ("ci", "dev", "long") else "ci")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: generated and mutated specs (bounded by the hypothesis profile)")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    from fuzz_specgen import COUNTS

    if COUNTS:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
        terminalreporter.write_line(f"fuzz ({PROFILE} profile): {shown}")
