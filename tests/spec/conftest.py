"""Helpers for the spec-language tests (its forms, the Inception family): specs written here, torch-side counts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inceptcost import compile_graph, load_spec, summarize


@pytest.fixture
def spec_from_yaml(tmp_path: Path):
    """Write YAML text to a file and load it as a Spec (only YAML: no code per network)."""

    def make(text: str, name: str = "test.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return load_spec(path)

    return make


def _torch_counts(spec) -> tuple[int, int]:
    """(parameters by numel() of the compiled torch model, conv + linear MACs by fvcore on it)."""
    torch = pytest.importorskip("torch")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    from inceptcost import build_model

    model = build_model(spec).eval()
    params = sum(p.numel() for p in model.parameters())
    c, h, w = spec.input
    with torch.no_grad():
        fca = fvcore_nn.FlopCountAnalysis(model, torch.zeros(1, c, h, w))
        fca.unsupported_ops_warnings(False)
        fca.uncalled_modules_warnings(False)
        by_op = fca.by_operator()
    macs = sum(by_op.get(op, 0) for op in ("conv", "linear", "addmm", "matmul"))
    return params, macs


@pytest.fixture
def torch_counts():
    """spec -> (numel() of the compiled torch model, fvcore's conv + linear MACs on it)."""
    return _torch_counts


@pytest.fixture
def analytic():
    """spec -> our static totals (summarize of the compiled IR)."""
    return lambda spec: summarize(compile_graph(spec))
