"""`inceptcost import`: a torch model (here small ones in nets.py) -> a spec; checked against the source's own
numel() and logits; every op the spec language lacks is one line naming it and its module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from support import interop_net  # noqa: E402

from inceptcost import build_model, compile_graph, load_spec, summarize  # noqa: E402
from inceptcost.train.weights import load_weights  # noqa: E402

NETS = Path(__file__).with_name("nets.py")


def test_a_file_factory_imports_to_a_spec_that_analyze_train_and_weights_take(cli, tmp_path):
    out = tmp_path / "net.yaml"
    result = cli("import", f"{NETS}:make_net", "--out", out, "--input", "32x32x3")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out}: make_net: 13 layers, 1,530 params, 291,096 MACs at 32x32x3; ")
    assert "params equal the source's numel(), logits equal the source's" in result.output
    spec = load_spec(out)
    source = interop_net("make_net").eval()
    totals = summarize(compile_graph(spec))
    assert totals["params"] == sum(p.numel() for p in source.parameters())
    # MACs by hand: stem 16x16x16 x 3x3x3; block at 16x16 on 16 channels: 1x1s to 8, 4, 4, 4; 3x3 4->8;
    # 1x3 and 3x1 4->4; linear 28->10
    hand = 16 * 16 * 16 * 27 + 16 * 16 * (16 * (8 + 4 + 4 + 4) + 9 * 4 * 8 + 2 * 3 * 4 * 4) + 28 * 10
    assert totals["macs"] == hand
    text = out.read_text()
    assert "name: block" in text and "b3_2a" in text and "kernel: 1x3" in text  # names from module paths
    torch.save(source.state_dict(), tmp_path / "source.pth")
    ours = build_model(spec, aux=True).eval()
    assert load_weights(ours, tmp_path / "source.pth") == "module paths"
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), source(x), atol=1e-5, rtol=0)
    assert cli("analyze", out).exit_code == 0


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        ("make_attention", "unsupported op 'reshape'"),
        ("make_gated", "torch.fx cannot trace module 'block' (Gate)"),
        ("make_offset", "unsupported op 'add' of the tensor 'block.offset' (a parameter, not a layer's output)"),
        ("make_twice", "unsupported op 'add' of two scaled tensors"),
    ],
)
def test_what_the_spec_cannot_say_is_one_line_naming_the_op_and_module(cli, tmp_path, factory, expected):
    out = tmp_path / "x.yaml"
    result = cli("import", f"{NETS}:{factory}", "--out", out)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.output
    if factory != "make_gated":
        assert "block" in lines[0]  # the module it happened in
    assert not out.exists()


def test_bad_factories_are_one_line(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)
    wrong_input = "the model does not run on a 16x16x1 input (Given groups=1, weight of size [16, 3, 3, 3]"
    for model, *flags, expected in (
        (f"{NETS}:make_net", "--input", "16x16x1", wrong_input),
        (
            "timm:inception_v4",
            "needs the optional package 'timm', which is not installed; pip install 'inceptcost[interop]'",
        ),
        (f"{NETS}:nothing", "no 'nothing' in the file"),
        ("nowhere.py:make", "no such file"),
        ("json.nothing", "cannot find 'json.nothing'"),
    ):
        result = cli("import", model, "--out", tmp_path / "x.yaml", *flags)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
        assert expected in result.output, result.output
