"""sweep / fit: the width transform, the fast cost walk (== compile_graph + summarize), fit's search."""

import subprocess
import sys

import pytest
from support import ROOT
from typer.testing import CliRunner

from inceptcost import compile_graph, load_spec, summarize
from inceptcost.analyze.costs.sweep import Sweep, fit, parse_widths, round_width, scale_spec
from inceptcost.cli import app
from inceptcost.errors import CheckFailed, InceptcostError
from inceptcost.spec.writer import spec_to_yaml

SPECS = ROOT / "specs"

SHIPPED = sorted(SPECS.glob("*.yaml"))


def test_round_width_by_hand():
    assert round_width(64, 0.25) == 16
    assert round_width(52, 1.0) == 56  # 6.5 eighths rounds half up
    assert round_width(12, 1.0) == 16
    assert round_width(4, 1.0) == 8  # never below 8
    assert round_width(100, 0.01) == 8
    assert round_width(208, 1.5) == 312


def test_parse_widths():
    assert parse_widths("0.25:2.0:0.25") == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert parse_widths("1, 0.5,2") == [0.5, 1.0, 2.0]
    for bad in ("0:1:0.1", "1:0.5:0.1", "a:b:c", "0.5:1", "-1", "", "0.5:1:0"):
        with pytest.raises(InceptcostError):
            parse_widths(bad)


def test_tiny_net_costs_by_hand(tiny_spec):
    s = Sweep(load_spec(tiny_spec))
    c = s.costs(0.5)  # conv 16 -> 8 channels; the classifier keeps its 10 classes
    assert c["macs"] == 8 * 8 * 8 * 3 * 9 + 8 * 10
    assert c["weights"] == 8 * 3 * 9 + 8 * 10
    assert c["biases"] == 8 + 10
    c2 = s.costs(2.0)
    assert c2["macs"] == 8 * 8 * 32 * 3 * 9 + 32 * 10


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_fast_costs_equal_compile(path):
    spec = load_spec(path)
    s = Sweep(spec)
    for w in parse_widths("0.25:2.0:0.25") + [0.3, 1.1]:
        assert s.costs(w) == summarize(compile_graph(s.spec(w))), w


def test_scaled_spec_keeps_classifiers_and_rounds():
    spec = load_spec(SPECS / "googlenet.yaml")
    g = compile_graph(scale_spec(spec, 0.5))
    assert g.nodes["linear"]["out_shape"] == (1000,)
    assert g.nodes["aux1.linear"]["out_shape"] == (1000,)
    assert g.nodes["aux1.fc"]["out_shape"] == (512,)  # the aux head's hidden fc 1024 is scaled
    assert g.nodes["inception_3a.b5x5.reduce"]["out_shape"][0] == 8  # 16 x 0.5
    assert g.nodes["inception_4a.b3x3.conv"]["out_shape"][0] == 104  # 208 x 0.5
    for n in g:
        a = g.nodes[n]
        if a["op"] == "conv":
            assert a["out_shape"][0] % 8 == 0, n


def test_width_one_of_googlenet_is_googlenet():
    # Every width in Table 1 is a multiple of 8, so width 1 changes nothing: 1.5G multiply-adds.
    spec = load_spec(SPECS / "googlenet.yaml")
    base = summarize(compile_graph(spec))
    one = Sweep(spec).costs(1.0)
    assert {k: one[k] for k in ("macs", "params", "macs_aux")} == {k: base[k] for k in ("macs", "params", "macs_aux")}


def test_fit_within_budget_and_next_step_is_not():
    spec = load_spec(SPECS / "googlenet.yaml")
    widths = parse_widths("0.0625:4.0:0.0625")
    result, fitted = fit(spec, 0.5e9, widths)
    macs = summarize(compile_graph(fitted))["macs"]
    assert macs == result.costs["macs"] <= 0.5e9
    nxt = widths[widths.index(result.width) + 1]
    assert result.next_width == nxt
    assert summarize(compile_graph(scale_spec(spec, nxt)))["macs"] > 0.5e9
    # the linear scan agrees with the binary search
    fits = [w for w in widths if Sweep(spec).costs(w)["macs"] <= 0.5e9]
    assert result.width == max(fits)
    assert result.evaluated < len(widths) / 4


def test_fit_nothing_fits():
    with pytest.raises(CheckFailed, match="narrowest"):
        fit(load_spec(SPECS / "googlenet.yaml"), 1e6, [0.25, 0.5])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_yaml_round_trip(path, tmp_path):
    spec = load_spec(path)
    for w in (0.5, 1.0):
        scaled = scale_spec(spec, w)
        out = tmp_path / f"{path.stem}-{w}.yaml"
        out.write_text(spec_to_yaml(scaled, "a header"))
        assert summarize(compile_graph(load_spec(out)))["macs"] == summarize(compile_graph(scaled))["macs"]


def test_fit_cli_writes_spec(tmp_path):
    out = tmp_path / "fit.yaml"
    r = CliRunner().invoke(app, ["fit", str(SPECS / "googlenet.yaml"), "--budget", "0.5G", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "width 0.5 " in r.output
    costs = summarize(compile_graph(load_spec(out)))
    assert costs["macs"] <= 0.5e9 and costs["within_budget"] is True
    bad = CliRunner().invoke(app, ["fit", str(SPECS / "googlenet.yaml"), "--budget", "lots"])
    assert bad.exit_code == 2


def test_sweep_cli_json_and_no_torch():
    code = (
        "import sys, json; from typer.testing import CliRunner; from inceptcost.cli import app;"
        "r = CliRunner().invoke(app, ['sweep', 'specs/googlenet.yaml', '--width', '0.5,1', '-f', 'json']);"
        "d = json.loads(r.output); print(d['variants'][1]['macs'], 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    macs, torch_loaded = out.stdout.split()
    assert abs(int(macs) - 1.5e9) < 0.01e9 and torch_loaded == "False"  # the paper: 1.5 billion multiply-adds
