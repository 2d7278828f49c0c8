"""Outputs: never over an input, never over a file the user did not name, checked before the work, and the
terminal cases (an encoding without the symbols, COLUMNS=0, a closed or full stdout)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

OVER_INPUT = {
    "analyze": ["analyze", "SPEC", "--out", "SPEC"],
    "analyze json": ["analyze", "SPEC", "-f", "json", "--out", "SPEC"],
    "verify": ["verify", "SPEC", "--out", "SPEC"],
    "compare A": ["compare", "SPEC", "other.yaml", "--out", "SPEC"],
    "compare B": ["compare", "other.yaml", "SPEC", "--out", "SPEC"],
    "diagram": ["diagram", "SPEC", "--out", "SPEC"],
    "sweep": ["sweep", "SPEC", "--out", "SPEC"],
    "fit": ["fit", "SPEC", "--budget", "1M", "--out", "SPEC"],
    "via a link": ["analyze", "SPEC", "--out", "LINK"],
}


@pytest.mark.parametrize("case", list(OVER_INPUT), ids=list(OVER_INPUT))
def test_out_naming_an_input_is_refused(sandbox, case):
    sandbox.write("other.yaml", sandbox.spec.read_text())
    (sandbox.root / "link.yaml").symlink_to(sandbox.spec)
    args = [
        str(sandbox.spec) if a == "SPEC" else str(sandbox.root / "link.yaml") if a == "LINK" else a
        for a in OVER_INPUT[case]
    ]
    sandbox.run(*args, match="is an input of this command")


@pytest.mark.parametrize("command", ["analyze", "verify", "sweep", "diagram", "bench"])
@pytest.mark.parametrize("where", ["missing folder", "a folder", "under a file"])
def test_unwritable_out_is_refused_before_the_work(sandbox, command, where):
    target = {"missing folder": "nowhere/x.json", "a folder": "folder.json", "under a file": "tiny.yaml/x.json"}[where]
    (sandbox.root / "folder.json").mkdir()
    words = {"missing folder": "folder does not exist", "a folder": "is a folder", "under a file": "does not exist"}
    extra = ["--device", "cpu"] if command == "bench" else []
    sandbox.run(command, sandbox.spec, "--out", sandbox.root / target, *extra, match=words[where])


def test_out_over_a_private_file_keeps_its_mode(sandbox):
    out = sandbox.write("private.json", "{}")
    out.chmod(0o600)
    from typer.testing import CliRunner

    from inceptcost.cli import app

    result = CliRunner().invoke(app, ["analyze", str(sandbox.spec), "-f", "json", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and len(out.read_text()) > 100


def test_diagram_without_dot_keeps_an_existing_dot_file(sandbox, monkeypatch):
    monkeypatch.setenv("PATH", "")
    existing = sandbox.write("net.dot", "digraph hand_edited {}\n")
    out = sandbox.run("diagram", sandbox.spec, "--out", "net.svg", match="net.1.dot", may_write=("net.1.dot",))
    assert existing.read_text() == "digraph hand_edited {}\n"
    assert (sandbox.root / "net.1.dot").read_text().startswith("digraph")
    assert "`dot`" in out.stderr


@pytest.mark.parametrize("command", [["train", "SPEC", "--device", "cpu"], ["bench", "SPEC", "--device", "cpu"]])
def test_compile_without_a_cpp_compiler_is_one_line(sandbox, monkeypatch, command):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CXX", raising=False)
    args = [str(sandbox.spec) if a == "SPEC" else a for a in command]
    sandbox.run(*args, "--compile", match="--compile needs a C++ compiler")


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_train_out_that_cannot_be_a_folder(sandbox, where):
    out = {"a file": sandbox.spec, "under a file": sandbox.spec / "run"}[where]
    words = {"a file": "is a file, not a run folder", "under a file": "cannot make the run folder under the file"}
    sandbox.run("train", sandbox.spec, "--device", "cpu", "--out", out, match=words[where])


@pytest.mark.parametrize("fmt", ["csv", "md", "json"])
def test_sweep_honours_format(sandbox, fmt):
    out = sandbox.run("sweep", sandbox.spec, "--width", "0.5,1", "--format", fmt, code=0)
    first = out.stdout.splitlines()[0]
    assert {"csv": first.startswith("width,"), "md": first.startswith("| width |"), "json": first == "{"}[fmt]


def test_the_default_run_folder_stays_under_reports_runs():
    from inceptcost.train import TrainConfig

    for name in ("../../etc/x", "/abs/path", "a\0b", "x" * 300, "..", "-", "ré$umé"):
        path = TrainConfig(spec="s.yaml").run_dir(name)
        assert path.parent == Path("reports/runs") and len(path.name) <= 100 and path.name not in ("", ".", "..")
        assert "/" not in path.name and "\0" not in path.name


def _cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "inceptcost", *args], cwd=REPO, env=env, timeout=120, **kwargs)


def test_a_closed_stdout_is_one_line(tmp_path):
    # `>&-`: the child starts with no file descriptor 1
    proc = _cli(
        "analyze",
        "specs/variant.yaml",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=(),
        preexec_fn=lambda: os.close(1),
    )
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert proc.stderr.startswith("error: cannot write the output (standard output is closed)")


def test_a_full_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        proc = _cli("analyze", "specs/variant.yaml", stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "No space left on device" in proc.stderr


def test_an_ascii_terminal_gets_escapes_not_a_traceback():
    proc = _cli("analyze", "specs/variant.yaml", env={"PYTHONIOENCODING": "ascii"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Table 1" in proc.stdout and "Traceback" not in proc.stderr


def test_columns_zero_still_prints_the_table():
    import pty

    # A terminal (where rich honours COLUMNS) with COLUMNS=0: the table must still be printed.
    leader, follower = pty.openpty()
    proc = _cli("analyze", "specs/variant.yaml", env={"COLUMNS": "0"}, stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert proc.returncode == 0, proc.stderr
    assert b"inception_3a" in output
