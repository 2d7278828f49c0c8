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
