"""`inceptcost diagram`: DOT source read off the IR, rendered by graphviz's `dot`.

Expected values come from the paper's Table 1 (module output shapes and ops) and from MACs worked out by hand
(conv: H_out * W_out * C_out * C_in/groups * k_h * k_w), never from the tool's own output.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inceptcost import compile_graph, load_spec
from inceptcost.analyze.diagram import PALETTE, cost_level, diagram_source, module_source, network_source
from inceptcost.cli import app

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
GOOGLENET = ROOT / "specs" / "googlenet.yaml"
SVG = "{http://www.w3.org/2000/svg}"

no_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")

# Table 1: each module's output size and, where the paper's ops agree with its own columns, its ops.
TABLE1_OUTPUT = {
    "3a": "28x28x256",
    "3b": "28x28x480",
    "4a": "14x14x512",
    "4b": "14x14x512",
    "4c": "14x14x512",
    "4d": "14x14x528",
    "4e": "14x14x832",
    "5a": "7x7x832",
    "5b": "7x7x1024",
}
TABLE1_OPS = {"3a": "128M", "3b": "304M", "4d": "119M", "4e": "170M"}


def run(*args: object):
    return CliRunner().invoke(app, ["diagram", *map(str, args)])


@pytest.fixture(scope="module")
def googlenet():
    return compile_graph(load_spec(GOOGLENET))


ID = r'(?:"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)'  # a DOT name, quoted or bare


def unquote(name: str) -> str:
    return name[1:-1].replace('\\"', '"') if name.startswith('"') else name


def dot_nodes(source: str) -> dict[str, str]:
    """DOT node name -> its attribute text, for every node statement with attributes."""
    found = {}
    for m in re.finditer(rf"^\s*({ID}) \[(.*)\]$", source, re.M):
        if m.group(1) not in ("graph", "node", "edge"):  # an edge line reads `a -> b [`: never matched
            found[unquote(m.group(1))] = m.group(2)
    return found


def dot_edges(source: str) -> dict[tuple[str, str], str]:
    """(tail, head) -> the edge's attribute text."""
    return {
        (unquote(m.group(1)), unquote(m.group(2))): m.group(3) or ""
        for m in re.finditer(rf"^\s*({ID}) -> ({ID})(?: \[(.*)\])?$", source, re.M)
    }


def cluster(source: str, name: str) -> str:
    """The attribute text of cluster `name`: its `graph [...]` line."""
    m = re.search(rf'subgraph "?{re.escape(name)}"? \{{\s*graph \[(.*)\]$', source, re.M)
    assert m, f"no cluster {name}"
    return m.group(1)


def node_fills(source: str) -> dict[str, str]:
    """DOT node name -> fillcolor, for the nodes that carry one."""
    fills = {}
    for name, values in dot_nodes(source).items():
        color = re.search(r'fillcolor="(#[0-9a-f]{6})"', values)
        if color:
            fills[name] = color.group(1)
    return fills


def luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def svg_titles(path: Path) -> tuple[set[str], set[str]]:
    """(node titles, cluster titles) of a graphviz SVG; parsing it also proves it is well-formed XML."""
    root = ET.parse(path).getroot()
    nodes, clusters = set(), set()
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if title is None:
            continue
        if g.get("class") == "node":
            nodes.add(title.text)
        elif g.get("class") == "cluster":
            clusters.add(title.text)
    return nodes, clusters


# ---- the source, without the binary ----


def test_module_clusters_are_titled_with_table1_shape_and_ops(googlenet):
    source = network_source(googlenet)
    for tag, output in TABLE1_OUTPUT.items():
        label = re.search(r"label=<(.*?)> \w+=", cluster(source, f"cluster_inception_{tag}")).group(1)
        title = re.sub("<[^>]+>", "", label)
        assert title.startswith(f"inception ({tag}) {output} · "), title
        if tag in TABLE1_OPS:
            assert title.endswith(f"{TABLE1_OPS[tag]} MACs"), title


def test_every_layer_is_a_node_and_every_tensor_edge_is_labelled(googlenet):
    source = network_source(googlenet)
    assert set(googlenet.nodes) <= set(dot_nodes(source))
    edges = dot_edges(source)
    # the paper's conv2 row: 56x56x64 from the 1x1 reduce into the 3x3 conv
    assert 'label=" 56x56x64"' in edges["conv2.reduce", "conv2.conv"]
    # 4e's 3x3 branch: the 160-wide reduction feeds the 3x3 conv (Table 1: #3x3 reduce 160)
    assert 'label=" 14x14x160"' in edges["inception_4e.b3x3.reduce", "inception_4e.b3x3.conv"]


def test_branches_side_by_side_in_paper_order(googlenet):
    source = network_source(googlenet)
    start = source[source.index("subgraph cluster_inception_3a") :]
    same = re.search(r"\{\s*rank=same\n([^}]*)\}", start).group(1)
    heads = [unquote(n.strip()) for n in same.split("\n") if n.strip()]
    assert heads == [
        "inception_3a.b1x1.conv",
        "inception_3a.b3x3.reduce",
        "inception_3a.b5x5.reduce",
        "inception_3a.bpool.pool",
    ]


def test_aux_heads_are_dashed(googlenet):
    source = network_source(googlenet)
    nodes, edges = dot_nodes(source), dot_edges(source)
    for head in ("aux1", "aux2"):
        assert 'style="rounded,dashed"' in cluster(source, f"cluster_{head}")
        assert "dashed" in nodes[f"{head}.conv"]
    # aux1 taps 4a and aux2 4d (section 5 of the paper), drawn as dashed edges
    assert "style=dashed" in edges["inception_4a.concat", "aux1.pool"]
    assert "style=dashed" in edges["inception_4d.concat", "aux2.pool"]


def test_most_expensive_layer_gets_the_darkest_fill(googlenet):
    # By hand: conv2's 3x3 conv is 56*56*192*64*9 = 346,816,512 MACs, more than any other layer of Table 1.
    assert googlenet.nodes["conv2.conv"]["macs"] == 56 * 56 * 192 * 64 * 9
    fills = node_fills(network_source(googlenet))
    darkest = min(fills.values(), key=luminance)
    assert fills["conv2.conv"] == darkest == PALETTE[-1]
    assert [n for n, c in fills.items() if c == darkest] == ["conv2.conv"]


def test_fill_never_lighter_for_more_macs(googlenet):
    fills = node_fills(network_source(googlenet))
    ranked = sorted((googlenet.nodes[n]["macs"], luminance(c)) for n, c in fills.items() if n in googlenet)
    for (m1, l1), (m2, l2) in zip(ranked, ranked[1:], strict=False):
        assert m1 == m2 or l2 <= l1, (m1, m2)


def test_cost_levels_halve():
    assert cost_level(1000, 1000) == 9
    assert cost_level(501, 1000) == 9
    assert cost_level(500, 1000) == 8  # half the top: one step lighter
    assert cost_level(250, 1000) == 7
    assert cost_level(1, 1000) == 1
    assert cost_level(0, 1000) == 0


def test_collapse_draws_each_row_as_one_node(googlenet):
    source = network_source(googlenet, collapse=True)
    assert {row.name for row in googlenet.graph["rows"]} <= set(dot_nodes(source))
    assert "inception_4e.b3x3.conv" not in source
    # Table 1: conv2 (360M) is the most expensive row, 3b (304M) the next
    fills = node_fills(source)
    assert fills["conv2"] == PALETTE[-1]
    assert luminance(fills["inception_3b"]) <= min(luminance(c) for n, c in fills.items() if n != "conv2")


@pytest.mark.parametrize("query", ["4e", "inception_4e", "Inception-4E"])
def test_module_view_names(googlenet, query):
    source = module_source(googlenet, query)
    for branch in ("b1x1", "b3x3", "b5x5", "bpool"):
        cluster(source, f"cluster_inception_4e.{branch}")
    assert "inception_4d" in source  # the previous layer, named
    assert "inception_3a" not in source


def test_module_view_branch_params_and_macs(googlenet):
    source = module_source(googlenet, "4e")
    # by hand: reduce 14*14*160*528 + conv 14*14*320*160*9 = 106,874,880 MACs;
    # weights 160*528 + 320*160*9 = 545,280, biases 160 + 320 -> 545,760 params
    label = cluster(source, "cluster_inception_4e.b3x3")
    assert "546K params" in label and "107M MACs" in label


def test_naive_twin_and_the_macs_reductions_save(googlenet):
    source = module_source(googlenet, "4e", naive=True)
    # by hand, Figure 2(a) on 4e's 14x14x528 input: 1x1 256, 3x3 320, 5x5 128 over all 528 channels
    naive = 14 * 14 * 528 * (256 + 320 * 9 + 128 * 25)
    assert naive == 655_699_968
    assert "656M MACs" in source
    assert "14x14x1232" in source  # 256 + 320 + 128 + the 528 pooled channels passed through
    nodes = dot_nodes(source)
    assert "naive:inception_4e.b3x3.conv" in nodes and "inception_4e.b3x3.reduce" in nodes
    assert "naive:inception_4e.b3x3.reduce" not in source
    assert ("naive:inception_4e.b3x3.conv", "naive:inception_4e.concat") in dot_edges(source)  # names, not ports
    saved = re.search(r"the 1x1 reductions save ([0-9.]+)M MACs", source)
    assert saved and abs(float(saved.group(1)) - (naive - 170e6) / 1e6) < 2  # Table 1: 4e is 170M


def test_torchvision_row_names_are_accepted():
    graph = compile_graph(load_spec(ROOT / "specs" / "googlenet-torchvision.yaml"))
    source = module_source(graph, "4e", naive=True)
    nodes = dot_nodes(source)
    assert "inception4e.b5x5.conv" in nodes
    # torchvision's "5x5" branch is a 3x3 conv, and so is its naive twin's
    assert "3x3 conv 128" in nodes["naive:inception4e.b5x5.conv"]


def test_option_errors(googlenet):
    from inceptcost.errors import InceptcostError

    with pytest.raises(InceptcostError, match="did you mean|expected one of"):
        module_source(googlenet, "4z")
    with pytest.raises(InceptcostError, match="not a module"):
        module_source(googlenet, "conv2")
    with pytest.raises(InceptcostError, match="add --module"):
        diagram_source(googlenet, naive=True)
    with pytest.raises(InceptcostError, match="whole network"):
        diagram_source(googlenet, module="4e", collapse=True)
    naive_net = compile_graph(load_spec(ROOT / "specs" / "googlenet-naive.yaml"))
    with pytest.raises(InceptcostError, match="already naive"):
        module_source(naive_net, "4e", naive=True)


def test_cli_bad_input_exit_2(tmp_path):
    for args in (["--module", "9z"], ["--naive"], ["--out", tmp_path / "net.jpg"], [tmp_path / "missing.yaml"]):
        result = run(GOOGLENET, *args) if args[0] != tmp_path / "missing.yaml" else run(*args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.output


def test_source_alone_needs_no_dot(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    for name in ("net.dot", "net.gv"):
        result = run(GOOGLENET, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_text().startswith("digraph googlenet {")
    result = run(GOOGLENET, "--collapse")
    assert result.exit_code == 0 and result.stdout.startswith("digraph googlenet {")


def test_missing_dot_exit_2_with_hint_and_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run(GOOGLENET, "--out", tmp_path / "net.svg")
    assert result.exit_code == 2
    assert "apt-get install graphviz" in result.stderr and result.stderr.count("\n") == 1
    assert str(tmp_path / "net.dot") in result.stderr
    assert (tmp_path / "net.dot").read_text().startswith("digraph")
    assert not (tmp_path / "net.svg").exists()


def test_static_path_does_not_import_torch():
    code = (
        "import sys; from inceptcost import compile_graph, load_spec;"
        "from inceptcost.analyze.diagram import network_source;"
        f"network_source(compile_graph(load_spec({str(GOOGLENET)!r})));"
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_diagram_reads_the_ir_not_the_analysis():
    """The diagram package imports nothing else of `inceptcost.analyze`: its costs are the IR's node attributes."""
    package = ROOT / "inceptcost" / "analyze" / "diagram"
    modules = sorted(package.glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = ["inceptcost", "analyze", "diagram"][: 4 - node.level] if node.level else []
                target = ".".join([*base, *([node.module] if node.module else [])])
                outside = target.startswith("inceptcost.analyze") and not target.startswith(
                    "inceptcost.analyze.diagram"
                )
                assert not outside, f"{path.name} imports {target}"
            elif isinstance(node, ast.Import):
                assert not any("analyze" in n.name for n in node.names), path.name


# ---- rendered by dot ----


@pytest.mark.needs_dot
@no_dot
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
@pytest.mark.parametrize("collapse", [False, True], ids=["full", "collapse"])
def test_svg_for_every_shipped_spec(tmp_path, spec, collapse):
    out = tmp_path / "net.svg"
    result = run(spec, "--out", out, *(["--collapse"] if collapse else []))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.svg"]  # written atomically, nothing left over
    nodes, clusters = svg_titles(out)
    graph = compile_graph(load_spec(spec))
    modules = [r for r in graph.graph["rows"] if r.kind == "parallel"]
    for row in modules:
        if collapse:
            assert row.name in nodes
        else:
            assert f"cluster_{row.name}" in clusters
            for name in row.nodes:  # every branch's layers and the concat
                assert name in nodes, name
    if not collapse:
        ops = [n for n in graph.nodes if graph.nodes[n]["aux"] is None]
        assert set(ops) <= nodes
    else:
        assert {r.name for r in graph.graph["rows"]} <= nodes


@pytest.mark.needs_dot
@no_dot
@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")])
def test_png_and_pdf(tmp_path, suffix, magic):
    out = tmp_path / f"4e{suffix}"
    result = run(GOOGLENET, "--module", "4e", "--naive", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)
    assert out.stat().st_size > 10_000


@pytest.mark.needs_dot
@no_dot
def test_darkest_fill_in_the_rendered_svg(tmp_path):
    out = tmp_path / "net.svg"
    assert run(GOOGLENET, "--out", out).exit_code == 0
    root = ET.parse(out).getroot()
    fills = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            shape = next((e for e in g.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon") and e.get("fill")), None)
            if shape is not None and shape.get("fill", "none").startswith("#"):
                fills[g.find(f"{SVG}title").text] = shape.get("fill")
    assert min(fills, key=lambda n: luminance(fills[n])) == "conv2.conv"  # 346,816,512 MACs by hand


@pytest.mark.needs_dot
@no_dot
def test_module_svg_has_every_branch(tmp_path):
    out = tmp_path / "4e.svg"
    assert run(GOOGLENET, "--module", "inception_4e", "--naive", "--out", out).exit_code == 0
    nodes, clusters = svg_titles(out)
    for prefix in ("", "naive:"):
        for branch in ("b1x1", "b3x3", "b5x5", "bpool"):
            assert f"cluster_{prefix}inception_4e.{branch}" in clusters
    assert "inception_4e.b3x3.reduce" in nodes and "naive:inception_4e.b3x3.conv" in nodes


# The committed drawings and the commands that make them (the manual: docs/diagrams.md).
COMMITTED = {
    "googlenet.svg": (),
    "googlenet-collapsed.svg": ("--collapse",),
    "inception-4e.svg": ("--module", "4e"),
    "inception-4e-naive.svg": ("--module", "4e", "--naive"),
}


@pytest.mark.needs_dot
@no_dot
@pytest.mark.parametrize("name", COMMITTED)
def test_committed_svgs_are_not_stale(tmp_path, name):
    committed = (ROOT / "reports" / name).read_text()
    made_by = re.search(r"Generated by graphviz version (\S+)", committed).group(1)
    local = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr
    if f"version {made_by} " not in local:
        pytest.skip(f"reports/{name} was drawn by graphviz {made_by}; this machine has {local.strip()}")
    assert run(GOOGLENET, *COMMITTED[name], "--out", tmp_path / name).exit_code == 0
    command = " ".join(("inceptcost diagram", *COMMITTED[name], "--out", f"reports/{name}"))
    assert (tmp_path / name).read_text() == committed, f"reports/{name} is stale: run `{command}`"


def test_a_residual_add_is_a_node_with_its_shortcut_edge(tmp_path):
    """The add is drawn as its own node; the shortcut (the block's input, or the projection's output) is an
    edge into it beside the body's."""
    path = tmp_path / "res.yaml"
    path.write_text(
        "input: 8x8x4\nclasses: 3\nlayers:\n"
        "  - {name: stem, type: conv, kernel: 3, out: 8}\n"
        "  - {name: r1, type: residual, scale: 0.2, activation: relu, body: [{name: c, type: conv, kernel: 3, out: 8}]}\n"
        "  - {name: r2, type: residual, body: [{name: c, type: conv, patch: 3x3/2, out: 16}],"
        " shortcut: [{name: p, type: conv, patch: 1x1/2, out: 16, activation: none}]}\n"
        "  - {name: gap, type: gap}\n  - {name: fc, type: linear}\n"
    )
    source = network_source(compile_graph(load_spec(path)))
    node = re.search(r'^\s*"r1\.add" \[(.*)\]$', source, re.M).group(1)
    assert 'label="+"' in node and 'xlabel="add (body x0.2), relu"' in node
    edges = set(re.findall(r'^\s*"?([^"\s]+)"? -> "?([^"\s]+)"? \[([^\]]*)\]', source, re.M))
    shortcut = {(a, b) for a, b, attrs in edges if re.search(r'xlabel="?shortcut"?', attrs)}
    assert shortcut == {("stem", "r1.add"), ("r2.shortcut.p", "r2.add")}
    assert any((a, b) == ("r1.c", "r1.add") for a, b, _ in edges)


def _long_texts_spec(tmp_path, title: int, name: int, label: int):
    path = tmp_path / "long.yaml"
    path.write_text(
        f"name: long\ntitle: {'T' * title}\ninput: 16x16x1\nclasses: 10\nlayers:\n"
        f"  - {{name: c{'a' * name}, type: conv, patch: 3x3/1, out: 8, label: {'L' * label}}}\n"
        f"  - {{name: c{'b' * name}, type: conv, patch: 3x3/1, out: 8}}\n"
        "  - {type: gap}\n  - {name: linear, type: linear}\n"
    )
    return path


@pytest.mark.parametrize(
    "title, name, label", [(900_000, 1, 1), (1, 300_000, 1), (1, 1, 300_000), (20_000, 20_000, 20_000)]
)
def test_texts_far_wider_than_the_drawing_are_cut_for_it(tmp_path, title, name, label):
    """A 900 KB title (or a name, a label) made dot fail with an error of its own. The diagram shows at most
    MAX_SHOWN characters of each text, cut with an ellipsis, and bounds the node ids (two long names that share
    their start stay two nodes); the spec and the other commands keep the whole text."""
    from inceptcost.analyze.diagram.canvas import MAX_ID
    from inceptcost.analyze.diagram.style import MAX_SHOWN

    spec = _long_texts_spec(tmp_path, title, name, label)
    source = run(spec)
    assert source.exit_code == 0, source.output[-500:]
    assert len(source.stdout) < 50_000
    longest = max(MAX_SHOWN, MAX_ID)  # a text shown, a node's id
    assert not any(ch * (longest + 1) in source.stdout for ch in "TabL")
    assert "\u2026" in source.stdout or max(title, name) <= MAX_SHOWN  # a title or name shown is cut visibly
    if shutil.which("dot") is not None:
        for extra in ([], ["--collapse"]):
            out = tmp_path / "long.svg"
            result = run(spec, "--out", out, *extra)
            assert result.exit_code == 0, result.output[-500:]
            nodes, _ = svg_titles(out)
            assert len([n for n in nodes if n.startswith("c")]) == 2 or extra
