"""Memory that cannot fit: every command that builds a model or allocates data refuses before allocating, in one
line with the figure needed, what is free and the largest batch that fits (or why not even batch 1 does); and an
allocator's own out-of-memory error that gets past those checks is still one line."""

from __future__ import annotations

import pytest

from .conftest import TINY

GIB = 1 << 30


@pytest.fixture
def free(monkeypatch):
    """Pretend the machine (and any device) has `value` bytes free: the figures do not depend on this machine."""

    def set_free(value: int) -> None:
        monkeypatch.setattr("inceptcost.train.bench.memory_check.free_memory", lambda device: (value, "this machine"))

    return set_free


def _spec(sandbox, name: str, *, input: str = "16x16x1", classes: int = 10) -> str:
    text = TINY.replace("input: 16x16x1", f"input: {input}").replace("classes: 10", f"classes: {classes}")
    return str(sandbox.write(name, text))


# An input too large to hold: 60000x60000x3 (the 1.38 TB asked of the allocator, and larger).
HUGE_INPUT = "60000x60000x3"


def test_train_synthetic_data_too_large_to_hold(sandbox, free):
    free(8 * GIB)
    spec = _spec(sandbox, "huge.yaml", input=HUGE_INPUT)
    out = sandbox.run("train", spec, "--data", "synthetic", "--device", "cpu", match="synthetic:2048")
    assert "8.00 GiB free" in out.stderr and "shrink the spec's input size" in out.stderr


def test_train_synthetic_names_the_count_that_fits(sandbox, free):
    free(GIB)  # 1 GiB holds 1 GiB / (9/8 * 64 KiB) = 14,563 images of 256x256x1
    spec = _spec(sandbox, "wide.yaml", input="256x256x1")
    sandbox.run("train", spec, "--data", "synthetic:100000", "--device", "cpu", match="use synthetic:14563 or fewer")


def test_train_batch_one_does_not_fit(sandbox, free):
    free(GIB)  # the data (2 + 2 images of 16 MiB) fits; one float32 image is 64 MiB, one step 1.56 GiB
    spec = _spec(sandbox, "big.yaml", input="4096x4096x1")
    args = ["train", spec, "--data", "synthetic:2", "--batch-size", "1", "--device", "cpu"]
    out = sandbox.run(*args, match="--batch-size 1 needs about")
    assert "not even batch 1 fits: batch 1 needs 1.56 GiB" in out.stderr and "the rest activations" in out.stderr


@pytest.mark.parametrize("mode", ["train", "infer"])
def test_bench_of_millions_of_classes(sandbox, free, mode):
    free(GIB)  # 5 million classes x 8 features: 40M weights (160 MB), with grads and momentum 480 MB, and more
    spec = _spec(sandbox, "classes.yaml", classes=50_000_000)
    out = sandbox.run("bench", spec, "--device", "cpu", "--steps", "1", "--mode", mode, match="the weights alone")
    assert "--batch 64 needs about" in out.stderr and "fewer classes" in out.stderr


def test_bench_input_alone_does_not_fit(sandbox, free):
    free(GIB)
    spec = _spec(sandbox, "huge.yaml", input=HUGE_INPUT)
    sandbox.run("bench", spec, "--device", "cpu", "--steps", "1", match="input image alone needs")


def test_bench_gives_the_largest_batch_that_fits(sandbox, free):
    from inceptcost import compile_graph, load_spec
    from inceptcost.analyze.memory import Setup, memory

    spec = _spec(sandbox, "tiny2.yaml")
    graph = compile_graph(load_spec(spec))
    free(memory(graph, Setup.checked(5, "fp32", "train", "sgd", "cpu")).peak_bytes)
    sandbox.run("bench", spec, "--device", "cpu", "--batch", "64", match="use --batch 5 or less")


def test_bench_checks_before_reading_weights(sandbox, free, monkeypatch):
    free(GIB)
    monkeypatch.setattr("inceptcost.train.weights.load_weights", lambda *a: pytest.fail("read the weights first"))
    spec = _spec(sandbox, "huge.yaml", input=HUGE_INPUT)
    weights = sandbox.write("w.pt", b"not read")
    sandbox.run("bench", spec, "--device", "cpu", "--weights", weights, match="not even batch 1 fits")


def test_export_refuses_before_building(sandbox, free):
    free(64 << 20)
    spec = _spec(sandbox, "classes.yaml", classes=5_000_000)
    out = sandbox.write("out/.keep", "")
    sandbox.run("export", spec, "--format", "torchscript", "--out", out.parent / "n.pt", match="the weights alone")


def test_import_input_too_large(sandbox, free):
    free(GIB)
    sandbox.write("net.py", "import torch\ndef make():\n    return torch.nn.Conv2d(3, 4, 3)\n")
    args = ["import", "net.py:make", "--input", "100000x100000x3", "--out", "n.yaml"]
    sandbox.run(*args, match="100000x100000x3 float32 input needs")


ALLOCATOR = {
    "cpu": RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to"
        " allocate 1384448000000 bytes. Error code 12 (Cannot allocate memory)"
    ),
    "cuda": None,  # torch.OutOfMemoryError, made in the test (torch is imported there)
    "python": MemoryError(),
}


@pytest.mark.parametrize("kind", sorted(ALLOCATOR))
def test_allocator_out_of_memory_is_one_line(sandbox, monkeypatch, kind):
    """Defence in depth: the allocator's own error, past every check, ends as one line with exit 2."""
    import torch

    error = ALLOCATOR[kind] or torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 1.25 TiB. GPU 0 has a total capacity of 79.1 GiB"
    )

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("inceptcost.train.bench.runner.bench_subject", fail)
    out = sandbox.run("bench", sandbox.spec, "--device", "cpu", "--steps", "1", match="error: out of memory")
    if kind == "cpu":
        assert "asked for 1384448000000 bytes" in out.stderr


def test_other_runtime_errors_are_not_taken_for_memory(monkeypatch):
    from inceptcost.cli.common import out_of_memory

    assert out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None
    assert out_of_memory(MemoryError()) is not None


def test_data_kept_on_the_device_counts_against_its_memory(monkeypatch):
    """On a GPU the trainer keeps the data set beside the model: the check subtracts it, or refuses it alone."""
    import torch

    from inceptcost import compile_graph, load_spec
    from inceptcost.analyze.memory import Setup, memory
    from inceptcost.errors import InceptcostError
    from inceptcost.train.bench.memory_check import check_memory

    graph = compile_graph(load_spec("googlenet"))
    setup = Setup.checked(2, "fp32", "train", "sgd", "cuda")
    need = memory(graph, setup).peak_bytes
    monkeypatch.setattr("inceptcost.train.bench.memory_check.free_memory", lambda device: (need + 4 * GIB, "the GPU"))
    check_memory(graph, setup, torch.device("cpu"), "batch_size", 4 * GIB, "the data set d")  # fits beside it
    with pytest.raises(InceptcostError, match=r"batch_size 2 needs about .* the GPU \(after the data set d: 4,"):
        check_memory(graph, setup, torch.device("cpu"), "batch_size", 4 * GIB + need // 2, "the data set d")
    with pytest.raises(InceptcostError, match="the data set d needs 8.00 GiB on the device but the GPU has 4.2"):
        check_memory(graph, setup, torch.device("cpu"), "batch_size", 8 * GIB, "the data set d")
