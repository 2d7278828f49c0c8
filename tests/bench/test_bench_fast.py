"""`bench --fast` and benchmarks/bench_fast.py on the CPU (their GPU path runs where a GPU is)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from inceptcost.cli import app

from .conftest import ROOT

pytest.importorskip("torch")

TINY_RUN = ["--device", "cpu", "--batch", "2", "--steps", "1", "--warmup", "1", "--repeats", "1"]


def test_bench_fast_row(small_spec, tmp_path):
    out = tmp_path / "b.json"
    r = CliRunner().invoke(app, ["bench", str(small_spec), *TINY_RUN, "--fast", "--mode", "infer", "-o", str(out)])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(out.read_text())["rows"]
    assert row["model"] == "inceptcost:small (fast)" and row["images_per_s"] > 0


def test_fast_script_runs_on_cpu_with_every_ablation(small_spec, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FB_DEVICE": "cpu", "FB_SPEC": str(small_spec)}
    env.update(FB_STEPS="1", FB_WARMUP="1", FB_REPEATS="2", FB_JSON=str(tmp_path / "fb.json"), FB_TORCHVISION="0")
    env.pop("OUT", None)
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_fast.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    rows = json.loads((tmp_path / "fb.json").read_text())["rows"]
    names = ["plain", "fast", "fast -fuse_1x1", "fast -fold_bn", "fast -fuse_act", "fast +slice_concat"]
    for mode in ("train", "infer"):
        got = [r for r in rows if r["mode"] == mode]
        assert [r["model"] for r in got] == [*names, "fast +channels_last"]
        assert all(r["images_per_s"] > 0 and r["ms_min"] <= r["ms_per_step"] <= r["ms_max"] for r in got)
    assert "CUDA graphs rows skipped" in p.stdout


def test_fast_script_times_only_the_subjects_named(small_spec, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FB_DEVICE": "cpu", "FB_SPEC": str(small_spec)}
    env.update(FB_STEPS="1", FB_WARMUP="1", FB_REPEATS="1", FB_MODES="infer", FB_TORCHVISION="0")
    env.pop("OUT", None)
    run = lambda subjects: subprocess.run(  # noqa: E731
        [sys.executable, str(ROOT / "benchmarks" / "bench_fast.py")],
        env={**env, "FB_SUBJECTS": subjects, "FB_JSON": str(tmp_path / "fb.json")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    p = run("fast,fast -fold_bn")
    assert p.returncode == 0, p.stdout + p.stderr
    rows = json.loads((tmp_path / "fb.json").read_text())["rows"]
    assert [r["model"] for r in rows] == ["fast", "fast -fold_bn"]
    p = run("fast,fastest")
    assert p.returncode != 0 and "error: FB_SUBJECTS: no subject fastest" in p.stderr
