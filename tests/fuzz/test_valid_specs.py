"""Generated valid specs: the analytic costs and shapes agree with the compiled torch model.

Oracles independent of our cost rules: `numel()` of the built model's parameters, fvcore's conv/linear count
(MACs, its unit) and torch.utils.flop_counter (FLOPs = 2 x MACs), and the shapes of real tensors.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import pytest
from fuzz_specgen import COUNTS, Generated, examples, run_cli, valid_specs
from hypothesis import given, settings
from hypothesis import strategies as st

from inceptcost import compile_graph, load_spec, summarize

pytestmark = pytest.mark.fuzz
torch = pytest.importorskip("torch")
fvcore_nn = pytest.importorskip("fvcore.nn")
logging.getLogger("fvcore").setLevel(logging.ERROR)

MAC_OPS = ("conv", "linear", "addmm", "matmul", "mm", "bmm")


def _load(gen: Generated, flow: bool):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(gen.yaml(flow), encoding="utf-8")
        return compile_graph(load_spec(path))


def _fvcore_macs(module, x) -> int:
    counter = fvcore_nn.FlopCountAnalysis(module, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return sum(v for k, v in counter.by_operator().items() if k in MAC_OPS)


@pytest.mark.slow
@settings(max_examples=examples(40))
@given(gen=valid_specs(), flow=st.booleans())
def test_costs_and_shapes_match_torch(gen: Generated, flow: bool) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from inceptcost import build_model

    COUNTS["valid specs (torch checks)"] += 1
    graph = _load(gen, flow)
    totals = summarize(graph)
    torch.manual_seed(0)
    model = build_model(graph, aux=True)

    # params: in total and per layer (same dotted names in the IR and the module tree)
    assert sum(p.numel() for p in model.parameters()) == totals["params"] + totals["params_aux"]
    for name in graph:
        a = graph.nodes[name]
        if a["params"]:
            assert sum(p.numel() for p in model.get_submodule(name).parameters()) == a["params"], name

    # shapes: every op node and every concat, on a real forward pass in training mode (aux heads run too)
    seen: dict[str, tuple] = {}
    hooks = []
    for name in graph:
        op = graph.nodes[name]["op"]
        if op == "input":
            continue
        path = name[: -len(".concat")] if op == "concat" else name
        module = model.get_submodule(path)
        hooks.append(module.register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, tuple(o.shape))))
    c, h, w = graph.graph["spec"].input
    model.train()
    out = model(torch.randn(2, c, h, w))
    for hook in hooks:
        hook.remove()
    logits = out[0] if isinstance(out, tuple) else out
    assert tuple(logits.shape) == (2, *gen.out_shape)
    assert graph.nodes[graph.graph["output"]]["out_shape"] == gen.out_shape
    for name, shape in seen.items():
        assert shape == (2, *graph.nodes[name]["out_shape"]), name
    assert len(seen) == graph.number_of_nodes() - 1, "a layer of the IR never ran in the torch model"
    if isinstance(out, tuple):
        assert all(tuple(a.shape) == (2, *gen.out_shape) for a in out[1])

    # MACs: fvcore (main net in eval mode; each aux head on its tap's shape) and torch's flop counter
    model.eval()
    x = torch.randn(1, c, h, w)
    with torch.no_grad():
        assert _fvcore_macs(model, x) == totals["macs"]
        with FlopCounterMode(display=False) as fc:
            model(x)
        assert fc.get_total_flops() == 2 * totals["macs"]
        aux_macs = 0
        for row in graph.graph["aux"]:
            tap = next(r for r in graph.graph["rows"] if r.name == row.at)
            aux_macs += _fvcore_macs(model.get_submodule(row.name), torch.randn(1, *tap.out_shape))
        assert aux_macs == totals["macs_aux"]


@pytest.mark.slow
@settings(max_examples=examples(150))
@given(gen=valid_specs(max_modules=5), flow=st.booleans())
def test_analyze_cli_accepts_valid_specs(gen: Generated, flow: bool) -> None:
    """The static path on many more specs (no torch): exit 0, JSON written atomically, exact integer costs."""
    COUNTS["valid specs (analyze CLI)"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        spec, out = Path(tmp) / "spec.yaml", Path(tmp) / "out.json"
        spec.write_text(gen.yaml(flow), encoding="utf-8")
        run = run_cli(["analyze", str(spec), "--format", "json", "--out", str(out)])
        assert run.exception is None, repr(run.exception)
        assert run.code == 0, run.stderr
        assert run.seconds < 1.0
        totals = json.loads(out.read_text())["totals"]
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["out.json", "spec.yaml"]  # no temp files left
    assert all(isinstance(totals[k], int) for k in ("params", "weights", "macs", "flops", "params_aux"))
    assert totals["flops"] == 2 * totals["macs"]
    assert totals["params"] == totals["weights"] + totals["biases"] + totals["norm_params"]
