"""The memory rules held to torch itself on the shipped specs (CPU, small batch):

- saved_bytes, per layer and in total, equals what saved-tensor hooks see on the compiled model, exactly;
- the training peak is within 5% of torch's CPU allocator as the profiler records it (memory events).
The measurements are in inceptcost/train/bench/memory_check.py; they share nothing with the prediction."""

from __future__ import annotations

from pathlib import Path

import pytest

from inceptcost import compile_graph, load_spec
from inceptcost.analyze.memory import Setup, memory
from inceptcost.train.bench.memory_check import measured_peak, measured_saved

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.yaml"))
# Of the 299x299 residual family one spec here (the rest would add minutes to the suite); test_memory_residual.py
# holds the add, standalone BN and activations and separable convs to the hooks on tiny nets.
HEAVY = {"inception-v3", "inception-v4", "inception-resnet-v2", "xception"}


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("spec", [p for p in SPECS if p.stem not in HEAVY], ids=lambda p: p.stem)
def test_saved_bytes_equal_saved_tensor_hooks(spec, dtype):
    graph = compile_graph(load_spec(spec))
    setup = Setup.checked(2, dtype, "train", "sgd", "cpu")
    predicted = {r["name"]: r["saved_bytes"] for r in memory(graph, setup).rows if r["saved_bytes"]}
    measured = measured_saved(graph, setup)
    assert predicted == measured
    assert sum(predicted.values()) == memory(graph, setup).saved_bytes


@pytest.mark.slow
def test_channels_last_linear_saves_its_flattened_copy():
    graph = compile_graph(load_spec(SPECS[0].parent / "googlenet-torchvision.yaml"))
    setup = Setup.checked(2, "bf16", "train", "sgd", "cpu", channels_last=True)
    predicted = {r["name"]: r["saved_bytes"] for r in memory(graph, setup).rows if r["saved_bytes"]}
    assert predicted == measured_saved(graph, setup)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, dtype, optimizer",
    [
        ("googlenet", "fp32", "sgd"),
        ("googlenet", "bf16", "sgd"),
        ("bn-inception", "bf16", "adamw"),
        ("inception-resnet-v1", "fp32", "sgd"),
    ],
)
def test_training_peak_within_5_percent_of_the_allocator(name, dtype, optimizer):
    graph = compile_graph(load_spec(SPECS[0].parent / f"{name}.yaml"))
    setup = Setup.checked(2, dtype, "train", optimizer, "cpu")
    predicted = memory(graph, setup).peak_bytes
    measured = measured_peak(graph, setup)["peak_bytes"]
    assert abs(predicted / measured - 1) < 0.05, (predicted, measured)
