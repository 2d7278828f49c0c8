"""specs/googlenet-torchvision.yaml against torchvision's GoogLeNet.

Independent truths: torchvision publishes 6,624,904 parameters for googlenet (GoogLeNet_Weights.IMAGENET1K_V1
meta["num_params"], aux heads dropped) and 1.498 GMACs ("_ops"); with aux_logits=True the model has 13,004,888.
Where torchvision is importable, its state_dict loads into our compiled model through a name mapping and both
give the same logits.
"""

from __future__ import annotations

import pytest
from support import ROOT

from inceptcost import compile_graph, load_spec, summarize
from inceptcost.train.names import torchvision_googlenet

SPEC = ROOT / "specs/googlenet-torchvision.yaml"


def test_parameter_counts_match_torchvisions_published_figures():
    totals = summarize(compile_graph(load_spec(SPEC)))
    assert totals["params"] == 6_624_904
    assert totals["params"] + totals["params_aux"] == 13_004_888
    assert round(totals["macs"] / 1e9, 3) == 1.498


def test_torchvision_weights_load_and_give_the_same_logits():
    torch = pytest.importorskip("torch")
    models = pytest.importorskip("torchvision.models")
    from inceptcost import build_model

    torch.manual_seed(0)
    reference = models.googlenet(weights=None, aux_logits=True, init_weights=True).eval()
    ours = build_model(load_spec(SPEC), aux=True).eval()
    theirs = reference.state_dict()
    mapped = {name: theirs[torchvision_googlenet(name)] for name in ours.state_dict()}
    assert len(mapped) == len(theirs)  # every tensor of theirs is used exactly once
    ours.load_state_dict(mapped, strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), atol=1e-5, rtol=0)


def test_a_torchvision_state_dict_file_loads_through_weights(tmp_path):
    """What `--weights FILE` does with a torchvision googlenet file: every tensor found, the same logits."""
    torch = pytest.importorskip("torch")
    models = pytest.importorskip("torchvision.models")
    from inceptcost import build_model
    from inceptcost.train.weights import load_weights

    torch.manual_seed(1)
    reference = models.googlenet(weights=None, aux_logits=True, init_weights=True).eval()
    torch.save(reference.state_dict(), tmp_path / "googlenet.pth")
    ours = build_model(load_spec(SPEC), aux=True).eval()
    assert load_weights(ours, tmp_path / "googlenet.pth") == "torchvision googlenet"
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), atol=1e-5, rtol=0)
