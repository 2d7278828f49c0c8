"""`bench --per-layer --profile`: the prediction beside every measured row, with the error."""

from __future__ import annotations

import json

import pytest
from support import ROOT

pytest.importorskip("torch")

SMALL = """
name: small
input: 16x16x3
classes: 5
defaults: {activation: relu, bias: false, norm: bn}
layers:
  - {name: conv1, type: conv, kernel: 3, out: 16}
  - {name: pool1, type: maxpool, patch: 3x3/2, ceil: true}
  - {name: mix, type: inception, "1x1": 8, "3x3reduce": 8, "3x3": 16, "5x5reduce": 8, "5x5": 8, poolproj: 8}
  - {name: gap, type: gap}
  - {name: linear, type: linear, bias: true}
"""
RUN = ["--device", "cpu", "--batch", "2", "--steps", "2", "--warmup", "1", "--repeats", "1", "--mode", "infer"]


def test_per_layer_with_prediction(cli, write_spec, tmp_path):
    out = tmp_path / "b.json"
    spec = write_spec(SMALL)
    r = cli("bench", spec, *RUN, "--per-layer", "--profile", ROOT / "profiles/cpu.yaml", "-o", out)
    assert r.exit_code == 0, r.stderr
    layers = json.loads(out.read_text())["per_layer"]
    rows = {x["name"]: x for x in layers["layers"]}
    assert set(rows) >= {"conv1", "pool1", "mix.concat", "linear"}
    for x in rows.values():
        assert x["predicted_ms"] > 0 and x["error"] == pytest.approx(x["predicted_ms"] / x["measured_ms"] - 1)
    assert layers["total_predicted_ms"] == pytest.approx(sum(x["predicted_ms"] for x in rows.values()))
    assert "predicted" in r.stdout and "over all layers" in r.stdout


def test_a_cuda_profile_is_refused_before_the_run(cli, write_spec):
    r = cli("bench", write_spec(SMALL), *RUN, "--per-layer", "--profile", "h100")
    assert r.exit_code == 2 and "is a cuda profile, but this run is on cpu" in r.stderr
