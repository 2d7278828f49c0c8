"""Verdicts and row checks against numbers computed here by hand from Table 1's columns, AlexNet's layer
sizes and the paper's text (arXiv 1409.4842), never from inceptcost's cost rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import CONV1, HAND_MACS, HAND_PARAMS, HAND_WEIGHTS, ROW_AREA, ROW_WEIGHTS, TABLE_1_INCEPTION

from inceptcost.analyze.costs.printed import printed

ROOT = Path(__file__).resolve().parents[2]
GOOGLENET = ROOT / "specs/googlenet.yaml"

# AlexNet (two-GPU layout: conv2, conv4, conv5 see half the channels), weights + biases per layer
ALEXNET = (
    (11 * 11 * 3 * 96 + 96)
    + (5 * 5 * 48 * 256 + 256)
    + (3 * 3 * 256 * 384 + 384)
    + (3 * 3 * 192 * 384 + 384)
    + (3 * 3 * 192 * 256 + 256)
    + (6 * 6 * 256 * 4096 + 4096)
    + (4096 * 4096 + 4096)
    + (4096 * 1000 + 1000)
)
# Aux heads (section 5): 5x5/3 avg pool -> 4x4, 1x1 conv 128, fc 1024, linear 1000, at 4a (512 ch) and 4d (528 ch)
AUX_PARAMS = sum(c * 128 + 128 + 16 * 128 * 1024 + 1024 + 1024 * 1000 + 1000 for c in (512, 528))
AUX_MACS = sum(16 * c * 128 + 16 * 128 * 1024 + 1024 * 1000 for c in (512, 528))


def test_hand_numbers_against_the_papers_own_cells():
    """The hand counts (from Table 1's column widths) against the paper's params and ops cells, on the rows
    where the paper agrees with its widths; and AlexNet's against its paper's "60 million parameters"."""
    for name, (k, m) in {"inception_3a": (159, 128), "inception_3b": (380, 304), "inception_4b": (437, 88)}.items():
        assert abs(ROW_WEIGHTS[name] / 1024 - k) <= 1, name  # K = 1024, printed to 1K
        assert abs(ROW_WEIGHTS[name] * ROW_AREA[name] / 1e6 - m) <= 1, name  # M = 10^6, printed to 1M
    assert round(CONV1 / 1000, 1) == 2.7 and round(CONV1 * ROW_AREA["conv1"] / 1e6) == 34  # conv1: 2.7K, 34M
    assert round(ALEXNET / 1e7) * 10 == 60  # AlexNet (Krizhevsky et al. 2012): "60 million parameters"


@pytest.fixture(scope="module")
def report():
    from typer.testing import CliRunner

    from inceptcost.cli import app

    result = CliRunner().invoke(app, ["analyze", str(GOOGLENET), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def claims(report):
    return {c["claim"]: c for c in report["claims"]}


def test_json_has_the_fields_the_issue_lists(report):
    assert {"spec", "totals", "budget", "layers", "claims"} <= set(report)
    assert {"params", "params_paper", "macs", "flops"} <= set(report["totals"])
    assert {"limit_macs", "macs", "within"} <= set(report["budget"])
    for layer in report["layers"]:
        assert {"name", "type", "output", "params", "macs", "paper"} <= set(layer)
    for c in report["claims"]:
        assert {"claim", "verdict", "ours", "paper", "note"} <= set(c)
        assert c["verdict"] in ("holds", "close", "does not hold")


def test_totals_by_hand(report):
    t = report["totals"]
    assert (t["params"], t["params_paper"], t["macs"], t["flops"]) == (
        HAND_PARAMS,
        HAND_WEIGHTS,
        HAND_MACS,
        2 * HAND_MACS,
    )
    assert (t["params_aux"], t["macs_aux"]) == (AUX_PARAMS, AUX_MACS)
    assert report["budget"] == {"limit_macs": 1.5e9, "macs": HAND_MACS, "source": "spec", "within": True}


def test_rows_by_hand(report):
    rows = {r["name"]: r for r in report["layers"]}
    for name, w in ROW_WEIGHTS.items():
        assert rows[name]["weights"] == w, name
        assert rows[name]["macs"] == w * ROW_AREA[name], name
    check = {n: rows[n]["paper"]["check"] for n in ROW_WEIGHTS}
    # 3a: 163,328 = 159.5K exactly at the edge of 159K's rounding: agrees
    assert check["inception_3a"]["params"] == "ok"
    # 4c: 509,440 weights vs 463K = 474,112 (its 100M ops fit 498K); 5a: 1,042,432 vs 1072K, 51.1M vs 54M
    assert check["inception_4c"] == {
        "params": "!",
        "ops": "ok",
        "output": "ok",
        "params_diff": 509_440 - 463 * 1024,
        "ops_diff": 509_440 * 196 - 100e6,
    }
    assert (check["inception_5a"]["params"], check["inception_5a"]["ops"]) == ("!", "!")
    # conv1: 2,712 weights = 2.65K (K = 1024): one unit of "2.7K" away; 3b 379.0K printed 380K
    assert check["conv1"]["params"] == check["inception_3b"]["params"] == "~"
    assert all(rows[n]["paper"]["check"]["output"] == "ok" for n in rows if rows[n]["paper"])


def test_paper_rows_against_themselves(report):
    """ops = weights x H x W for these rows; from Table 1 alone, which rows cannot be both params and ops?"""
    expected = {}
    for name, v in TABLE_1_INCEPTION.items():
        area, k, m = v[1] ** 2, v[8], v[9]
        lo, hi = (k - 0.5) * 1024 * area, (k + 0.5) * 1024 * area  # what "k K" allows, times the area
        if hi < (m - 0.5) * 1e6 or lo > (m + 0.5) * 1e6:
            expected[name] = m * 1e6 / area / 1024  # the params the ops imply, in K
    assert set(expected) == {"inception_3b", "inception_4c", "inception_4d", "inception_4e", "inception_5b"}
    got = {s["name"]: s for s in report["table1"]["self_consistency"]}
    assert {n for n, s in got.items() if s["grade"] != "ok"} == set(expected)
    assert got["inception_3b"]["grade"] == "~"  # 380K x 784 = 305.1M vs 304M: one unit each way fits
    assert got["inception_4c"]["implied_params"] / 1024 == pytest.approx(expected["inception_4c"])  # 498.2K
    assert got["inception_5a"]["grade"] == "ok"  # 1072K x 49 = 53.8M: 5a agrees with itself, not with its widths


def test_claim_budget(claims):
    c = claims["1.5G multiply-adds at inference"]
    assert (c["verdict"], c["ours"]) == ("holds", HAND_MACS)


def test_claim_table_sum(claims):
    c = claims["Table 1 params sum ~6.8M"]
    column = 2.7 + 112 + 159 + 380 + 364 + 437 + 463 + 580 + 840 + 1072 + 1388 + 1000  # K
    assert c["paper"] == round(column * 1024)
    assert c["ours"] == HAND_WEIGHTS
    assert round(HAND_WEIGHTS / 1024 / 1000, 1) == 6.8  # 6,819.9K: prints as 6.8 thousand K
    assert c["verdict"] == "holds"


def test_claim_five_million(claims):
    c = claims["~5M parameters (often quoted)"]
    assert (c["verdict"], c["ours"]) == ("does not hold", HAND_PARAMS)


def test_claim_alexnet_ratio(claims):
    c = claims["12x fewer params than AlexNet"]
    assert c["ours"] == round(ALEXNET / HAND_PARAMS, 2)  # 8.72x
    assert c["verdict"] == "does not hold"
    assert "5.30M" in c["note"]  # says under which counting 12x would hold (60.97M / 11.5)


def test_claim_depth(claims):
    with_params = 1 + 2 + 2 * 9 + 1  # conv1 (separable pair = 1), conv2 (reduce + 3x3), 9 modules x 2, linear
    pools = 5  # pool1, pool2, pool3, pool4, avg pool
    assert claims["22 layers deep (with parameters)"]["ours"] == with_params == 22
    assert claims["27 layers deep (with pooling)"]["ours"] == with_params + pools == 27
    assert claims["22 layers deep (with parameters)"]["verdict"] == "holds"
    assert claims["27 layers deep (with pooling)"]["verdict"] == "holds"


def test_claim_blocks(claims):
    stem = 2 + 1 + 1 + 2 + 1 + 1  # conv1 (2 convs), pool1, norm1, conv2 (2 convs), norm2, pool2
    modules = 9 * (6 + 1 + 1)  # 6 convs, the pool, the concat
    tail = 2 + 3  # pool3, pool4; avg pool, dropout, linear
    assert claims["about 100 building blocks"]["ours"] == stem + modules + tail == 85
    assert claims["about 100 building blocks"]["verdict"] == "close"  # 15% under "about 100"


def test_claim_aux(claims):
    c = claims["aux classifiers: training-time cost"]
    assert (c["verdict"], c["ours"]) == ("holds", AUX_PARAMS)
    assert f"{AUX_MACS:,}" in c["note"]


def test_depth_of_a_small_hand_made_net(spec_file):
    """conv, max pool, a module with a 2-conv branch, gap, linear: 1 + 2 + 1 = 4 with params, + 2 pools = 6."""
    from inceptcost import compile_graph, load_spec
    from inceptcost.analyze.costs.claims import blocks, depth

    path = spec_file("""
        name: tiny
        input: 16x16x3
        classes: 5
        layers:
          - {name: stem, type: conv, kernel: 3, out: 8}
          - {name: pool, type: maxpool, patch: 2x2/2}
          - name: mix
            type: parallel
            branches:
              a: [{type: conv, kernel: 1, out: 4}]
              b: [{type: conv, kernel: 1, out: 2}, {type: conv, kernel: 3, out: 4}]
          - {name: gap, type: gap}
          - {name: fc, type: linear}
    """)
    graph = compile_graph(load_spec(path))
    assert depth(graph)[0] == 4
    assert depth(graph, pools=True)[0] == 6
    assert blocks(graph) == 8  # stem, pool, 3 convs, the concat, gap, fc


def test_torchvisions_spec_is_judged_on_torchvisions_published_figures(run, root):
    """Not on GoogLeNet's: each spec declares its own claims (torchvision: 6,624,904 params, 1.498 GMACs)."""
    result = run("verify", root / "specs/googlenet-torchvision.yaml", "--format", "json")
    assert result.exit_code == 0, result.stderr
    claims = {c["claim"]: c for c in json.loads(result.stdout)["claims"]}
    assert set(claims) == {"torchvision: 6,624,904 parameters", "torchvision: 1.498 GMACs"}
    assert (
        claims["torchvision: 6,624,904 parameters"]["ours"],
        claims["torchvision: 6,624,904 parameters"]["verdict"],
    ) == (6_624_904, "holds")
    assert claims["torchvision: 1.498 GMACs"]["verdict"] == "holds"


@pytest.mark.parametrize(
    ("text", "base", "ours", "grade"),
    [
        ("2.7K", 1024, 2_712, "~"),  # 2.65K: more than half a unit (0.05K) from 2.7K, less than one
        ("2.7K", 1000, 2_712, "ok"),  # with K = 1000 it rounds to 2.7K
        ("159K", 1024, 163_328, "ok"),  # 159.5K: exactly half a unit
        ("380K", 1024, 388_096, "~"),  # 379.0K
        ("463K", 1024, 509_440, "!"),
        ("34M", 1000, 34_019_328, "ok"),
        ("73M", 1000, 73_608_192, "~"),
        ("54M", 1000, 51_079_168, "!"),
    ],
)
def test_the_papers_rounding(text, base, ours, grade):
    assert printed(text, base).grade(ours) == grade
