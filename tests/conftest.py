"""Shared fixtures: the shipped specs, a writer for specs written in a test, the CLI runner."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def write_spec(tmp_path):
    """Write YAML text (dedented) to a file in tmp_path and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def cli():
    """Invoke the `inceptcost` CLI in-process; returns typer's Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from inceptcost.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def root() -> Path:
    """The repository root (shipped specs live in root / "specs")."""
    return Path(__file__).resolve().parents[1]
