"""`inceptcost export`: every shipped spec to ONNX (checked by onnx's checker, run by ONNX Runtime, the logits
equal torch's) and TorchScript (reloaded by torch.jit, same logits), with our layer names in the file."""

from __future__ import annotations

import io
import sys

import pytest
from support import SPECS

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from inceptcost import build_model, compile_graph, load_spec  # noqa: E402
from inceptcost.graph.compile import op_nodes  # noqa: E402
from inceptcost.interop import export  # noqa: E402


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_shipped_spec_exports_to_onnx_with_the_same_logits_and_our_names(path):
    spec = load_spec(path)
    torch.manual_seed(0)
    model = build_model(spec).eval()
    data = export.to_onnx(model, export.example_input(spec, 2))
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = torch.randn(1, *spec.input)  # another batch than the exported example: the batch is dynamic
    (got,) = session.run(None, {export.INPUT: x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(got), model(x), atol=1e-4, rtol=0)
    nodes = [n.name for n in proto.graph.node]
    convs = [n["name"] for n in op_nodes(compile_graph(spec)) if n["op"] == "conv"]
    for name in convs:  # the exporter names nodes by module path: /inception3a/b1x1/conv/conv/Conv
        assert any(node.startswith("/" + name.replace(".", "/") + "/conv/Conv") for node in nodes), name


def test_torchscript_reloads_with_our_module_names_and_the_same_logits(root):
    spec = load_spec(root / "specs/variant.yaml")
    model = build_model(spec).eval()
    loaded = torch.jit.load(io.BytesIO(export.to_torchscript(model, export.example_input(spec, 1))))
    x = torch.randn(3, *spec.input)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), atol=1e-5, rtol=0)
    names = {n for n, _ in loaded.named_modules()}
    assert {"inception_5a.b5x5.conv.conv", "linear"} <= names
    assert not any(n.startswith("aux") for n in names)  # aux heads are left out


def test_export_command_writes_a_checked_file_and_says_what_it_holds(cli, root, tmp_path):
    out = tmp_path / "variant.onnx"
    result = cli("export", root / "specs/variant.yaml", "--format", "onnx", "--out", out, "--batch", "2")
    assert result.exit_code == 0, result.output
    assert "passes onnx.checker" in result.output and "dynamic batch" in result.output
    onnx.checker.check_model(onnx.load(out))
    assert [d.dim_param for d in onnx.load(out).graph.input[0].type.tensor_type.shape.dim][0] == "batch"


def test_a_missing_onnx_package_is_one_line_naming_the_extra(cli, root, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    out = tmp_path / "x.onnx"
    result = cli("export", root / "specs/variant.yaml", "--format", "onnx", "--out", out)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --format onnx needs the optional package 'onnx', which is not installed; pip install 'inceptcost[onnx]'"
    ]
    assert not out.exists()
