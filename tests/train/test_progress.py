"""Progress of the long phases: on a terminal (a pseudo-terminal here) `train` and `bench` show each phase on
stderr; a redirected stdout gets its own lines only; --quiet draws nothing; the Python API gets the same phases as
events through `progress=`."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

from .conftest import REPO, write_tiny_spec

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
BAR = "━"


def on_terminal(args: list[str], stdout_file=None, timeout: float = 240) -> tuple[str, str]:
    """Run `python -m inceptcost ARGS` with stderr (and stdout, unless `stdout_file`) on a pseudo-terminal;
    returns (what the terminal showed, without colour codes; stdout's file content)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    out = open(stdout_file, "w") if stdout_file else follower  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "inceptcost", *args], stdout=out, stderr=follower, stdin=subprocess.DEVNULL, env=env
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait(timeout=timeout) == 0, shown.decode(errors="replace")[-2000:]
    if stdout_file:
        out.close()
    text = ANSI.sub(b"", shown).decode(errors="replace")
    return text, stdout_file.read_text() if stdout_file else ""


def train_args(tmp_path, *extra: str) -> list[str]:
    spec = write_tiny_spec(tmp_path)
    common = ["--data", "synthetic:32", "--epochs", "2", "--batch-size", "8", "--steps-per-epoch", "2"]
    return ["train", str(spec), *common, "--device", "cpu", "--out", str(tmp_path / "run"), *extra]


@pytest.mark.slow
def test_train_shows_its_phases_on_the_terminal_and_only_its_lines_on_stdout(tmp_path):
    stdout = tmp_path / "stdout.txt"
    shown, out = on_terminal(train_args(tmp_path), stdout_file=stdout)
    for phase in ("loading synthetic:32", "building tiny", "epoch 1/2", "epoch 2/2: evaluating", "img/s"):
        assert phase in shown, phase
    assert BAR in shown
    assert re.search(r"2/2 +loss \d+\.\d{4} +[\d,]+ img/s", shown)  # a log step: loss and images/s
    assert re.search(r"epoch 1/2 .* 1/2 .*\d+:\d\d left \(run \d+:\d\d\)", shown)  # time left: epoch and run
    lines = out.splitlines()  # stdout has exactly its own lines, none of the bar
    assert [line.split("  ")[0] for line in lines[:2]] == ["epoch 1/2", "epoch 2/2"]
    assert lines[2].startswith("tiny on synthetic:32: best val top-1") and len(lines) == 3
    assert "\x1b" not in out and "\r" not in out and BAR not in out


@pytest.mark.slow
def test_train_quiet_draws_no_bar(tmp_path):
    shown, _ = on_terminal(train_args(tmp_path, "--quiet"))
    assert "epoch 1/2  lr" in shown and "epoch 2/2  lr" in shown
    assert BAR not in shown and "building" not in shown and "left" not in shown


@pytest.mark.slow
def test_bench_shows_its_phases_on_the_terminal_and_its_table_on_stdout(tmp_path):
    spec = write_tiny_spec(tmp_path)
    stdout = tmp_path / "stdout.txt"
    args = ["bench", str(spec), "--device", "cpu", "--batch", "2", "--steps", "1", "--warmup", "3", "--repeats", "2"]
    shown, out = on_terminal(args, stdout_file=stdout)
    for phase in ("building inceptcost:tiny", "warming up inceptcost:tiny", "3/3", "timing inceptcost:tiny", "2/2"):
        assert phase in shown, phase
    assert "ms/step" in shown and BAR in shown
    assert "bench tiny" in out and "images/s" in out  # the table on stdout, without any of the bar
    assert "\x1b" not in out and BAR not in out and "warming up" not in out


def test_python_api_gets_the_same_phases(tmp_path):
    from inceptcost.spec import load_spec
    from inceptcost.train import TrainConfig, train
    from inceptcost.train.bench.runner import BenchConfig, run_bench

    spec = write_tiny_spec(tmp_path)
    events = []
    config = TrainConfig(
        spec=str(spec), data="synthetic:64", epochs=2, batch_size=8, device="cpu", steps_per_epoch=3, out=str(tmp_path)
    )
    summary = train(config, progress=events.append)
    phases = list(dict.fromkeys(e.phase for e in events))
    assert phases == ["loading data", "building", "epoch", "evaluating", "epoch done"]
    steps = [(e.values["epoch"], e.done, e.total) for e in events if e.phase == "epoch"]
    assert steps == [(epoch, step, 3) for epoch in (1, 2) for step in (0, 1, 2, 3, 3)]  # 3: the tick and the log
    logged = [e.values for e in events if e.phase == "epoch" and "loss" in e.values]
    assert len(logged) == 2 and all(v["images_per_s"] > 0 and v["seconds_left"] == 0 for v in logged)
    first = next(e.values for e in events if e.phase == "epoch" and e.done == 1)
    assert first["run_seconds_left"] > first["seconds_left"] > 0  # epoch 1 of 2: the run has one more
    done = [e.values for e in events if e.phase == "epoch done"]
    assert len(done) == 2 and done[-1]["val_top1"] == summary["final_val_top1"]

    bench_events = []
    cfg = BenchConfig(device="cpu", batch=2, steps=1, warmup=2, repeats=3)
    run_bench(load_spec(spec), cfg, progress=bench_events.append)
    shown = [(e.phase, e.done, e.total) for e in bench_events]
    assert shown == [("building", None, None), ("warming up", 1, 2), ("warming up", 2, 2)] + [
        ("timing", r, 3) for r in range(4)
    ]
