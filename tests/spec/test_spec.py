"""The spec language: Table 1's row form and its spellings, sugar expansion, and hand-computed tiny nets."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import ROOT

from inceptcost import compile_graph, load_spec, summarize
from inceptcost.analyze.costs import node_records

ROW = "{name: m, type: inception, %s}"
PAPER_SPELLINGS = '"#1x1": 64, "#3x3 reduce": 96, "#3x3": 128, "#5x5 reduce": 16, "#5x5": 32, pool proj: 32'
SHORT_SPELLINGS = "1x1: 64, 3x3reduce: 96, 3x3: 128, 5x5reduce: 16, 5x5: 32, poolproj: 32"
GENERAL = """{name: m, type: parallel, branches: {
      b1x1: [{name: conv, type: conv, kernel: 1, out: 64}],
      b3x3: [{name: reduce, type: conv, kernel: 1, out: 96}, {name: conv, type: conv, kernel: 3, out: 128}],
      b5x5: [{name: reduce, type: conv, kernel: 1, out: 16}, {name: conv, type: conv, kernel: 5, out: 32}],
      bpool: [{name: pool, type: maxpool, patch: 3x3/1, padding: 1}, {name: proj, type: conv, kernel: 1, out: 32}]}}"""


def one_module(write_spec, row: str, name: str):
    text = f"input: 28x28x192\nlayers:\n  - {row}\n  - {{name: gap, type: gap}}\n  - {{name: fc, type: linear}}\n"
    return compile_graph(load_spec(write_spec(text, name)))


def test_row_form_spellings_and_general_form_compile_to_the_same_graph(write_spec):
    graphs = [
        one_module(write_spec, ROW % PAPER_SPELLINGS, "paper.yaml"),
        one_module(write_spec, ROW % SHORT_SPELLINGS, "short.yaml"),
        one_module(write_spec, GENERAL, "general.yaml"),
    ]
    shapes = [{n: (a["op"], a["out_shape"], a["params"], a["macs"]) for n, a in g.nodes(data=True)} for g in graphs]
    assert shapes[0] == shapes[1] == shapes[2]
    # inception (3a) from Table 1: 163,328 weights (159.5K) and 28x28x256 out, by hand from the widths.
    m = [a for a in node_records(graphs[0]) if a["module"] == "m"]
    assert sum(a["weights"] for a in m) == 192 * (64 + 96 + 16 + 32) + 9 * 96 * 128 + 25 * 16 * 32
    assert graphs[0].nodes["m.concat"]["out_shape"] == (64 + 128 + 32 + 32, 28, 28)


def test_naive_module_passes_the_pool_through(write_spec):
    g = one_module(write_spec, ROW % "naive: true, 1x1: 64, 3x3: 128, 5x5: 32", "naive.yaml")
    assert g.nodes["m.concat"]["out_shape"] == (64 + 128 + 32 + 192, 28, 28)  # Figure 2(a): pool keeps 192
    assert summarize(g)["macs"] == 28 * 28 * 192 * (64 + 9 * 128 + 25 * 32) + 416 * 1000


def test_hand_computed_tiny_net(write_spec):
    path = write_spec(
        """
        input: 8x8x3
        classes: 10
        defaults: {bias: true}
        layers:
          - {name: conv, type: conv, kernel: 3, out: 4}
          - {name: pool, type: maxpool, patch: 3x3/2, ceil: true}
          - {name: sep, type: conv, kernel: 3, out: 6, multiplier: 2, norm: bn}
          - {name: fc, type: linear}
        """
    )
    g = compile_graph(load_spec(path))
    conv, pool = g.nodes["conv"], g.nodes["pool"]
    assert (conv["out_shape"], conv["weights"], conv["biases"], conv["macs"]) == ((4, 8, 8), 108, 4, 64 * 108)
    assert pool["out_shape"] == (4, 4, 4)  # ceil((8 - 3) / 2) + 1 = 4 (floor mode would give 3)
    dw, pw = g.nodes["sep.depthwise"], g.nodes["sep.pointwise"]
    assert (dw["out_shape"], dw["weights"], dw["args"]["groups"]) == ((8, 4, 4), 8 * 9, 4)
    assert (pw["weights"], pw["norm_params"], pw["macs"]) == (8 * 6, 2 * 6, 16 * 48)
    t = summarize(g)
    assert t["params"] == (108 + 4) + (72 + 8) + (48 + 6 + 12) + (96 * 10 + 10)
    assert t["macs"] == 64 * 108 + 16 * 72 + 16 * 48 + 960


def test_paper_values_are_parsed_in_table_1s_units():
    spec = load_spec(ROOT / "specs/googlenet.yaml")
    row = next(r for r in spec.body.children if r.name == "inception_3a")
    assert row.paper.params == 159 * 1024 and row.paper.ops == 128e6 and row.paper.output == (28, 28, 256)
    assert spec.budget_macs == 1.5e9
    assert [h.at for h in spec.aux] == ["inception_4a", "inception_4d"]


def test_static_path_never_imports_torch():
    code = (
        "import sys; from inceptcost import load_spec, compile_graph, summarize, costs_table, row_costs;"
        "from inceptcost.cli import app;"  # every command module, as the full app loads them
        f"g = compile_graph(load_spec({str(ROOT / 'specs/googlenet.yaml')!r})); summarize(g); costs_table(g);"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_costs_table_is_a_dataframe_indexed_by_dotted_name():
    from inceptcost import costs_table

    graph = compile_graph(load_spec(ROOT / "specs/googlenet.yaml"))
    df = costs_table(graph)
    assert df.loc["inception_4e.b3x3.reduce", "out_shape"] == "14x14x160"
    assert df.loc["inception_4e.b3x3.reduce", "macs"] == 14 * 14 * 528 * 160
    assert df["aux"].isna().all() and df["macs"].sum() == summarize(graph)["macs"]  # aux heads only when asked
    with_aux = costs_table(graph, aux=True)
    assert with_aux.loc[with_aux["aux"].notna(), "macs"].sum() == summarize(graph)["macs_aux"] > 0


def test_a_shipped_spec_is_found_by_name_from_any_folder_and_a_file_wins(tmp_path, monkeypatch):
    from inceptcost.errors import SpecError

    monkeypatch.chdir(tmp_path)
    by_name = load_spec("googlenet")
    assert by_name.file == str(ROOT / "specs" / "googlenet.yaml")
    assert load_spec("googlenet.yaml").file == by_name.file
    (tmp_path / "googlenet").write_text(
        "name: mine\ninput: 8x8x3\nclasses: 2\nlayers:\n  - {type: gap}\n  - {type: linear}\n"
    )
    assert load_spec("googlenet").name == "mine"  # the file in the folder, not the shipped spec
    with pytest.raises(SpecError, match="no such file"):
        load_spec("sub/googlenet")  # a path with a folder is never looked up by name
