"""bench and train compare the predicted peak with the free memory before they allocate, and refuse with the
figure and the largest batch that fits."""

from __future__ import annotations

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from inceptcost import compile_graph, load_spec
from inceptcost.analyze.memory import Setup, memory
from inceptcost.cli import app


@pytest.fixture
def free_for_batch_3(monkeypatch, small_spec):
    """Pretend the machine has exactly the predicted peak of batch 3 free (CPU rules, fp32)."""
    graph = compile_graph(replace(load_spec(small_spec), aux=()))
    free = memory(graph, Setup.checked(3, "fp32", "train", "sgd", "cpu")).peak_bytes
    monkeypatch.setattr("inceptcost.train.bench.memory_check.free_memory", lambda device: (free, "this machine"))
    return free


def test_bench_refuses_a_batch_that_does_not_fit(free_for_batch_3, small_spec):
    r = CliRunner().invoke(app, ["bench", str(small_spec), "--device", "cpu", "--batch", "4", "--steps", "1"])
    assert r.exit_code == 2
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: --batch 4 needs about") and "use --batch 3 or less" in line


def test_train_refuses_before_building_the_model(free_for_batch_3, small_spec, tmp_path, monkeypatch):
    import inceptcost.graph.model as model

    monkeypatch.setattr(model, "build_model", lambda *a: pytest.fail("built the model before checking"))
    args = ["train", str(small_spec), "--data", "synthetic:64", "--batch-size", "16", "--epochs", "1"]
    r = CliRunner().invoke(app, [*args, "--device", "cpu", "--out", str(tmp_path / "run")])
    assert r.exit_code == 2, r.output
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: --batch-size 16 needs about") and "use --batch-size" in line
