"""Time budgets: `fit --time`, `sweep --time`, and `tradeoff --x measured|predicted`."""

from __future__ import annotations

import json

import pytest
from support import ROOT

from inceptcost import load_spec
from inceptcost.analyze.costs.sweep import scale_spec
from inceptcost.analyze.timing.profile import load_profile
from inceptcost.analyze.timing.time_budget import TimeRun, parse_duration

GOOGLENET = ROOT / "specs/googlenet.yaml"


@pytest.mark.parametrize("text, ms", [("4ms", 4.0), ("0.5s", 500.0), ("250us", 0.25), (" 2 ms", 2.0), ("1e1ms", 10.0)])
def test_parse_duration(text, ms):
    assert parse_duration(text) == pytest.approx(ms)


def test_fit_time_is_the_widest_width_within_the_budget(cli, tmp_path):
    out = tmp_path / "fitted.yaml"
    r = cli(
        "fit", GOOGLENET, "--time", "20ms", "--profile", "h100", "--batch", "64", "--width", "0.25:2:0.25", "-o", out
    )
    assert r.exit_code == 0, r.stderr
    width = float(r.stdout.split("width ")[1].split()[0])
    run = TimeRun(load_profile(ROOT / "profiles/h100.yaml"), 64)
    spec = load_spec(GOOGLENET)
    assert run.step_ms(scale_spec(spec, width)) <= 20.0 < run.step_ms(scale_spec(spec, width + 0.25))
    assert load_spec(out).name.startswith("googlenet")


def test_sweep_time_column(cli):
    r = cli(
        "sweep", GOOGLENET, "--width", "0.5,1,2", "--time", "30ms", "--profile", "h100", "--batch", "128", "-f", "json"
    )
    assert r.exit_code == 0, r.stderr
    v = json.loads(r.stdout)["variants"]
    ms = [x["predicted_ms"] for x in v]
    assert ms == sorted(ms) and [x["within_time"] for x in v] == [m <= 30 for m in ms]


@pytest.mark.parametrize(
    "args, expect",
    [
        (["--time", "4ms"], "--time needs a device profile"),
        (["--time", "4 parsecs", "--profile", "h100"], "cannot read '4 parsecs' as a time"),
        (["--time", "4ms", "--profile", "h100", "--batch", "0"], "--batch must be a whole number >= 1"),
    ],
)
def test_bad_time_options(cli, args, expect):
    r = cli("fit", GOOGLENET, *args)
    assert r.exit_code == 2 and expect in r.stderr and len(r.stderr.strip().splitlines()) == 1


def write_run(root, name, top1, ips, spec_file=None):
    d = root / name
    d.mkdir()
    summary = {"spec": name, "macs": 1e8, "best_val_top1": top1, "images_per_s": ips}
    if spec_file:
        summary["spec_file"] = str(spec_file)
    (d / "summary.json").write_text(json.dumps(summary))
    return d


def test_tradeoff_on_measured_time(cli, tmp_path):
    # ms per image = 1000 / images/s: a 0.111, b 0.143, c 0.2 (b is faster and better), e 0.323, d 0.333
    runs = [
        write_run(tmp_path, *r)
        for r in [("a", 0.6, 9000), ("b", 0.7, 7000), ("c", 0.65, 5000), ("d", 0.8, 3000), ("e", 0.75, 3100)]
    ]
    out = tmp_path / "rep"
    out.mkdir()
    r = cli("tradeoff", *runs, "--out-dir", out, "--x", "measured")
    assert r.exit_code == 0, r.stderr
    assert "Pareto-optimal: a, b, e, d" in r.stdout
    assert "measured training time per image" in (out / "tradeoff.svg").read_text()


def test_tradeoff_on_predicted_time(cli, tmp_path):
    runs = [
        write_run(tmp_path, "small", 0.6, None, ROOT / "specs/variant.yaml"),
        write_run(tmp_path, "big", 0.5, None, GOOGLENET),
    ]
    out = tmp_path / "rep"
    out.mkdir()
    r = cli("tradeoff", *runs, "--out-dir", out, "--x", "predicted", "--profile", "a100", "--batch", "16")
    assert r.exit_code == 0, r.stderr
    rows = json.loads((out / "tradeoff.json").read_text())["runs"]
    assert [x["run"] for x in rows] == ["small", "big"] and rows[0]["pareto"] and not rows[1]["pareto"]
    missing = cli("tradeoff", *runs, "--out-dir", out, "--x", "predicted")
    assert missing.exit_code == 2 and "needs a device profile" in missing.stderr
