"""tradeoff: reads summaries tolerantly, marks the hand-known Pareto set, writes table and both plots."""

import json

import pytest
from typer.testing import CliRunner

from inceptcost.bench.tradeoff import load_runs, write_tradeoff
from inceptcost.cli import app
from inceptcost.errors import InceptcostError

# (name, MACs, best top-1, images/s). Pareto set by hand: a, b, d.
#   c: b is cheaper and better; e: d has the same MACs and is better; f: a is cheaper and better.
RUNS = [
    ("a", 100e6, 0.60, 9000.0),
    ("b", 200e6, 0.70, 7000.0),
    ("c", 300e6, 0.65, 5000.0),
    ("d", 400e6, 0.80, 3000.0),
    ("e", 400e6, 0.75, 3100.0),
    ("f", 150e6, 0.55, None),
]
PARETO = {"a", "b", "d"}


def write_run(root, name, macs, top1, ips, **extra):
    d = root / "runs" / name
    d.mkdir(parents=True)
    summary = {
        "spec": f"spec-{name}",
        "params": int(macs / 100),
        "macs": int(macs),
        "best_val_top1": top1,
        "final_val_top1": top1 - 0.01,
        "total_seconds": 12.5,
        "images_per_s": ips,
        "device": "cpu",
        "world_size": 1,
        **extra,
    }
    (d / "summary.json").write_text(json.dumps(summary))
    return d


@pytest.fixture
def runs(tmp_path):
    return [write_run(tmp_path, *r) for r in RUNS]


def test_pareto_by_hand(runs):
    got = {r.name for r in load_runs(runs) if r.pareto}
    assert got == PARETO


def test_identical_points_both_kept(tmp_path):
    ds = [write_run(tmp_path, "x", 1e6, 0.5, 1.0), write_run(tmp_path, "y", 1e6, 0.5, 2.0)]
    assert all(r.pareto for r in load_runs(ds))


def test_summary_path_instead_of_run_folder(tmp_path):
    d = tmp_path / "r1"
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"spec": "s", "macs": 5, "best_val_top1": 0.4, "device": "cpu"}))
    (run,) = load_runs([d / "summary.json"])
    assert run.name == "r1" and run.best_top1 == 0.4 and run.images_per_s is None and run.device == "cpu"


def test_missing_key_is_named(tmp_path):
    d = tmp_path / "broken"
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"spec": "s", "macs": 5}))
    with pytest.raises(InceptcostError, match="lacks best_val_top1"):
        load_runs([d])
    with pytest.raises(InceptcostError, match="no summary.json"):
        load_runs([tmp_path / "nowhere"])


def test_files_written(runs, tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    result = write_tradeoff(runs, out)
    names = {p.name for p in out.iterdir()}
    assert {"tradeoff.png", "tradeoff.svg", "tradeoff.md", "tradeoff.csv", "tradeoff.json"} <= names
    assert (out / "tradeoff.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (out / "tradeoff.svg").read_text()
    assert "<svg" in svg and "Pareto frontier" in svg
    assert not [n for n in names if n.startswith(".")]  # no temp files left behind
    rows = result["runs"]
    assert [r["run"] for r in rows] == ["a", "f", "b", "c", "d", "e"]  # by MACs, then best top-1
    assert {r["run"] for r in rows if r["pareto"]} == PARETO
    md = (out / "tradeoff.md").read_text()
    assert "| d | spec-d |" in md and "100M" in md


def test_cli(runs, tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    r = CliRunner().invoke(app, ["tradeoff", *map(str, runs), "--out-dir", str(out)])
    assert r.exit_code == 0, r.output
    assert "Pareto-optimal: a, b, d" in r.output
    assert (out / "tradeoff.svg").exists()
    r = CliRunner().invoke(app, ["tradeoff", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "no summary.json" in r.output
