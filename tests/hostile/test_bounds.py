"""Untrusted files read whole are bounded by what they can legitimately hold, thread counts by the machine, an
import's input by memory; a FIFO where the study keeps a cache never blocks; a plan's values are checked before
any run trains, and an error about one names the plan's file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inceptcost.train.checkpoint import MAGIC

PLAN = """name: p
data: {data}
epochs: 1
batch_size: {batch}
seeds: 1
device: cpu
threads: 1
specs: [tiny.yaml]
"""


def _plan(sandbox, data: str = "digits", batch: int = 16, extra: str = "") -> Path:
    return sandbox.write("plan.yaml", PLAN.format(data=data, batch=batch) + extra)


def _sparse(path: Path, size: int, head: bytes = MAGIC) -> Path:
    """A file of `size` bytes that takes no room on disk: `head`, then a hole."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


@pytest.fixture
def elsewhere(tmp_path_factory) -> Path:
    """A folder outside the sandbox, for files the sandbox's snapshot must not read whole (6 GiB sparse files)."""
    return tmp_path_factory.mktemp("elsewhere")


SIX_GIB = 6 << 30


@pytest.mark.parametrize(
    "command",
    [
        ["train", "SPEC", "--device", "cpu", "--init", "BIG", "--out", "ELSEWHERE/run"],
        ["bench", "SPEC", "--device", "cpu", "--weights", "BIG"],
        ["export", "SPEC", "--format", "torchscript", "--weights", "BIG", "--out", "ELSEWHERE/x.pt"],
    ],
    ids=["train --init", "bench --weights", "export --weights"],
)
@pytest.mark.parametrize("head", [MAGIC, b"PK\x03\x04"], ids=["checkpoint header", "zip header"])
def test_a_huge_weights_file_is_refused_before_it_is_read(sandbox, elsewhere, command, head):
    big = _sparse(elsewhere / "big.pt", SIX_GIB, head)
    names = {"SPEC": str(sandbox.spec), "BIG": str(big)}
    args = [names.get(a, a.replace("ELSEWHERE", str(elsewhere))) for a in command]
    sandbox.run(*args, match="bytes at most")


def test_a_huge_checkpoint_is_refused_on_resume(sandbox, elsewhere):
    run = elsewhere / "run"
    run.mkdir()
    _sparse(run / "checkpoint.pt", SIX_GIB)
    sandbox.run("train", sandbox.spec, "--device", "cpu", "--resume", "--out", run, match="bytes at most")


def test_the_checkpoint_bound_is_what_the_model_can_hold():
    import torch

    from inceptcost.train.checkpoint import SLACK_BYTES, size_limit

    model = torch.nn.Linear(100, 10)  # 1,010 elements
    assert size_limit(model) == 3 * 8 * 1010 + SLACK_BYTES


def _finished_study(sandbox, folder: Path) -> Path:
    """A plan whose one run has finished and whose report was written once (so its timing is cached)."""
    from typer.testing import CliRunner

    from inceptcost.cli import app

    plan = _plan(sandbox)
    args = ["study", str(plan), "--out", str(folder)]
    result = CliRunner().invoke(app, args + ["--parallel", "1"])
    assert result.exit_code == 0, result.stderr
    assert (folder / "bench" / "tiny.json").is_file()
    return plan


@pytest.mark.parametrize("kind", ["fifo", "4 GiB", "folder"])
def test_the_studys_timing_cache_is_never_blocked_on_nor_read_whole(sandbox, elsewhere, kind):
    plan = _finished_study(sandbox, elsewhere / "study")
    cache = elsewhere / "study" / "bench" / "tiny.json"
    cache.unlink()
    if kind == "fifo":
        os.mkfifo(cache)
    elif kind == "folder":
        cache.mkdir()
    else:
        _sparse(cache, 4 << 30, b"{")
    words = {"fifo": "not a regular file", "4 GiB": "larger than", "folder": "is a directory"}[kind]
    sandbox.run("study", plan, "--report-only", "--out", elsewhere / "study", match=words)


def test_an_import_input_that_cannot_fit_is_refused_with_the_figure(sandbox):
    sandbox.write("n.py", "import torch\n\ndef make():\n    return torch.nn.Conv2d(3, 8, 3)\n")
    out = sandbox.run(
        "import",
        f"{sandbox.root / 'n.py'}:make",
        "--input",
        "100000x100000x3",
        "--out",
        "x.yaml",
        match="100000x100000x3 float32 input needs",
    )
    assert "GiB" in out.stderr and "--input" in out.stderr


@pytest.mark.parametrize("threads", [10000, 10**30])
def test_a_plans_threads_are_bounded_by_the_machine(sandbox, threads):
    plan = sandbox.write("plan.yaml", PLAN.format(data="digits", batch=16).replace("threads: 1", f"threads: {threads}"))
    sandbox.run("study", plan, "--dry-run", match=f"{plan}:7: threads: must be at most")


def test_calibrate_threads_are_bounded_by_the_machine(sandbox):
    sandbox.run("calibrate", "--quick", "--threads", "10000", "--out", "cal.yaml", match="--threads 10000 is more than")


def test_study_parallel_is_bounded_by_the_machine(sandbox):
    plan = _plan(sandbox)
    sandbox.run("study", plan, "--parallel", "10000", "--out", sandbox.root / "s", match="--parallel 10000")


def test_a_plans_profile_is_checked_before_any_run(sandbox):
    plan = _plan(sandbox, extra="profile: nosuch\n")
    sandbox.run("study", plan, "--out", sandbox.root / "s", match=f"{plan}:9: profile: nosuch: no such profile")


@pytest.mark.parametrize(
    "data, batch, extra, words",
    [
        ("bogus", 16, "", ":2: data: unknown data source 'bogus'"),
        ("synthetic:lots", 16, "", ":2: data 'synthetic:lots': expected a sample count"),
        ("digits", 16, "recipe:\n  schedule: cosine\n  lr: -1\n", ":11: recipe: lr must be a positive number"),
        ("digits", 16, "recipe: {momentum: 2}\n", ":9: recipe: momentum must be in [0, 1)"),
    ],
    ids=["data", "data count", "recipe block", "recipe flow"],
)
def test_a_plans_values_are_reported_at_the_plans_line(sandbox, data, batch, extra, words):
    plan = _plan(sandbox, data=data, batch=batch, extra=extra)
    out = sandbox.run("study", plan, "--out", sandbox.root / "s", match=f"{plan}{words}", may_write=("s",))
    assert "--" not in out.stderr  # no command-line flag is named: the value came from the plan


def test_a_batch_the_data_cannot_fill_is_reported_at_the_plans_line(sandbox):
    """Found when the first run loads its data (the plan does not know the data set's size): before it trains."""
    from typer.testing import CliRunner

    from inceptcost.cli import app

    plan = _plan(sandbox, batch=10**12)
    result = CliRunner().invoke(app, ["study", str(plan), "--out", str(sandbox.root / "s")])
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"error: {plan}:4: batch_size 1000000000000 is larger than the training set (1437 images)"
    assert not (sandbox.root / "s" / "runs" / "tiny-s0" / "checkpoint.pt").exists()


def test_a_recipe_files_values_are_reported_at_its_line(sandbox):
    recipe = sandbox.write("r.yaml", "schedule: step\nlr: -1\n")
    sandbox.run("train", sandbox.spec, "--recipe", recipe, "--device", "cpu", match=f"{recipe}:2: recipe: lr must")


def test_an_error_keeps_its_place_across_a_process():
    import pickle

    from inceptcost.errors import InceptcostError, SettingError

    for error in (
        InceptcostError("bad", file="f.yaml", line=3, hint="fix it"),
        SettingError("{batch_size} too large", where="run"),
    ):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and again.__dict__ == error.__dict__ and str(again) == str(error)


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_a_study_folder_that_cannot_be_made_is_refused_before_any_run(sandbox, where):
    plan = _plan(sandbox)
    out = {"a file": sandbox.spec, "under a file": sandbox.spec / "study"}[where]
    sandbox.run("study", plan, "--out", out, match="give --out a folder")


def test_tradeoff_prints_its_table_without_reading_its_output_back(sandbox, elsewhere):
    """The table written through a pipe (a FIFO with a reader) is not read back from it, which would block."""
    import threading

    plan = _finished_study(sandbox, elsewhere / "study")
    assert plan.is_file()
    fifo = elsewhere / "t.md"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(Path(fifo).read_text()), daemon=True)
    reader.start()
    from typer.testing import CliRunner

    from inceptcost.cli import app

    run = elsewhere / "study" / "runs" / "tiny-s0"
    result = CliRunner().invoke(app, ["tradeoff", str(run), "--out-dir", str(elsewhere), "--stem", "t"])
    reader.join(10)
    assert result.exit_code == 0, result.stderr
    assert got and got[0].startswith("|") and got[0] in result.stdout
