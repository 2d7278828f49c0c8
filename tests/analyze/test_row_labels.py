"""Row types in the analyze table and JSON: a written `sequence` row is labelled by its layers (not by its
first layer alone, nor given the patch of one of them), and a residual block says so."""

from __future__ import annotations

import json

SPEC = """
input: 16x16x3
classes: 10
layers:
  - {name: stem, type: sequence, layers: [{type: conv, kernel: 3, out: 8}, {type: maxpool, patch: 2x2/2}]}
  - {name: c2, type: conv, kernel: 3, out: 8, reduce: 4}
  - {name: res, type: residual, body: [{type: relu}, {type: conv, kernel: 3, out: 8}]}
  - {type: gap}
  - {type: linear}
"""


def test_sequence_and_residual_rows_are_labelled_by_what_they_hold(run, spec_file):
    result = run("analyze", spec_file(SPEC), "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["layers"]}
    assert (rows["stem"]["type"], rows["stem"]["patch"]) == ("convolution + max pool", None)
    assert (rows["c2"]["type"], rows["c2"]["patch"]) == ("convolution", "3x3/1")  # the reduce sugar: one conv row
    assert (rows["res"]["type"], rows["res"]["patch"]) == ("residual block", None)
    table = run("analyze", spec_file(SPEC)).stdout
    stem_line = next(line for line in table.splitlines() if line.strip().startswith("stem"))
    assert "sequence" in stem_line and "max 3x3" not in stem_line
