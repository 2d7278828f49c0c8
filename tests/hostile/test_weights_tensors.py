"""Weights files (`train --init`, `bench --weights`, `export --weights`) whose tensors have the right names and
shapes but cannot stand for the model's weights: sparse, meta, quantized, complex, bool or integer where a float
belongs, NaN. Each is one line naming the file and the tensor, before anything loads; a view of the right values
(non-contiguous, a zero-stride expansion) and a float of another width load as their values."""

from __future__ import annotations

import warnings

import pytest
import torch

from inceptcost import build_model, load_spec

from .conftest import TINY

NAME = "conv1.conv.weight"


def _odd(w: torch.Tensor) -> dict[str, tuple[torch.Tensor, str]]:
    with warnings.catch_warnings():  # quantized and sparse CSR tensors warn that they are deprecated or beta
        warnings.simplefilter("ignore")
        return {
            "sparse COO": (w.to_sparse(), "is a sparse_coo tensor"),
            "sparse CSR": (w.flatten(1).to_sparse_csr(), "is a sparse_csr tensor"),
            "meta": (w.to("meta"), "is a meta tensor"),
            "quantized": (torch.quantize_per_tensor(w, 0.1, 0, torch.qint8), "is a quantized tensor (qint8)"),
            "complex": (w.to(torch.complex64), "has dtype complex64"),
            "bool": (w > 0, "has dtype bool"),
            "int": (w.to(torch.int32), "has dtype int32"),
            "NaN": (torch.full_like(w, float("nan")), "holds NaN or infinite values"),
            "inf": (w.masked_fill(w > 0, float("inf")), "holds NaN or infinite values"),
        }


@pytest.fixture
def weights(sandbox):
    """Write a state dict of the tiny spec with one tensor replaced; return its path."""
    model = build_model(load_spec(sandbox.spec), aux=True)
    state = model.state_dict()

    def write(tensor: torch.Tensor, name: str = NAME):
        path = sandbox.root / "w.pt"
        torch.save({**state, name: tensor}, path)
        return path

    write.state = state
    return write


def _commands(spec, path, tmp):
    return {
        "train --init": ["train", spec, "--data", "synthetic:64", "--batch-size", "16", "--epochs", "1"]
        + ["--device", "cpu", "--init", path, "--out", tmp / "run"],
        "bench --weights": ["bench", spec, "--device", "cpu", "--steps", "1", "--weights", path],
        "export --weights": ["export", spec, "--format", "torchscript", "--weights", path, "--out", tmp / "n.pt"],
    }


CASES = list(_odd(torch.zeros(8, 1, 3, 3)))


@pytest.mark.parametrize("command", ["train --init", "bench --weights", "export --weights"])
@pytest.mark.parametrize("case", CASES)
def test_odd_tensors_are_refused_in_one_line(sandbox, weights, command, case):
    tensor, words = _odd(weights.state[NAME])[case]
    path = weights(tensor)
    args = _commands(sandbox.spec, path, sandbox.root)[command]
    out = sandbox.run(*args, match=f"w.pt: the file's tensor '{NAME}'")
    assert words in out.stderr


def test_a_float_counter_is_refused(sandbox, weights):
    """BN's num_batches_tracked is a count: a float there is of another kind."""
    spec = sandbox.write("bn.yaml", TINY.replace("norm: none", "norm: bn"))
    state = build_model(load_spec(spec), aux=True).state_dict()
    name = next(k for k in state if k.endswith("num_batches_tracked"))
    torch.save({**state, name: torch.tensor(1.5)}, sandbox.root / "w.pt")
    args = ["bench", spec, "--device", "cpu", "--steps", "1", "--weights", sandbox.root / "w.pt"]
    sandbox.run(*args, match="not a whole-number type")


@pytest.mark.parametrize("kind", ["expanded", "transposed view", "float16", "bfloat16", "float64"])
def test_views_and_other_float_widths_load_as_their_values(sandbox, weights, kind):
    from inceptcost.train.weights import load_weights

    w = weights.state[NAME]
    tensor = {
        "expanded": torch.full((1,), 0.25).expand(w.shape),
        "transposed view": w.transpose(0, 1).contiguous().transpose(0, 1),
        "float16": w.half(),
        "bfloat16": w.bfloat16(),
        "float64": w.double(),
    }[kind]
    model = build_model(load_spec(sandbox.spec), aux=True)
    load_weights(model, weights(tensor))
    assert torch.equal(model.state_dict()[NAME], tensor.float())


def test_a_resumed_checkpoint_with_an_odd_tensor_is_one_line(sandbox):
    """The same check guards `--resume` (a study resumes its runs): a meta tensor in the checkpoint's model."""
    from inceptcost.train.checkpoint import load_checkpoint, save_checkpoint

    run = sandbox.root / "run"
    args = ["train", sandbox.spec, "--data", "synthetic:64", "--batch-size", "16", "--epochs", "1"]
    sandbox.run(*args, "--device", "cpu", "--out", run, code=0, may_write=("run",))
    state = load_checkpoint(run / "checkpoint.pt")
    state["model"][NAME] = state["model"][NAME].to("meta")
    save_checkpoint(run / "checkpoint.pt", state)
    (run / "summary.json").unlink()
    sandbox.run(*args, "--epochs", "2", "--device", "cpu", "--out", run, "--resume", match="is a meta tensor")
