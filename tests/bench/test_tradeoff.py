"""tradeoff: reads summaries tolerantly, marks the hand-known Pareto set, writes table and both plots."""

import json

import pytest
from typer.testing import CliRunner

from inceptcost.cli import app
from inceptcost.errors import InceptcostError
from inceptcost.study.results import load_runs
from inceptcost.study.tradeoff import points
from inceptcost.study.tradeoff_plot import write_tradeoff

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
    got = {p.label for p in points(load_runs(runs)) if p.pareto}
    assert got == PARETO


def test_identical_points_both_kept(tmp_path):
    ds = [write_run(tmp_path, "x", 1e6, 0.5, 1.0), write_run(tmp_path, "y", 1e6, 0.5, 2.0)]
    assert all(p.pareto for p in points(load_runs(ds)))


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


def test_runs_on_other_data_are_refused_unless_mixed(tmp_path):
    ds = [
        write_run(tmp_path, "p", 1e6, 50.0, 10.0, data="digits", epochs=10),
        write_run(tmp_path, "q", 2e6, 60.0, 10.0, data="digits-clutter", epochs=10),
        write_run(tmp_path, "r", 3e6, 70.0, 10.0, data="digits-clutter", epochs=20),
    ]
    with pytest.raises(InceptcostError) as err:
        points(load_runs(ds))
    text = str(err.value)
    assert "data (digits: p; digits-clutter: q, r)" in text and "epochs (10: p, q; 20: r)" in text
    assert "--mix data,epochs" in (err.value.hint or "")
    assert len(points(load_runs(ds), mix=("data", "epochs"))) == 3
    with pytest.raises(InceptcostError, match="unknown setting 'dataset'"):
        points(load_runs(ds), mix=("dataset",))


def test_cli_refuses_mixed_runs_in_one_line(tmp_path):
    ds = [
        write_run(tmp_path, "p", 1e6, 50.0, 10.0, device="cpu"),
        write_run(tmp_path, "q", 2e6, 60.0, 10.0, device="NVIDIA H100"),
    ]
    out = tmp_path / "o"
    out.mkdir()
    r = CliRunner().invoke(app, ["tradeoff", *map(str, ds), "--out-dir", str(out)])
    assert r.exit_code == 2 and r.output.count("error:") == 1 and "device (cpu: p; NVIDIA H100: q)" in r.output
    assert not list(out.iterdir())
    assert CliRunner().invoke(app, ["tradeoff", *map(str, ds), "--out-dir", str(out), "--mix", "device"]).exit_code == 0


def test_seeds_of_one_spec_make_one_point_with_an_error_bar(tmp_path):
    tops = [61.0, 64.5, 62.0]  # mean 62.5; sample sd sqrt(((-1.5)^2 + 2^2 + (-0.5)^2) / 2) = sqrt(3.25)
    ds = [write_run(tmp_path, f"v-s{i}", 5e6, t, 100.0 + i, spec="v", seed=i) for i, t in enumerate(tops)]
    ds.append(write_run(tmp_path, "w-s0", 9e6, 70.0, 50.0, spec="w", seed=0))
    pts = {p.label: p for p in points(load_runs(ds))}
    assert set(pts) == {"v", "w-s0"}
    v = pts["v"]
    assert v.n == 3 and v.top1 == pytest.approx(62.5) and v.top1_sd == pytest.approx(3.25**0.5)
    assert v.images_per_s == 101.0 and pts["w-s0"].top1_sd is None
    out = tmp_path / "o"
    out.mkdir()
    rows = write_tradeoff(ds, out)["runs"]
    assert [(r["run"], r["seeds"]) for r in rows] == [("v", 3), ("w-s0", 1)]
    assert "62.50 ± 1.80 (n=3)" in (out / "tradeoff.md").read_text()
    svg = (out / "tradeoff.svg").read_text()
    assert "error bars" in svg and "4 runs on cpu" in svg
