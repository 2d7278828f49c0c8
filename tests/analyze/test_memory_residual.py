"""Saved bytes of the residual add, standalone BN and activations and separable convs, held exactly to
saved-tensor hooks on tiny nets (CPU, fp32 and bf16 autocast): identity and projection shortcuts, a scaled
body, every activation after the add, an fp32 shortcut beside a bf16 body (the add widens)."""

from __future__ import annotations

import pytest

from inceptcost import compile_graph, load_spec
from inceptcost.analyze.memory import Setup, memory
from inceptcost.train.bench.memory_check import measured_saved

HEAD = "name: tiny\ninput: 12x12x3\nclasses: 5\ndefaults: {activation: relu, bias: false, norm: bn}\nlayers:\n"
TAIL = "  - {name: gap, type: adaptive_avgpool}\n  - {name: flat, type: flatten}\n  - {name: fc, type: linear, out: 5, activation: none}\n"
NETS = {
    # the block's input is the image itself: an fp32 shortcut beside a bf16 body under autocast
    "identity-on-image": """  - {name: r, type: residual, body: [{name: c, type: conv, kernel: 3, out: 3}]}
""",
    "identity-scaled-relu": """  - {name: stem, type: conv, kernel: 3, out: 8}
  - {name: r, type: residual, scale: 0.2, activation: relu, body: [
      {name: c1, type: conv, kernel: 1, out: 4}, {name: c2, type: conv, kernel: 3, out: 8, activation: none}]}
""",
    "projection": """  - {name: stem, type: conv, kernel: 3, out: 8}
  - {name: r, type: residual, body: [{name: c, type: conv, patch: 3x3/2, out: 16, activation: none}],
     shortcut: [{name: p, type: conv, patch: 1x1/2, out: 16, activation: none}]}
""",
    "standalone-bn-relu-separable": """  - {name: stem, type: conv, kernel: 3, out: 8, norm: none, activation: none}
  - {name: r, type: residual, body: [
      {name: a, type: relu}, {name: s1, type: separable, kernel: 3, out: 8, activation: none},
      {name: b, type: bn}, {name: a2, type: relu}, {name: s2, type: separable, kernel: 3, out: 8}]}
  - {name: bn, type: bn}
  - {name: act, type: relu}
""",
}
for act in ("relu6", "silu", "gelu", "sigmoid", "tanh"):
    NETS[f"add-then-{act}"] = f"""  - {{name: stem, type: conv, kernel: 3, out: 8}}
  - {{name: r, type: residual, scale: 0.5, activation: {act}, body: [{{name: c, type: conv, kernel: 3, out: 8}}]}}
  - {{name: a, type: {act}}}
"""


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("net", NETS)
def test_tiny_residual_saved_bytes_equal_saved_tensor_hooks(tmp_path, net, dtype):
    path = tmp_path / f"{net}.yaml"
    path.write_text(HEAD + NETS[net] + TAIL)
    graph = compile_graph(load_spec(path))
    setup = Setup.checked(2, dtype, "train", "sgd", "cpu")
    predicted = {r["name"]: r["saved_bytes"] for r in memory(graph, setup).rows if r["saved_bytes"]}
    assert predicted == measured_saved(graph, setup)
    assert any(graph.nodes[n]["op"] == "add" for n in graph)
