from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

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

# A small inception-style net for CPU benchmarks: stem, one inception row, classifier.
SMALL = """
name: small
input: 16x16x3
classes: 5
defaults: {activation: relu, bias: false, norm: bn}
layers:
  - {name: conv1, type: conv, patch: 3x3/1, out: 16}
  - {name: pool1, type: maxpool, patch: 3x3/2, ceil: true}
  - {name: inception_3a, type: inception, 1x1: 8, 3x3reduce: 8, 3x3: 16, 5x5reduce: 8, 5x5: 8, poolproj: 8}
  - {name: pool5, type: gap}
  - {name: linear, type: linear, bias: true}
"""


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p


@pytest.fixture
def small_spec(tmp_path: Path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL)
    return p
