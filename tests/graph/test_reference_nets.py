"""The later Inception family against reference implementations: torchvision's inception_v3 and timm's
inception_v4, inception_resnet_v2 and legacy_xception (random init, nothing downloaded).

For each: analytic params == our compiled model's numel() == the reference's numel(); analytic MACs == fvcore
(conv + linear) on our model == fvcore on the reference; and the reference's weights, loaded into our model
through a name map, give the same logits in eval mode. The name map pairs the two state_dicts in definition
order, after moving the few modules that the reference defines in another order than it runs them (torchvision's
aux head, Xception's shortcut); every pair must have the same tensor kind (weight, bias, running_mean, ...) and
shape, and the logits then show that the pairing is the right one.

Runs where torchvision and timm are importable (CI's reference environment); skipped elsewhere.
"""

from __future__ import annotations

import re

import pytest
from support import ROOT

from inceptcost import build_model, compile_graph, load_spec, summarize

torch = pytest.importorskip("torch")
fvcore_nn = pytest.importorskip("fvcore.nn")
MAC_OPERATORS = ("conv", "linear", "addmm", "matmul")


def _torchvision_v3():
    models = pytest.importorskip("torchvision.models")
    return models.inception_v3(weights=None, aux_logits=True, init_weights=True)


def _timm(name: str):
    timm = pytest.importorskip("timm")
    return lambda: timm.create_model(name, pretrained=False)


def _aux_last(keys: list[str]) -> list[str]:
    """torchvision defines AuxLogits before Mixed_7a but our aux heads come after the main net."""
    return [k for k in keys if not k.startswith("AuxLogits.")] + [k for k in keys if k.startswith("AuxLogits.")]


def _shortcut_last(keys: list[str]) -> list[str]:
    """timm's Xception blocks define `skip`/`skipbn` before `rep`; our blocks list the body first."""
    out: list[str] = []
    for block in dict.fromkeys(k.split(".")[0] for k in keys):
        own = [k for k in keys if k.split(".")[0] == block]
        out += [k for k in own if not re.match(r"[^.]+\.skip", k)] + [k for k in own if re.match(r"[^.]+\.skip", k)]
    return out


# spec, reference factory, reorder of the reference's keys, (params without aux, with aux) published or known
NETS = {
    "inception-v3": ("inception-v3.yaml", _torchvision_v3, _aux_last, (23_834_568, 27_161_264)),
    "inception-v4": ("inception-v4.yaml", _timm("inception_v4"), list, (42_679_816, 42_679_816)),
    "inception-resnet-v2": ("inception-resnet-v2.yaml", _timm("inception_resnet_v2"), list, (55_843_464, 55_843_464)),
    "xception": ("xception.yaml", _timm("legacy_xception"), _shortcut_last, (22_855_952, 22_855_952)),
}


def name_map(ours: dict, theirs: dict, order) -> dict[str, str]:
    """Our state_dict name -> the reference's, paired in order; each pair checked for kind and shape."""
    mine, other = list(ours), order(list(theirs))
    assert len(mine) == len(other), f"{len(mine)} tensors in ours, {len(other)} in the reference"
    pairs = dict(zip(mine, other, strict=True))
    bad = [
        (a, b)
        for a, b in pairs.items()
        if a.rsplit(".", 1)[-1] != b.rsplit(".", 1)[-1] or ours[a].shape != theirs[b].shape
    ]
    assert not bad, f"{len(bad)} pairs differ, first: {bad[:3]}"
    return pairs


def _fvcore_macs(model, size: int) -> int:
    with torch.no_grad():
        fca = fvcore_nn.FlopCountAnalysis(model.eval(), torch.zeros(1, 3, size, size))
        fca.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return sum(v for k, v in fca.by_operator().items() if k in MAC_OPERATORS)


@pytest.fixture(scope="module", params=sorted(NETS))
def pair(request):
    spec_file, factory, order, published = NETS[request.param]
    torch.manual_seed(0)
    reference = factory().eval()
    spec = load_spec(ROOT / "specs" / spec_file)
    graph = compile_graph(spec)
    ours = build_model(graph, aux=True).eval()
    return request.param, spec, summarize(graph), ours, reference, order, published


def test_params_equal_numel_and_the_reference(pair):
    name, _, totals, ours, reference, _, (main, with_aux) = pair
    aux = tuple(f"{h}." for h in ours.aux_names)
    ours_main = sum(p.numel() for n, p in ours.named_parameters() if not n.startswith(aux))
    ref_main = sum(p.numel() for n, p in reference.named_parameters() if not n.startswith("AuxLogits."))
    assert totals["params"] == ours_main == ref_main == main
    assert totals["params"] + totals["params_aux"] == sum(p.numel() for p in ours.parameters()) == with_aux
    assert sum(p.numel() for p in reference.parameters()) == with_aux


def test_macs_equal_fvcore_on_ours_and_the_reference(pair):
    _, spec, totals, ours, reference, _, _ = pair
    size = spec.input[1]
    assert totals["macs"] == _fvcore_macs(ours, size) == _fvcore_macs(reference, size)


def test_reference_weights_give_the_same_logits(pair):
    _, spec, _, ours, reference, order, _ = pair
    theirs = reference.state_dict()
    # BatchNorm statistics other than 0/1, so that a wrongly paired norm layer shows in the logits
    with torch.no_grad():
        for key, value in theirs.items():
            if key.endswith("running_mean"):
                value.normal_(0, 0.1)
            elif key.endswith("running_var"):
                value.uniform_(0.5, 1.5)
    pairs = name_map(ours.state_dict(), theirs, order)
    ours.load_state_dict({a: theirs[b] for a, b in pairs.items()}, strict=True)
    x = torch.randn(2, *spec.input)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), atol=1e-4, rtol=0)
