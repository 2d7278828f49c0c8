"""Fixtures for the analyze tests: the repo root, a spec writer and the CLI runner."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def spec_file(tmp_path):
    """Write YAML text (dedented) to a file in tmp_path and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def run():
    """Invoke the `inceptcost` CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from inceptcost.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])
