"""Every command that writes refuses, in one line and before any work, an output that is one of its inputs: the
same file through another spelling, a symlink or a hard link, or a file that an output folder would replace.
A test walks the app, so that a new command with an output option cannot be left out."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PLAN = """name: p
data: digits
epochs: 1
batch_size: 8
seeds: 1
device: cpu
specs: [../../../tiny.yaml]
"""

# case -> (command line, the file the output would replace); NAMES in capitals are files of the sandbox below
CASES = {
    "analyze": ["analyze", "SPEC", "--out", "SPEC"],
    "verify": ["verify", "SPEC", "--out", "SPEC"],
    "compare": ["compare", "SPEC", "SPEC", "--out", "SPEC"],
    "diagram": ["diagram", "SPEC", "--out", "SPEC"],
    "sweep": ["sweep", "SPEC", "--out", "SPEC"],
    "sweep profile": ["sweep", "SPEC", "--profile", "PROFILE", "--out", "PROFILE"],
    "fit": ["fit", "SPEC", "--budget", "1M", "--out", "SPEC"],
    "fit time profile": ["fit", "SPEC", "--time", "100ms", "--profile", "PROFILE", "--batch", "8", "--out", "PROFILE"],
    "memory": ["memory", "SPEC", "--out", "SPEC"],
    "memory hard link": ["memory", "SPEC", "--out", "HARDLINK"],
    "memory symlink": ["memory", "SPEC", "--out", "SYMLINK"],
    "memory other spelling": ["memory", "SPEC", "--out", "DOTTED"],
    "specs": ["specs", "ROOT", "--format", "md", "--out", "SPEC"],
    "predict": ["predict", "SPEC", "--out", "SPEC"],
    "predict profile": ["predict", "SPEC", "--profile", "PROFILE", "--out", "PROFILE"],
    "export": ["export", "SPEC", "--format", "onnx", "--out", "SPEC"],
    "export weights": ["export", "SPEC", "--format", "torchscript", "--weights", "WEIGHTS", "--out", "WEIGHTS"],
    "import": ["import", "PYFILE:make", "--out", "PYFILE"],
    "bench": ["bench", "SPEC", "--device", "cpu", "--out", "SPEC_JSON"],
    "bench weights": ["bench", "SPEC", "--device", "cpu", "--weights", "WEIGHTS_JSON", "--out", "WEIGHTS_JSON"],
    "bench per-layer csv": ["bench", "SPEC", "--device", "cpu", "--per-layer", "--out", "LAYERS_CSV"],
    "tradeoff": ["tradeoff", "RUN", "--out-dir", "RUN", "--stem", "summary"],
    "train": ["train", "RUNSPEC", "--device", "cpu", "--out", "RUN"],
    "train recipe": ["train", "SPEC", "--device", "cpu", "--recipe", "RECIPE", "--out", "RUN"],
    "train init": ["train", "SPEC", "--device", "cpu", "--init", "INIT", "--out", "RUN"],
    "study": ["study", "PLAN", "--out", "ROOT/study"],
    "study report-only": ["study", "PLAN", "--report-only", "--out", "ROOT/study"],
}

# commands with an output option that read no file of the user's: nothing to overwrite
READS_NOTHING = {"calibrate"}


def _sandbox_files(sandbox) -> dict[str, str]:
    root = sandbox.root
    spec = sandbox.spec
    profile = sandbox.write("P.yaml", (REPO / "profiles" / "cpu.yaml").read_text())
    (root / "link.yaml").symlink_to(spec)
    os.link(spec, root / "hard.yaml")
    os.link(spec, root / "tiny.json")  # the spec under an output's name
    os.link(spec, root / "rows.layers.csv")
    sandbox.write("w.json", "{}")
    sandbox.write("w.pt", b"PK\x03\x04 not a checkpoint")
    sandbox.write("n.py", "def make():\n    raise SystemExit('must not run')\n")
    sandbox.write("run/summary.json", '{"spec": "tiny"}')
    sandbox.write("run/config.yaml", sandbox.spec.read_text())
    sandbox.write("run/metrics.csv", "epoch\n")
    sandbox.write("recipe.yaml", "lr: 0.1\n")
    os.link(root / "recipe.yaml", root / "run" / "metrics.csv.tmp")
    shutil.move(root / "run" / "metrics.csv.tmp", root / "run" / "metrics.csv")
    os.link(root / "w.pt", root / "run" / "checkpoint.pt")
    sandbox.write("study/runs/tiny-s0/config.yaml", PLAN)
    return {
        "SPEC": str(spec),
        "PROFILE": str(profile),
        "HARDLINK": str(root / "hard.yaml"),
        "SYMLINK": str(root / "link.yaml"),
        "DOTTED": f"{root}/./sub/../tiny.yaml",
        "ROOT": str(root),
        "SPEC_JSON": str(root / "tiny.json"),
        "WEIGHTS": str(root / "w.pt"),
        "WEIGHTS_JSON": str(root / "w.json"),
        "LAYERS_CSV": str(root / "rows.csv"),
        "PYFILE": str(root / "n.py"),
        "RUN": str(root / "run"),
        "RUNSPEC": str(root / "run" / "config.yaml"),
        "RECIPE": str(root / "recipe.yaml"),
        "INIT": str(root / "run" / "checkpoint.pt"),
        "PLAN": str(root / "study" / "runs" / "tiny-s0" / "config.yaml"),
        "ROOT/study": str(root / "study"),
    }


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_an_output_over_an_input_is_refused_before_the_work(sandbox, case):
    (sandbox.root / "sub").mkdir()
    names = _sandbox_files(sandbox)
    args = []
    for a in CASES[case]:
        head, colon, tail = a.partition(":")
        args.append(names.get(a) or (names[head] + colon + tail if head in names else a))
    sandbox.run(*args, match="is an input of this command")


def test_every_command_with_an_output_is_covered():
    """A command that gains --out or --out-dir must get a case above (or be listed as reading nothing)."""
    import typer.main

    from inceptcost.cli import app

    covered = {CASES[c][0] for c in CASES} | READS_NOTHING
    group = typer.main.get_command(app)
    writers = {
        name for name, command in group.commands.items() if any(p.name in ("out", "out_dir") for p in command.params)
    }
    assert writers, "no command with an output option found: the walk is broken"
    assert writers <= covered, f"commands that write but have no over-an-input case: {sorted(writers - covered)}"


def test_calibrate_checks_its_output_before_the_microbenchmarks(sandbox):
    sandbox.run("calibrate", "--quick", "--out", sandbox.root / "missing" / "cal.yaml", match="folder does not exist")


def test_a_fifo_output_without_a_reader_is_refused_not_waited_on(sandbox):
    sandbox.fifo("out.json")
    sandbox.run("analyze", sandbox.spec, "-f", "json", "--out", sandbox.root / "out.json", match="FIFO")
