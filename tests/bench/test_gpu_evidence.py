"""benchmarks/gpu_evidence.py: its dry run, its smoke run on the CPU, and how it records a step that fails or runs
past its budget (the GPU run itself happens where a GPU is)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inceptcost.cli import app

from .conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "gpu_evidence.py"
SECTIONS = (
    "## Setup",
    "## Parts",
    "## 1. Step time: predicted against measured",
    "## 2. Memory peak: predicted against measured",
    "## 3. The fast build against torchvision",
    "## 4. Cost against accuracy: a reduced digits-clutter study",
    "## Raw files",
)


def script(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )


@pytest.fixture(scope="module")
def ge():
    """The script as a module (its runner and summary, without running a part)."""
    spec = importlib.util.spec_from_file_location("gpu_evidence", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_evidence"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("gpu_evidence", None)


@pytest.mark.parametrize("smoke", [False, True])
def test_dry_run_lists_every_part_within_the_limit_and_writes_nothing(tmp_path, smoke):
    out = tmp_path / "never"
    p = script("--dry-run", "--out", str(out), *(["--smoke"] if smoke else []))
    assert p.returncode == 0, p.stderr
    for n in range(1, 5):
        assert re.search(rf"^part {n}: about \d+\.\d min$", p.stdout, re.M), p.stdout
    total = float(re.search(r"^total: about (\d+\.\d) min", p.stdout, re.M).group(1))
    assert 0 < total <= 9
    if not smoke:  # the GPU run's commands: each figure of the issue has its step
        for command in (
            "calibrate --device cuda --quick",
            "bench_memory.py --cuda",
            "FB_COMPILE=1",
            "inceptcost study",
        ):
            assert command in p.stdout
        assert "inceptcost tradeoff" in p.stdout
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--out is required"),
        (["--out", "{tmp}/full"], "not empty"),
        (["--out", "{tmp}/full/file"], "not a folder"),
        (["--parts", "time,speed", "--out", "{tmp}/new"], "--parts"),
        (["--minutes", "0", "--out", "{tmp}/new"], "--minutes"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("an earlier run\n")
    p = script(*[a.format(tmp=tmp_path) for a in args])
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.startswith("error: ") and message in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr
    assert (tmp_path / "full" / "file").read_text() == "an earlier run\n"
    assert not (tmp_path / "new").exists()


def test_without_cuda_the_gpu_run_refuses_in_one_line(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is here")
    p = script("--out", str(tmp_path / "gpu"), timeout=180)
    assert p.returncode == 2 and p.stderr.startswith("error: no CUDA device") and "--smoke" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "gpu").exists()


def _runner(ge, out: Path):
    out.mkdir()
    start = time.monotonic()
    run = ge.Runner(out, smoke=True, dry=False, deadline=start + 120, start=start)
    run.part = ge.PartRecord("time", 1, "Step time: predicted against measured", started=True)
    return run


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_step_past_its_budget_is_stopped_with_what_it_started(ge, tmp_path, monkeypatch):
    monkeypatch.setattr(ge, "MIN_STEP_S", 1.0)
    run = _runner(ge, tmp_path / "out")
    child = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "print(p.pid, flush=True)\n"
        "print('measured half, then stuck', file=sys.stderr, flush=True)\n"
        "time.sleep(120)\n"
    )
    t0 = time.monotonic()
    o = run.step("stuck", [sys.executable, "-c", child], budget_s=3, estimate_s=1)
    assert time.monotonic() - t0 < 3 + ge.KILL_GRACE_S + 5
    assert o.status == "cut short" and "budget" in o.reason
    assert "measured half, then stuck" in o.stderr_tail
    grandchild = int((tmp_path / "out" / o.logs[0]).read_text().split()[0])
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild), "the step's own child outlived it"


def test_failed_and_cut_short_steps_are_in_the_summary_and_the_next_steps_run(ge, tmp_path):
    out = tmp_path / "out"
    run = _runner(ge, out)
    bad = "import sys; print('no CUDA kernel image for this card', file=sys.stderr); sys.exit(3)"
    failed = run.step("calibrate", [sys.executable, "-c", bad], budget_s=30, estimate_s=1)
    ok = run.step("predict", [sys.executable, "-c", "print('fine')"], budget_s=30, estimate_s=1)
    assert (failed.status, failed.rc, ok.status) == ("failed", 3, "ok")
    assert run.part.status == "partly measured: calibrate failed (exit status 3)"
    records = [run.part, ge.PartRecord("memory", 2, "Memory peak: predicted against measured")]
    c = ge.Context(run, out, True, {"torch": "2", "python": "3", "cpus": 1}, "cpu", ("time", "memory"))
    text = ge.summary(c, records, ["--smoke", "--out", str(out)], "today", (1.0, 1.0, 1.0), None)
    assert "| 1. Step time: predicted against measured | partly measured: calibrate failed (exit status 3) |" in text
    assert "no CUDA kernel image for this card" in text  # the stderr tail, under its step
    assert "| 2. Memory peak: predicted against measured | not run yet |" in text
    assert "(the run is not finished)" in text


def test_a_step_is_not_started_past_the_deadline(ge, tmp_path):
    run = _runner(ge, tmp_path / "out")
    run.deadline = time.monotonic() + 1
    o = run.step("late", [sys.executable, "-c", "print(1)"], budget_s=30, estimate_s=1)
    assert o.status == "skipped" and "minutes were up" in o.reason
    assert run.part.status.startswith("skipped: ")


def test_a_part_that_breaks_or_overruns_leaves_the_other_parts_and_a_summary(ge, tmp_path, monkeypatch):
    monkeypatch.setattr(ge, "MIN_STEP_S", 1.0)

    def time_part(c):  # cut short: its budget is below what it needs
        c.run.step(
            "slow", [sys.executable, "-c", "import sys, time; print('half', file=sys.stderr); time.sleep(60)"], 3, 1
        )

    def memory_part(c):
        raise KeyError("rows")  # a bug in the part itself

    def fast_part(c):
        c.run.step("quick", [sys.executable, "-c", "print('fine')"], 30, 1)

    parts = [(k, t, f) for (k, t, _), f in zip(ge.PARTS, (time_part, memory_part, fast_part, fast_part), strict=True)]
    monkeypatch.setattr(ge, "PARTS", parts)
    monkeypatch.setattr(ge, "probe", lambda smoke: {"torch": "2.x", "python": "3", "cpus": 1, "torchvision": None})
    out = tmp_path / "out"
    assert ge.main(["--smoke", "--out", str(out)]) == 1
    parts = json.loads((out / "parts.json").read_text())["parts"]
    assert [p["status"] for p in parts] == [
        "slow cut short (ran past its 3 s budget)",
        "the part itself failed (KeyError: 'rows')",
        "measured",
        "measured",
    ]
    text = (out / "summary.md").read_text()
    assert "half" in text and "KeyError: 'rows'" in text and "after" in text
    assert all(s in text for s in SECTIONS)


def _row(model, mode, compiled, ms):
    return {"model": model, "mode": mode, "compile": compiled, "batch": 256, "ms_per_step": ms, "ms_min": ms * 0.99}


def test_a_gpu_summary_pairs_each_figure_with_its_prediction_and_the_goals(ge, tmp_path):
    """The summary of a GPU run, from raw files shaped as the benchmark scripts write them."""
    out = tmp_path / "out"
    for folder in ("time", "fast", "memory"):
        (out / folder).mkdir(parents=True)
    for label, train, infer in (("datasheet", 30.15, 8.34), ("calibrated", 40.0, 12.0)):
        for mode, ms in (("train", train), ("infer", infer)):
            (out / "time" / f"predict-{label}-{mode}.json").write_text(json.dumps({"step_ms": ms}))
    groups = {
        "eager": [_row(m, "train", False, t) for m, t in (("torchvision", 41.6), ("plain", 41.5), ("fast", 40.0))]
        + [_row(m, "infer", False, t) for m, t in (("torchvision", 13.75), ("plain", 13.7), ("fast", 12.0))],
        "compiled-infer": [
            _row(m, "infer", True, t) for m, t in (("torchvision", 8.45), ("plain", 8.5), ("fast", 8.0))
        ],
        "compiled-train": [_row(m, "train", True, t) for m, t in (("torchvision", 29.1), ("fast", 24.0))],
    }
    for name, rows in groups.items():
        for r in rows:
            r.update(ms_max=r["ms_per_step"] * 1.02, images_per_s=256 / r["ms_per_step"] * 1e3)
        (out / "fast" / f"{name}.json").write_text(json.dumps({"rows": rows, "notes": []}))
    memory = {"spec": "googlenet", "what": "peak", "dtype": "bf16", "batch": 256, "predicted_bytes": 9_000_000_000}
    memory.update(measured_bytes=10_500_000_000, diff=9 / 10.5 - 1, tolerance=0.1, ok=False)
    (out / "memory" / "memory.json").write_text(json.dumps({"device": "cuda", "rows": [memory]}))
    start = time.monotonic()
    run = ge.Runner(out, smoke=False, dry=False, deadline=start + 540, start=start)
    env = {"device_name": "NVIDIA H100 80GB HBM3", "cuda_available": True, "capability": "9.0", "torch": "2.11.0"}
    env.update(memory_bytes=80 * 2**30, cuda_build="13.0", cudnn=91000, driver="580.159.04", torchvision="0.26.0")
    c = ge.Context(run, out, False, env, "h100", tuple(k for k, _, _ in ge.PARTS))
    records = [ge.PartRecord(k, n, t, started=k != "study") for n, (k, t, _) in enumerate(ge.PARTS, 1)]
    text = ge.summary(c, records, ["--out", "reports/gpu/x"], "today", (0.1, 0.1, 0.1), (0.5, 0.4, 0.3))
    assert "# GPU evidence: NVIDIA H100 80GB HBM3" in text and "Smoke run" not in text
    assert "torch 2.11.0, CUDA 13.0 (torch's build), cuDNN 91000, driver 580.159.04" in text
    assert "googlenet-torchvision.yaml, batch 256, bf16 autocast + channels_last" in text
    assert "| train | 41.50 | 30.15 | -27% | 40.00 | -4% |" in text  # measured, datasheet, calibrated
    assert "| infer | 13.70 | 8.34 | -39% | 12.00 | -12% |" in text
    assert "| googlenet | peak | bf16 | 256 | 9,000,000,000 | 10,500,000,000 | -14.29% | 10% (off) |" in text
    assert "| fast | train | yes | 256 | 24.00 (23.76-24.48) | 10,667 | - | 1.21x |" in text
    assert "images/s over torchvision's, compiled training: 1.213x (goal >= 1.2x): met" in text
    assert "images/s over torchvision's, compiled inference: 1.056x (goal >= 1.15x): not met" in text
    assert "images/s over torchvision's, eager inference: 1.146x (goal >= 1.15x): not met" in text
    assert "## 4. Cost against accuracy: a reduced digits-clutter study\n\nNot run yet." in text


@pytest.mark.parametrize("seconds, runs", [(30, 0), (70, 1), (3600, 10)])
def test_the_reduced_study_fits_its_minutes_and_is_a_valid_plan(ge, tmp_path, seconds, runs):
    out = tmp_path / "out"
    (out / "study").mkdir(parents=True)
    start = time.monotonic()
    run = ge.Runner(out, smoke=False, dry=False, deadline=start + 600, start=start)
    c = ge.Context(run, out, False, {"device_name": "NVIDIA H100 80GB HBM3"}, "h100", ("study",))
    plan, why = ge.study_plan(c, seconds)
    if runs == 0:
        assert plan is None and "one run" in why
        return
    entries = len(plan["specs"]) + len(plan.get("widths", {}).get("values", []))
    assert entries == runs and plan["profile"] == "h100" and plan["epochs"] == ge.STUDY_EPOCHS
    run_s = ge.STUDY_RUN_S[0] + ge.STUDY_RUN_S[1] * ge.STUDY_EPOCHS
    assert entries * len(plan["seeds"]) * run_s <= seconds
    (out / "study" / "plan.yaml").write_text(json.dumps(plan))  # JSON is YAML
    r = CliRunner().invoke(app, ["study", str(out / "study" / "plan.yaml"), "--out", str(out / "study"), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert len(r.output.strip().splitlines()) == entries * len(plan["seeds"])


@pytest.mark.slow  # about 40 s on one quiet core
def test_smoke_run_writes_every_section_and_each_part_measured_or_says_why_not(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    out = tmp_path / "evidence"
    p = script("--smoke", "--out", str(out), timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    text = (out / "summary.md").read_text()
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "Smoke run" in text and "--smoke --out" in text and "torch " in text and "driver" in text
    parts = json.loads((out / "parts.json").read_text())["parts"]
    assert [q["key"] for q in parts] == ["time", "memory", "fast", "study"]
    for q in parts:
        assert q["status"] == "measured", q
        assert f"| {q['status']} |" in text
        for step in q["steps"]:
            assert step["status"] == "ok" or (step["status"] == "skipped" and step["reason"]), step
    for raw in (
        "time/profile.yaml",
        "time/predict-cpu.json",
        "time/predict-datasheet-train.json",
        "time/predict-calibrated-infer.json",
        "memory/memory.json",
        "fast/eager.json",
        "study/study.json",
        "study/tradeoff.json",
    ):
        assert (out / raw).is_file(), raw
    # step time: the predicted/measured pairs, the batch configuration's measured column filled by part 3
    pairs = re.search(r"^\| train \| ([\d,.]+) \| ([\d,.]+) \| ([+-]\d+%) \| ([\d,.]+) \| ([+-]\d+%) \|$", text, re.M)
    assert pairs, text
    assert re.search(r"^\| variant \| 1 \| [\d.]+ \| [\d.]+ \| [+-]\d+% \|$", text, re.M)
    # memory: predicted and measured bytes
    assert re.search(r"^\| variant \| peak \| fp32 \| 1 \| [\d,]+ \| [\d,]+ \| [+-][\d.]+% \| 5% \|$", text, re.M)
    # the fast build: plain and fast timed; torchvision measured, or said why not
    assert re.search(r"^\| fast \| train \| no \| 2 \| ", text, re.M)
    try:
        import torchvision  # noqa: F401
    except ImportError:
        assert "torchvision comparison: skipped: torchvision not installed" in text
    else:
        assert "the fast build's images/s over torchvision's, eager inference: " in text
    assert "compiled train: skipped: not in a smoke run" in text
    # the study's table and the tradeoff on its runs
    assert "### Study: smoke" in text and "| tiny-w0.5 |" in text and "| tiny-w0.5-s0 |" in text
    assert "Traceback" not in text
