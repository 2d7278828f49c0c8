"""Ctrl-C and SIGKILL mid-epoch, one and two CPU workers: the run resumes to the same weights, bit for bit, as a
run never interrupted; Ctrl-C is one line and a saved checkpoint, not a traceback per worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from inceptcost.train.checkpoint import load_checkpoint

from .conftest import REPO, run_cli, write_tiny_spec

# Two workers check for Ctrl-C where they synchronize anyway (every 20 steps): 30 steps leave one mid-epoch.
STEPS = {1: "12", 2: "30"}


def _args(spec, out, workers, *extra):
    args = ["train", str(spec), "--device", "cpu", "--epochs", "1", "--steps-per-epoch", STEPS[workers]]
    args += ["--batch-size", "32", "--save-every", "3", "--out", str(out), *extra]
    return args + (["--nproc", str(workers)] if workers > 1 else [])


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return write_tiny_spec(tmp_path_factory.mktemp("spec"), dropout=0.3, norm="bn")  # RNG and buffers matter


@pytest.fixture(scope="module")
def reference(spec, tmp_path_factory):
    """The uninterrupted run's final weights, per number of workers (made when first asked for)."""
    made = {}

    def weights(workers: int) -> dict:
        if workers not in made:
            out = tmp_path_factory.mktemp(f"ref{workers}")
            done = run_cli(*_args(spec, out, workers), timeout=600)
            assert done.returncode == 0, done.stderr
            made[workers] = load_checkpoint(out / "checkpoint.pt")["model"]
        return made[workers]

    return weights


def _interrupt(spec, out, workers: int, sig: signal.Signals) -> tuple[subprocess.Popen, str]:
    """Start a run in its own process group and send `sig` to the whole group (what a terminal's Ctrl-C does)
    once a checkpoint mid-epoch exists."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "inceptcost", *_args(spec, out, workers)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline, sent = time.time() + 300, False
    while time.time() < deadline and proc.poll() is None:
        try:
            state = load_checkpoint(out / "checkpoint.pt")
        except Exception:  # not written yet
            state = None
        if state is not None and state["step_in_epoch"] > 0:
            os.killpg(proc.pid, sig)
            sent = True
            break
        time.sleep(0.01)
    _, stderr = proc.communicate(timeout=300)
    assert sent, stderr
    return proc, stderr


def _resume_and_compare(spec, out, workers, reference):
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["epoch"] < 1, "the run finished before the signal"
    resumed = run_cli(*_args(spec, out, workers, "--resume"), timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    final = load_checkpoint(out / "checkpoint.pt")["model"]
    ref = reference(workers)
    assert final.keys() == ref.keys()
    for k in ref:
        assert torch.equal(final[k], ref[k]), (
            f"{k} differs after resuming from {state['epoch'], state['step_in_epoch']}"
        )
    assert json.loads((out / "summary.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_is_one_line_and_a_checkpoint_that_resumes_exactly(spec, reference, tmp_path, workers):
    out = tmp_path / "run"
    proc, stderr = _interrupt(spec, out, workers, signal.SIGINT)
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted") and "--resume" in lines[0], stderr
    state = load_checkpoint(out / "checkpoint.pt")
    if workers == 1:  # one process stops at the next step; two at their next synchronization
        assert state["step_in_epoch"] > 0
    _resume_and_compare(spec, out, workers, reference)


def test_sigkill_two_workers_mid_epoch_then_resume_exactly(spec, reference, tmp_path):
    out = tmp_path / "run"
    proc, _ = _interrupt(spec, out, 2, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    _resume_and_compare(spec, out, 2, reference)
