"""`inceptcost study` on a tiny plan: every run trained once, skipped when finished, resumed when interrupted,
refused when the plan changed; seeds averaged as by hand; runs at other image sizes refused."""

from __future__ import annotations

import csv
import json
import statistics

import pytest
from train.conftest import run_cli, write_tiny_spec

from inceptcost.study.plan import PlanError, load_plan


def write_plan(folder, epochs=1, sizes=(16, 16), extra=""):
    specs = [write_tiny_spec(folder, name=f"tiny{i}", size=s, aux=i == 0) for i, s in enumerate(sizes)]
    plan = folder / "plan.yaml"
    plan.write_text(
        f"name: tiny\ndata: synthetic:64\nepochs: {epochs}\nbatch_size: 16\nseeds: [3, 5]\ndevice: cpu\n"
        f"recipe: {{schedule: cosine}}\nprofile: cpu\nspecs: [{', '.join(s.name for s in specs)}]\n{extra}"
    )
    return plan


@pytest.mark.slow
def test_tiny_plan_trains_skips_resumes_and_averages(tmp_path):
    plan = write_plan(tmp_path)
    first = run_cli("study", str(plan), "--parallel", "2", timeout=600)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("finished: best top-1") == 4
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert folders == ["tiny0-s3", "tiny0-s5", "tiny1-s3", "tiny1-s5"]
    for name in ("study.md", "study.csv", "study.json", "study-macs.png", "study-time.svg", "study-memory.svg"):
        assert (tmp_path / name).is_file(), name

    # the table's mean and sd against the runs' own summaries, computed here by hand
    rows = {r["spec"]: r for r in csv.DictReader((tmp_path / "study.csv").open())}
    assert set(rows) == {"tiny0", "tiny1"}
    for spec in rows:
        tops = [
            json.loads((tmp_path / "runs" / f"{spec}-s{s}" / "summary.json").read_text())["best_val_top1"]
            for s in (3, 5)
        ]
        mean = (tops[0] + tops[1]) / 2
        sd = abs(tops[0] - tops[1]) / 2**0.5  # the sample sd of two values
        assert float(rows[spec]["top1_mean"]) == pytest.approx(mean)
        assert float(rows[spec]["top1_sd"]) == pytest.approx(sd) and rows[spec]["seeds"] == "2"
        assert statistics.stdev(tops) == pytest.approx(sd)

    # a second run skips every finished run and trains nothing
    stamps = {p: p.stat().st_mtime_ns for p in [*tmp_path.glob("runs/*/summary.json"), *tmp_path.glob("bench/*.json")]}
    assert len(stamps) == 6  # four runs, and each spec's step timed once (reused below, nothing changed)
    again = run_cli("study", str(plan), timeout=600)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("finished before, skipped") == 4
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # an interrupted run (a checkpoint, no summary) resumes; the others stay skipped
    (tmp_path / "runs" / "tiny1-s5" / "summary.json").unlink()
    dry = run_cli("study", str(plan), "--dry-run")
    assert dry.returncode == 0 and [line.split()[0] for line in dry.stdout.splitlines()].count("resume") == 1
    resumed = run_cli("study", str(plan), timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "tiny1-s5: resuming" in resumed.stderr and resumed.stderr.count("finished before, skipped") == 3
    assert (tmp_path / "runs" / "tiny1-s5" / "summary.json").is_file()

    # a changed plan is refused in one line, naming the run and the setting, before anything trains
    write_plan(tmp_path, epochs=2)
    changed = run_cli("study", str(plan))
    assert changed.returncode == 2 and changed.stderr.count("error:") == 1
    assert "tiny0-s3 was trained with other settings (epochs)" in changed.stderr


def test_specs_at_other_image_sizes_are_not_averaged_together(tmp_path):
    from inceptcost.study.results import load_runs
    from inceptcost.study.tradeoff import points

    for name, size in (("a", 16), ("b", 24)):
        d = tmp_path / name
        d.mkdir()
        (d / "summary.json").write_text(
            json.dumps({"spec": name, "macs": 10, "best_val_top1": 50.0, "data": "digits-clutter", "epochs": 4})
        )
        (d / "config.yaml").write_text(f"spec: {{input: [1, {size}, {size}]}}\nrun: {{seed: 0}}\n")
    with pytest.raises(Exception, match=r"image size \(16x16: a; 24x24: b\)"):
        points(load_runs([tmp_path / "a", tmp_path / "b"]))


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("epoch: 3\n", "epoch: unknown key; did you mean 'epochs'?"),
        ("widths: {base: nowhere.yaml, values: [0.5]}\n", "no spec file 'nowhere.yaml'"),
        ("widths: {base: tiny0.yaml, values: [0]}\n", "values must be a list of widths"),
        ("gpus: 0\n", "gpus: must be a whole number >= 1"),
    ],
)
def test_plan_errors_name_the_key_and_line(tmp_path, extra, words):
    plan = write_plan(tmp_path, extra=extra)
    with pytest.raises(PlanError) as err:
        load_plan(plan)
    assert words in str(err.value) and f"{plan}:10" in str(err.value)


def test_bad_seeds_are_refused(tmp_path):
    plan = write_plan(tmp_path)
    plan.write_text(plan.read_text().replace("seeds: [3, 5]", "seeds: [3, 3]"))
    with pytest.raises(PlanError, match="distinct"):
        load_plan(plan)


def test_the_committed_study_remakes_its_report_byte_for_byte(tmp_path):
    """Every committed run is finished and each spec's timing is kept, so the study trains and times nothing and
    writes the very files that are committed (what the README's command does)."""
    import os
    import shutil
    import subprocess
    import sys

    from support import ROOT

    copy = tmp_path / "study"
    shutil.copytree(ROOT / "reports" / "study", copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the plan pins one thread
    done = subprocess.run(
        [sys.executable, "-m", "inceptcost", "study", str(copy / "plan.yaml")],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("finished before, skipped") == 24
    for name in ("study.md", "study.csv", "study-macs.svg", "study-time.svg", "study-memory.svg"):
        assert (copy / name).read_bytes() == (ROOT / "reports" / "study" / name).read_bytes(), name
