"""The JSON totals of every shipped spec against independent counters on the compiled torch model:
numel() of its parameters, fvcore's FlopCountAnalysis (conv and linear handles) and torch.utils.flop_counter
(FLOPs / 2). None of them reads inceptcost's cost rules."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
MAC_OPERATORS = ("conv", "linear", "addmm", "matmul", "mm", "bmm")


def test_the_specs_folder_is_not_empty():
    assert len(SPECS) >= 5


# The forward passes (fvcore, flop_counter) of the 299-px nets run at 107 px without aux heads, to keep the
# suite fast on 2 cores; their full-size MACs are checked against fvcore in tests/graph/test_reference_nets.py.
REDUCED = 107


@pytest.mark.slow
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_json_totals_equal_numel_fvcore_and_flop_counter(run, path):
    torch = pytest.importorskip("torch")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    from dataclasses import replace

    from torch.utils.flop_counter import FlopCounterMode

    from inceptcost import build_model, compile_graph, load_spec, summarize

    result = run("analyze", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]

    spec = load_spec(path)
    big = spec.input[1] > 224
    with torch.device("meta") if big else contextlib.nullcontext():  # meta: numel() without allocating
        model = build_model(spec, aux=True)
    aux = tuple(f"{name}." for name in model.aux_names)
    main = sum(p.numel() for n, p in model.named_parameters() if not n.startswith(aux))
    everything = sum(p.numel() for p in model.parameters())
    assert totals["params"] == main
    assert totals["params"] + totals["params_aux"] == everything

    if big:
        spec = replace(spec, input=(spec.input[0], REDUCED, REDUCED), aux=())
        totals = summarize(compile_graph(spec))
        model = build_model(spec)
    model.eval()
    x = torch.zeros(1, *spec.input)
    with torch.no_grad():
        fca = fvcore_nn.FlopCountAnalysis(model, x)
        fca.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        fvcore_macs = sum(v for k, v in fca.by_operator().items() if k in MAC_OPERATORS)
        counter = FlopCounterMode(display=False)
        with counter:
            model(x)
    assert totals["macs"] == fvcore_macs
    assert totals["flops"] == counter.get_total_flops() == 2 * totals["macs"]
