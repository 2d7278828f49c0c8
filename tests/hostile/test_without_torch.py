"""The first quick-start install has no torch: every command that needs it (or matplotlib, onnx...) says so in
one line naming the extra to install and exits 2; the static commands still work. Each case runs the real
program in a process where `import torch` fails, as it does on a machine without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

BLOCKER = """import sys

class _Absent:
    # `import torch` (and any torch.* module) fails as it does where torch is not installed
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {BLOCKED}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Absent())
"""

TINY = """name: tiny
input: 16x16x1
classes: 10
layers:
  - {name: conv1, type: conv, patch: 3x3/1, out: 8}
  - {name: gap, type: gap}
  - {name: linear, type: linear}
"""
PLAN = "name: p\nspecs: [tiny.yaml]\ndata: synthetic\nepochs: 1\nbatch_size: 8\nseeds: [0]\ndevice: cpu\n"


def _run(tmp_path: Path, blocked: set[str], *args: str) -> subprocess.CompletedProcess:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER.replace("{BLOCKED}", repr(blocked)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    return subprocess.run(
        [sys.executable, "-m", "inceptcost", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY)
    (tmp_path / "plan.yaml").write_text(PLAN)
    (tmp_path / "w.pt").write_bytes(b"not read")
    (tmp_path / "net.py").write_text("def make():\n    return None\n")
    return tmp_path


NEEDS_TORCH = [
    ["train", "tiny.yaml", "--device", "cpu", "--data", "synthetic", "--epochs", "1"],
    ["train", "tiny.yaml", "--device", "cpu", "--init", "w.pt"],
    ["bench", "tiny.yaml", "--device", "cpu"],
    ["bench", "tiny.yaml", "--device", "cpu", "--weights", "w.pt"],
    ["study", "plan.yaml"],
    ["study", "plan.yaml", "--report-only"],
    ["calibrate", "--out", "cal.yaml", "--quick"],
    ["export", "tiny.yaml", "--format", "torchscript", "--out", "tiny.pt"],
    ["import", "net.py:make", "--out", "net.yaml"],
]


@pytest.mark.parametrize("args", NEEDS_TORCH, ids=lambda a: " ".join(a[:1] + [x for x in a if x.startswith("--")]))
def test_a_command_that_needs_torch_says_so_in_one_line(folder: Path, args: list[str]) -> None:
    before = sorted(p.name for p in folder.iterdir())
    done = _run(folder, {"torch"}, *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "torch" in lines[0] and "pip install" in lines[0], lines[0]
    assert sorted(p.name for p in folder.iterdir() if p.name != "site") == before  # nothing written


def test_only_an_optional_package_is_reported_as_not_installed() -> None:
    """A missing module of an extra (at any depth) names its extra; any other missing module is a bug of ours and
    keeps its traceback rather than a message that sends the user to install something."""
    from inceptcost.interop.extras import missing

    shown = str(missing(ModuleNotFoundError("x", name="matplotlib.pyplot"), "this command"))
    assert "'matplotlib'" in shown and "inceptcost[torch]" in shown
    assert "inceptcost[onnx]" in str(missing(ModuleNotFoundError("x", name="onnxruntime"), "this command"))
    assert missing(ModuleNotFoundError("x", name="inceptcost.nosuch"), "this command") is None
    assert missing(ModuleNotFoundError("x"), "this command") is None


@pytest.mark.parametrize(
    "args", [["analyze", "tiny.yaml"], ["memory", "tiny.yaml"], ["predict", "tiny.yaml"], ["sweep", "tiny.yaml"]]
)
def test_the_static_commands_work_without_torch(folder: Path, args: list[str]) -> None:
    done = _run(folder, {"torch"}, *args)
    assert done.returncode == 0, done.stderr
