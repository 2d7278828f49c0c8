"""The analyze / verify / compare commands: exit codes, formats, --out, --strict, bad input, the md report."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from support import HAND_MACS, HAND_PARAMS, ROW_AREA, ROW_WEIGHTS

ROOT = Path(__file__).resolve().parents[2]
REPORT_ARGS = ("--format", "md", "--batch", "256", "--dtype", "bf16")


def test_table_fits_120_columns_and_marks_disagreements(run):
    result = run("analyze", ROOT / "specs/googlenet.yaml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    table = [ln for ln in lines if ln.startswith(" inception_") or ln.startswith(" conv")]
    assert table and max(len(ln.rstrip()) for ln in table) <= 120
    row_5a = next(ln for ln in lines if ln.startswith(" inception_5a"))
    # 5a by hand from its widths: 1,042,432 weights vs the paper's 1072K, 51.1M MACs vs its 54M: both off
    weights = ROW_WEIGHTS["inception_5a"]
    params_delta, ops_delta = (weights - 1072 * 1024) / 1024, (weights * ROW_AREA["inception_5a"] - 54e6) / 1e6
    assert "1072K" in row_5a and f"{params_delta:+.1f}K !" in row_5a
    assert "54M" in row_5a and f"{ops_delta:+.1f}M !" in row_5a
    assert "budget (spec) 1.5G MACs: within" in result.stdout
    assert "does not hold" in result.stdout and "holds" in result.stdout  # the verify summary follows


def test_json_csv_md_and_out(run, tmp_path):
    spec = ROOT / "specs/googlenet.yaml"
    out = tmp_path / "a.json"
    assert run("analyze", spec, "--format", "json", "--out", out).exit_code == 0
    assert json.loads(out.read_text()) == json.loads(run("analyze", spec, "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(run("analyze", spec, "--format", "csv").stdout)))
    assert rows[-1]["name"] == "total" and int(rows[-1]["params"]) == HAND_PARAMS
    assert next(r for r in rows if r["name"] == "inception_3a")["weights"] == str(ROW_WEIGHTS["inception_3a"])
    md = run("analyze", spec, "--format", "md").stdout
    assert md.startswith("# ") and "| inception_4c |" in md
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temp file left behind


def test_budget_override_and_strict(run):
    spec = ROOT / "specs/googlenet.yaml"
    loose = run("analyze", spec, "--format", "json", "--budget", "1.2G")
    assert loose.exit_code == 0  # over budget, but not --strict
    budget = json.loads(loose.stdout)["budget"]
    assert budget == {"limit_macs": 1.2e9, "macs": HAND_MACS, "source": "--budget", "within": False}
    strict = run("analyze", spec, "--format", "json", "--budget", "1.2G", "--strict")
    assert strict.exit_code == 1
    assert "over budget" in strict.stderr and len(strict.stderr.strip().splitlines()) == 1


def test_strict_fails_a_widened_variant_and_passes_the_original(run, spec_file, root):
    """variant.yaml (no paper values, 100M budget) passes --strict; with every width x4 it is over budget."""
    assert run("analyze", root / "specs/variant.yaml", "--strict", "--format", "json").exit_code == 0
    text = (root / "specs/variant.yaml").read_text()
    wide = re.sub(
        r"(\b(?:1x1|3x3reduce|3x3|5x5reduce|5x5|poolproj|out): )(\d+)", lambda m: f"{m[1]}{int(m[2]) * 4}", text
    )
    assert wide != text
    path = spec_file(wide, "variant-wide.yaml")
    assert run("analyze", path, "--format", "json").exit_code == 0
    result = run("analyze", path, "--strict", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["budget"]["within"] is False
    assert "over budget" in result.stderr


def test_strict_fails_when_a_row_is_off_the_paper(run, spec_file):
    path = spec_file("""
        name: one-row
        input: 8x8x3
        classes: 10
        layers:
          - {name: conv, type: conv, kernel: 1, out: 4, paper: {params: 12, ops: 768}}
          - {name: gap, type: gap}
          - {name: fc, type: linear, paper: {params: 50}}
    """)
    # conv: 3 x 4 = 12 weights, 12 x 64 = 768 MACs (agrees); fc: 4 x 10 = 40 weights, not 50
    result = run("verify", path, "--strict", "--format", "json")
    assert result.exit_code == 1
    assert "fc" in result.stderr and "conv" not in result.stderr.split("paper:")[-1]
    report = json.loads(result.stdout)
    assert report["table1"]["rows_off"] == ["fc"]


@pytest.mark.parametrize(
    "args",
    [
        ("analyze", "no/such/spec.yaml"),
        ("analyze", "SPEC_BAD_KEY"),
        ("analyze", "specs/googlenet.yaml", "--budget", "lots"),
        ("analyze", "specs/googlenet.yaml", "--dtype", "int3"),
        ("verify", "SPEC_BAD_KEY"),
        ("compare", "specs/googlenet.yaml", "no/such/spec.yaml"),
    ],
)
def test_bad_input_exits_2_with_one_line(run, spec_file, args):
    bad = spec_file("""
        name: bad
        input: 8x8x3
        layers:
          - {name: c, type: conv, kernel: 1, out: 4, poolprj: 3}
    """)
    args = [str(bad) if a == "SPEC_BAD_KEY" else str(ROOT / a) if a.startswith("specs/") else a for a in args]
    result = run(*args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout


def test_compare_pairs_rows_by_position_and_lists_unmatched_ones_apart(run):
    a, b = ROOT / "specs/googlenet.yaml", ROOT / "specs/googlenet-torchvision.yaml"
    result = run("compare", a, b, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    pairs = {r["a"]["name"]: r["b"] for r in report["rows"]}
    kinds_differ = {r["a"]["name"] for r in report["rows"] if r["kinds_differ"]}
    assert pairs["conv1"]["weights"] == 7 * 7 * 3 * 64  # torchvision's dense conv1 against the paper's separable one
    assert report["rows"][0]["a"]["weights"] == 7 * 7 * 3 * 8 + 24 * 64
    # the paper's conv2 (1x1 reduce + 3x3 to 192 channels) is torchvision's conv3, not its conv2 (the 1x1 alone)
    assert pairs["conv2"]["name"] == "conv3" and pairs["conv2"]["weights"] == 3 * 3 * 64 * 192
    assert pairs["pool1"]["name"] == "maxpool1" and pairs["inception_3a"]["name"] == "inception3a"
    assert kinds_differ == {"conv1", "conv2", "pool5"}  # separable pairs vs convs; avgpool vs adaptive avgpool
    assert [r["name"] for r in report["only_a"]] == ["norm1", "norm2"]  # torchvision has no LRN
    assert [(r["name"], r["weights"]) for r in report["only_b"]] == [("conv2", 64 * 64)]
    totals = report["totals"]["params"]
    assert totals["b"] == 6_624_904  # torchvision's published count
    assert totals["diff"] == 6_624_904 - totals["a"]
    table = run("compare", a, b)
    assert table.exit_code == 0 and "rows in one spec only" in table.stdout


def test_reports_googlenet_md_is_not_stale(run, monkeypatch, tmp_path):
    """Regenerate reports/googlenet.md with the command written in it and compare."""
    committed = ROOT / "reports/googlenet.md"
    text = committed.read_text()
    command = re.search(r"Generated by `([^`]+)`", text)[1]
    assert command == "inceptcost analyze specs/googlenet.yaml " + " ".join(REPORT_ARGS)
    monkeypatch.chdir(ROOT)
    out = tmp_path / "googlenet.md"
    result = run(*command.split()[1:], "--out", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text() == text, (
        "reports/googlenet.md is stale: run `inceptcost analyze specs/googlenet.yaml"
        f" {' '.join(REPORT_ARGS)} --out reports/googlenet.md`"
    )
