"""`inceptcost import` of residual blocks (nets.py's tiny ResNet: torchvision's BasicBlock with its sibling
norms and downsample projection, timm's `out * scale + x` after a concat, Xception's standalone ReLU first):
each add becomes a `residual` block whose spec gives the source's numel() and fvcore's MACs and, with the
source's weights loaded from a file (every norm's statistics random, so a tensor in the wrong place shows),
the source's logits."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
fvcore_nn = pytest.importorskip("fvcore.nn")

from support import interop_net  # noqa: E402

from inceptcost import build_model, compile_graph, load_spec, summarize  # noqa: E402
from inceptcost.train.weights import load_weights  # noqa: E402

NETS = Path(__file__).with_name("nets.py")


def randomize(model, seed=0):
    """Every parameter and every norm's running statistics drawn at random (variances positive)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) + 0.5 if name.endswith("running_var") else
                        torch.randn(t.shape, generator=g) * 0.3)  # fmt: skip
    return model


def walk(layers):
    for layer in layers:
        yield layer
        for child in (*layer.children, *(layer.shortcut.children if layer.shortcut else ())):
            yield from walk([child])


@pytest.mark.parametrize("factory", ["make_resnet", "make_residual"])
def test_residual_blocks_import_with_the_sources_params_macs_and_logits(cli, tmp_path, factory):
    out = tmp_path / "net.yaml"
    result = cli("import", f"{NETS}:{factory}", "--out", out, "--input", "32x32x3")
    assert result.exit_code == 0, result.output
    spec = load_spec(out)
    source = randomize(interop_net(factory)).eval()
    totals = summarize(compile_graph(spec))
    assert totals["params"] == sum(p.numel() for p in source.parameters())
    counter = fvcore_nn.FlopCountAnalysis(source, torch.randn(1, 3, 32, 32))
    counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    by_op = counter.by_operator()
    assert by_op.get("conv", 0) + by_op.get("linear", 0) + by_op.get("addmm", 0) == totals["macs"]
    torch.save(source.state_dict(), tmp_path / "source.pth")
    ours = build_model(spec).eval()
    assert load_weights(ours, tmp_path / "source.pth") == "module paths"
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), source(x), atol=1e-5, rtol=1e-5)
    assert cli("analyze", out).exit_code == 0


def test_the_blocks_have_the_sources_form(cli, tmp_path):
    out = tmp_path / "net.yaml"
    assert cli("import", f"{NETS}:make_resnet", "--out", out, "--input", "32x32x3").exit_code == 0
    spec = load_spec(out)
    blocks = {node.name: node for node in walk(spec.body.children) if node.kind == "residual"}
    assert sorted(blocks) == ["block", "layer1_0", "layer1_1", "pre"]
    # layer1_0: identity; layer1_1: the downsample (conv + bn, no activation); relu after both adds
    assert blocks["layer1_0"].shortcut is None and blocks["layer1_0"].args == {"scale": 1.0, "activation": "relu"}
    (proj,) = blocks["layer1_1"].shortcut.children
    assert proj.name == "downsample_0" and proj.args["stride"] == (2, 2)
    assert proj.args["norm"] == "bn" and proj.args["activation"] == "none"
    assert blocks["block"].args == {"scale": 0.17, "activation": "relu"}
    assert [c.kind for c in blocks["block"].children] == ["parallel", "conv"]
    assert blocks["pre"].args == {"scale": 1.0, "activation": "none"}
    assert [c.kind for c in blocks["pre"].children] == ["activation", "conv", "conv"]  # the ReLU stands alone
