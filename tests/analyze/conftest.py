"""Fixtures for the analyze tests: the repo root, a spec writer and the CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def spec_file(write_spec):
    """The root conftest's spec writer, under this folder's name."""
    return write_spec


@pytest.fixture
def run(cli):
    """The root conftest's in-process CLI runner, under this folder's name."""
    return cli
