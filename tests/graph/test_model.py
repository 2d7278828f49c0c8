"""The compiled torch model against the IR: same names, same shapes, and independent counters agree.

For every shipped spec: analytic params == sum(numel) of the torch model; analytic MACs == fvcore's count
(conv and linear handles) == torch.utils.flop_counter FLOPs / 2. The aux heads are checked the same way in
training mode, where they run.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from support import SPECS  # noqa: E402

from inceptcost import build_model, compile_graph, load_spec, summarize  # noqa: E402


def _counted_params(model, aux: bool) -> int:
    aux_names = tuple(f"{n}." for n in model.aux_names)
    return sum(p.numel() for n, p in model.named_parameters() if n.startswith(aux_names) == aux)


@pytest.fixture(scope="module", params=SPECS, ids=lambda p: p.stem)
def compiled(request):
    spec = load_spec(request.param)
    graph = compile_graph(spec)
    torch.manual_seed(0)
    return spec, graph, build_model(graph, aux=True)


def test_params_equal_numel(compiled):
    _, graph, model = compiled
    totals = summarize(graph)
    assert _counted_params(model, aux=False) == totals["params"]
    assert _counted_params(model, aux=True) == totals["params_aux"]


@pytest.mark.slow
def test_macs_equal_fvcore_and_flop_counter(compiled):
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    spec, graph, model = compiled
    totals = summarize(graph)
    x = torch.randn(1, *spec.input)
    model.eval()
    counter = FlopCountAnalysis(model, x)
    counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    by_op = counter.by_operator()
    assert by_op.get("conv", 0) + by_op.get("linear", 0) + by_op.get("addmm", 0) == totals["macs"]
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(x)
    assert fc.get_total_flops() == 2 * totals["macs"]
    if spec.aux:
        model.train()
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            model(torch.randn(2, *spec.input))  # batch 2: BatchNorm needs more than one value in training
        assert fc.get_total_flops() == 2 * 2 * (totals["macs"] + totals["macs_aux"])


def test_names_and_shapes_match_the_ir(compiled):
    """Every IR op node is a submodule at its dotted name, and each produces the shape the IR inferred."""
    spec, graph, model = compiled
    ops = [n for n in graph if graph.nodes[n]["op"] not in ("input", "concat")]
    modules = dict(model.named_modules())
    missing = [n for n in ops if n not in modules]
    assert not missing, f"IR nodes with no module: {missing[:5]}"
    seen = {}
    hooks = [
        modules[n].register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, tuple(o.shape[1:]))) for n in ops
    ]
    model.train()
    with torch.no_grad():
        out = model(torch.randn(2, *spec.input))
    for h in hooks:
        h.remove()
    wrong = {n: (seen[n], graph.nodes[n]["out_shape"]) for n in ops if seen[n] != graph.nodes[n]["out_shape"]}
    assert not wrong
    logits, aux = out if spec.aux else (out, [])
    assert logits.shape == (2, spec.classes)
    assert [a.shape for a in aux] == [(2, spec.classes)] * len(spec.aux)


def test_aux_heads_run_in_training_only():
    spec = load_spec(next(p for p in SPECS if p.stem == "variant"))
    model = build_model(spec, aux=True)
    model.train()
    logits, aux = model(torch.randn(2, *spec.input))
    assert len(aux) == len(spec.aux) == len(model.aux_weights)
    assert model.aux_weights == [h.weight for h in spec.aux]
    model.eval()
    assert isinstance(model(torch.randn(2, *spec.input)), torch.Tensor)


def test_absurd_width_is_refused_before_allocating(write_spec):
    from inceptcost.errors import InceptcostError

    path = write_spec(
        """
        input: 32x32x3
        classes: 1000000
        layers:
          - {name: conv, type: conv, kernel: 3, out: 1000000}
          - {name: gap, type: gap}
          - {name: fc, type: linear}
        """
    )
    graph = compile_graph(load_spec(path))
    assert summarize(graph)["params"] > 10**12  # exact integers, no overflow: 1e6 * 1e6 weights in the fc
    with pytest.raises(InceptcostError, match="GiB"):
        build_model(graph)


def test_aux_heads_are_built_only_when_asked():
    spec = load_spec(next(p for p in SPECS if p.stem == "googlenet"))
    totals = summarize(compile_graph(spec))
    model = build_model(spec).train()  # no aux heads: training mode gives the logits alone
    assert model.aux_names == [] and isinstance(model(torch.randn(1, *spec.input)), torch.Tensor)
    assert sum(p.numel() for p in model.parameters()) == totals["params"]
    with_aux = build_model(spec, aux=True)
    assert sum(p.numel() for p in with_aux.parameters()) == totals["params"] + totals["params_aux"] > totals["params"]
