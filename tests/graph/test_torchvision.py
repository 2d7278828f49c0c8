"""specs/googlenet-torchvision.yaml against torchvision's GoogLeNet.

Independent truths: torchvision publishes 6,624,904 parameters for googlenet (GoogLeNet_Weights.IMAGENET1K_V1
meta["num_params"], aux heads dropped) and 1.498 GMACs ("_ops"); with aux_logits=True the model has 13,004,888.
Where torchvision is importable, its state_dict loads into our compiled model through a name mapping and both
give the same logits.
"""

from __future__ import annotations

import re

import pytest
from support import ROOT

from inceptcost import compile_graph, load_spec, summarize

SPEC = ROOT / "specs/googlenet-torchvision.yaml"


def test_parameter_counts_match_torchvisions_published_figures():
    totals = summarize(compile_graph(load_spec(SPEC)))
    assert totals["params"] == 6_624_904
    assert totals["params"] + totals["params_aux"] == 13_004_888
    assert round(totals["macs"] / 1e9, 3) == 1.498


# Our dotted names -> torchvision's module paths (branch1..4 hold BasicConv2d units or Sequentials of them).
_RENAMES = [
    (r"\.b1x1\.conv\.", ".branch1."),
    (r"\.b3x3\.reduce\.", ".branch2.0."),
    (r"\.b3x3\.conv\.", ".branch2.1."),
    (r"\.b5x5\.reduce\.", ".branch3.0."),
    (r"\.b5x5\.conv\.", ".branch3.1."),
    (r"\.bpool\.proj\.", ".branch4.1."),
]


def to_torchvision(name: str) -> str:
    for pattern, repl in _RENAMES:
        name = re.sub(pattern, repl, name)
    return name


def test_torchvision_weights_load_and_give_the_same_logits():
    torch = pytest.importorskip("torch")
    models = pytest.importorskip("torchvision.models")
    from inceptcost import build_model

    torch.manual_seed(0)
    reference = models.googlenet(weights=None, aux_logits=True, init_weights=True).eval()
    ours = build_model(load_spec(SPEC)).eval()
    theirs = reference.state_dict()
    mapped = {name: theirs[to_torchvision(name)] for name in ours.state_dict()}
    assert len(mapped) == len(theirs)  # every tensor of theirs is used exactly once
    ours.load_state_dict(mapped, strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), atol=1e-5, rtol=0)
