"""Round trip against the references: torchvision's GoogLeNet, Inception-v3 and ResNet-18, timm's Inception-v4,
Inception-ResNet-v2 and (legacy) Xception, imported to specs, give the reference's numel(), fvcore's MACs,
and (with the reference's weights loaded from a file through `--weights`'s name maps, every norm's statistics
drawn at random so that a tensor in the wrong place shows) the reference's logits. Runs where torchvision,
timm and fvcore are installed (CI's reference environment)."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")
fvcore_nn = pytest.importorskip("fvcore.nn")

from inceptcost import build_model, compile_graph, load_spec, summarize  # noqa: E402
from inceptcost.interop.fximport import import_model  # noqa: E402
from inceptcost.train.weights import load_weights  # noqa: E402


def _reference(factory, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if factory.startswith("timm:"):
            return timm.create_model(factory[5:], pretrained=False, **kw)
        return getattr(torchvision.models, factory.rsplit(".", 1)[1])(weights=None, **kw)


CASES = [
    # factory, input (C, H, W), published params of the main net (torchvision's weight metadata; timm's count)
    ("torchvision.models.googlenet", (3, 224, 224), 6_624_904),
    ("torchvision.models.inception_v3", (3, 299, 299), 27_161_264),
    ("timm:inception_v4", (3, 299, 299), None),
    ("torchvision.models.resnet18", (3, 224, 224), 11_689_512),
    ("timm:inception_resnet_v2", (3, 299, 299), None),
    ("timm:legacy_xception", (3, 299, 299), None),
]


def _randomize_norms(model):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                for t in (m.weight, m.running_var):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                for t in (m.bias, m.running_mean):
                    t.copy_(torch.randn(t.shape, generator=g) * 0.1)
    return model


@pytest.mark.slow
@pytest.mark.parametrize(("factory", "chw", "published"), CASES, ids=lambda v: str(v).rsplit(".", 1)[-1])
def test_imported_reference_gives_its_params_macs_and_logits(factory, chw, published, tmp_path):
    text, _ = import_model(factory)
    path = tmp_path / "imported.yaml"
    path.write_text(text)
    spec = load_spec(path)
    assert spec.input == chw
    totals = summarize(compile_graph(spec))
    torch.manual_seed(0)
    reference = _reference(factory).eval()  # the factory's defaults: aux heads where it has them
    assert totals["params"] + totals["params_aux"] == sum(p.numel() for p in reference.parameters())
    if factory.startswith("torchvision") and "resnet" in factory:
        assert totals["params"] == published
    elif factory.startswith("torchvision"):
        without_aux = _reference(factory, aux_logits=False, init_weights=False)
        assert totals["params"] == sum(p.numel() for p in without_aux.parameters())
        if factory.endswith("googlenet"):
            assert totals["params"] == published  # inception_v3's published figure counts its aux head
        else:
            assert totals["params"] + totals["params_aux"] == published
    x = torch.randn(1, *chw)
    counter = fvcore_nn.FlopCountAnalysis(reference, x)
    counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    by_op = counter.by_operator()
    assert by_op.get("conv", 0) + by_op.get("linear", 0) + by_op.get("addmm", 0) == totals["macs"]
    torch.save(_randomize_norms(reference).state_dict(), tmp_path / "reference.pth")
    ours = build_model(spec, aux=True).eval()
    assert load_weights(ours, tmp_path / "reference.pth") == "module paths"
    x = torch.randn(2, *chw)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("timm:no_such_net", "timm has no model 'no_such_net'"),
        ("timm:inception_v5", "did you mean"),  # close to timm's inception_v3 and inception_v4
        ("timm:", "no timm model named"),
    ],
)
def test_an_unknown_timm_name_is_one_line(target, words):
    from typer.testing import CliRunner

    from inceptcost.cli import app

    r = CliRunner().invoke(app, ["import", target, "--out", "never.yaml"])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: ") and words in line, line
