"""Shared fixtures: a net small enough to count by hand, a writer for specs written in a test, the CLI runner."""

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


# A net small enough to count by hand: 8x8x3 -> conv 3x3 (16, bias) -> gap -> linear (10 classes).
TINY = """
name: tiny
input: 8x8x3
classes: 10
defaults: {activation: relu, bias: true, norm: none}
layers:
  - {name: conv, type: conv, kernel: 3, out: 16}
  - {name: pool, type: gap}
  - {name: fc, type: linear}
"""


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p
