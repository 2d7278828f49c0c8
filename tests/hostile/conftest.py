"""The hostile-input suite's harness: run a command in-process, then check what a careless or hostile input
must end with: the expected exit code, exactly one `error: ...` line, no traceback, a few seconds at most,
every input file untouched and nothing written outside the places the case allows."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SECONDS = 5.0

TINY = """name: tiny
input: 16x16x1
classes: 10
defaults: {activation: relu, bias: true, norm: none}
layers:
  - {name: conv1, type: conv, patch: 3x3/1, out: 8}
  - {name: pool1, type: maxpool, patch: 2x2/2}
  - {name: gap, type: gap}
  - {name: linear, type: linear}
"""


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root: kind, mode and (for regular files) a hash of the content. FIFOs are not read."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            st = os.lstat(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
            found[os.fsdecode(path.relative_to(root))] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), digest)
    return found


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float


class Sandbox:
    """A folder that is the working directory of every command (so reports/runs/ lands inside it)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spec = self.write("tiny.yaml", TINY)

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def fifo(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        return path

    def run(self, *args, code: int = 2, match: str | None = None, may_write: tuple[str, ...] = ()) -> Outcome:
        """Run `inceptcost ARGS`; assert the hostile-input contract and return what it printed."""
        from typer.testing import CliRunner

        from inceptcost.cli import app

        before = snapshot(self.root)
        start = time.perf_counter()
        result = CliRunner().invoke(app, [a if isinstance(a, (str, bytes)) else str(a) for a in args])
        seconds = time.perf_counter() - start
        out = Outcome(result.exit_code, result.stdout, result.stderr, seconds)
        shown = f"exit {out.code}\nstdout: {out.stdout[-2000:]}\nstderr: {out.stderr[-2000:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), shown + repr(result.exception)
        assert "Traceback" not in out.stdout + out.stderr, shown
        assert out.code == code, shown
        errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
        if code == 2:
            assert len(errors) == 1 and out.stderr.strip() == errors[0], shown
            assert all(ch.isprintable() for ch in errors[0]), shown  # no ESC, NUL or raw bytes on the terminal
            if match is not None:
                assert match in errors[0], shown
        else:
            assert not errors, shown
        assert seconds < SECONDS, f"{seconds:.1f} s\n{shown}"
        after = snapshot(self.root)
        for name, entry in before.items():
            assert after.get(name) == entry, f"input {name} changed or removed\n{shown}"
        new = [n for n in after.keys() - before.keys() if not any(n.startswith(p) for p in may_write)]
        assert not new, f"wrote {new}\n{shown}"
        return out


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.chdir(tmp_path)
    return Sandbox(tmp_path)


@pytest.fixture(scope="session", autouse=True)
def _warm(tmp_path_factory):
    """Import torch, matplotlib and the trainer's modules once (a trainer up to its checkpoint, which imports
    torch's optimizers and compiler pieces), so that no case's time limit pays for a first import."""
    import matplotlib.pyplot  # noqa: F401
    from typer.testing import CliRunner

    from inceptcost.cli import app

    folder = tmp_path_factory.mktemp("warm")
    (folder / "tiny.yaml").write_text(TINY)
    args = ["train", str(folder / "tiny.yaml"), "--device", "cpu", "--resume", "--out", str(folder / "run")]
    assert "no checkpoint" in CliRunner().invoke(app, args).stderr
    # typer rebuilds the click command from the function signatures on every invoke (about 0.4 s on a busy
    # machine); the suite builds it once, as a real process does.
    import typer.main
    import typer.testing

    built, original = typer.main.get_command(app), typer.testing._get_command
    typer.testing._get_command = lambda given: built if given is app else original(given)
    yield
    typer.testing._get_command = original
