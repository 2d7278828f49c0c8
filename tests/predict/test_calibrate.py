"""`calibrate --quick` runs in seconds on CPU and writes a profile that `predict` reads back."""

from __future__ import annotations

import json

import pytest
from support import ROOT

pytest.importorskip("torch")


def test_calibrate_quick_then_predict(cli, tmp_path):
    out = tmp_path / "box.yaml"
    r = cli("calibrate", "--quick", "--threads", "1", "--out", out)
    assert r.exit_code == 0, r.stderr
    text = out.read_text()
    assert "source: calibrated" in text and "torch:" in text and "date:" in text
    p = cli(
        "predict", ROOT / "specs/variant.yaml", "--profile", out, "--batch", "4", "--format", "json", "--device", "cpu"
    )
    assert p.exit_code == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["profile"]["source"] == "calibrated" and d["step_ms"] > 0
    wrong = cli("predict", ROOT / "specs/variant.yaml", "--profile", out, "--device", "cuda")
    assert wrong.exit_code == 2 and "is a cpu profile" in wrong.stderr


def test_calibrate_refuses_a_non_yaml_out(cli, tmp_path):
    r = cli("calibrate", "--quick", "--out", tmp_path / "p.txt")
    assert r.exit_code == 2 and "--out must end in .yaml" in r.stderr
