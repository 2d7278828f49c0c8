"""The README's promises: its test command is the one CI runs, and its example spec compiles as shown."""

from __future__ import annotations

import re

from support import ROOT

from inceptcost import compile_graph, load_spec, summarize

README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.DOTALL)
    test_command = next(b for b in blocks if "pytest" in b)
    ci = (ROOT / ".ci/run").read_text().splitlines()
    assert test_command.strip() in [line.strip() for line in ci]


def test_readme_example_spec_compiles(tmp_path):
    example = re.search(r"```yaml\n(input:.*?)\n```", README, re.DOTALL).group(1)
    path = tmp_path / "example.yaml"
    path.write_text(example)
    totals = summarize(compile_graph(load_spec(path)))
    assert totals["macs"] < 1.5e9 and totals["within_budget"]


def test_readme_residual_example_compiles(tmp_path):
    """The residual blocks shown in the README, on the 35x35x320 grid that block35 runs at in Inception-ResNet-v2."""
    rows = re.search(r"```yaml\n(  - name: block35_1\n.*?)\n```", README, re.DOTALL).group(1)
    path = tmp_path / "residual.yaml"
    path.write_text(
        f"input: 35x35x320\nclasses: 10\nlayers:\n{rows}\n  - {{name: gap, type: gap}}\n  - {{name: fc, type: linear}}\n"
    )
    graph = compile_graph(load_spec(path))
    assert graph.nodes["block35_1.add"]["out_shape"] == (320, 35, 35)
    assert graph.nodes["block1.add"]["out_shape"] == (128, 18, 18)
