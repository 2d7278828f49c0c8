"""Tiny specs written by the tests, so a training step takes milliseconds on a CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def write_tiny_spec(
    folder: Path, *, dropout: float = 0.2, aux: bool = True, norm: str = "none", size: int = 16, name: str = "tiny"
) -> Path:
    aux_text = (
        """
aux:
  - name: aux1
    at: inc
    weight: 0.3
    layers:
      - {name: pool, type: adaptive_avgpool, output: 2x2}
      - {name: conv, type: conv, kernel: 1, out: 8}
      - {name: fc, type: linear, out: 16, activation: relu}
      - {name: linear, type: linear}
"""
        if aux
        else ""
    )
    drop = f"  - {{name: dropout, type: dropout, p: {dropout}}}\n" if dropout else ""
    text = f"""name: {name}
input: {size}x{size}x1
classes: 10
defaults: {{activation: relu, bias: true, norm: {norm}}}
layers:
  - {{name: conv1, type: conv, patch: 3x3/1, out: 8}}
  - {{name: pool1, type: maxpool, patch: 2x2/2}}
  - {{name: inc, type: inception, 1x1: 4, 3x3reduce: 4, 3x3: 8, 5x5reduce: 2, 5x5: 4, poolproj: 4}}
  - {{name: gap, type: gap}}
{drop}  - {{name: linear, type: linear}}
{aux_text}"""
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def tiny_spec(tmp_path) -> Path:
    return write_tiny_spec(tmp_path)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m inceptcost ARGS` in a fresh process (what a user runs)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "inceptcost", *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO
    )
