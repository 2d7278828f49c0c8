from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

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
def small_spec(tmp_path: Path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL)
    return p
