"""Paths that are not what a command expects, for every command that reads a file: a FIFO (must never block), a
directory, a missing file, /dev/zero, a name that is not UTF-8. One line, exit 2, nothing written."""

from __future__ import annotations

import os

import pytest

# command -> how the hostile path is passed (SPEC stands for it)
COMMANDS = {
    "analyze": ["analyze", "SPEC"],
    "analyze md": ["analyze", "SPEC", "--format", "md"],
    "verify": ["verify", "SPEC"],
    "compare A": ["compare", "SPEC", "tiny.yaml"],
    "compare B": ["compare", "tiny.yaml", "SPEC"],
    "diagram": ["diagram", "SPEC"],
    "sweep": ["sweep", "SPEC"],
    "fit": ["fit", "SPEC", "--budget", "1M"],
    "bench": ["bench", "SPEC", "--device", "cpu"],
    "train spec": ["train", "SPEC", "--device", "cpu"],
    "train recipe": ["train", "tiny.yaml", "--device", "cpu", "--recipe", "SPEC"],
}

KINDS = {
    "fifo": "is not a regular file",
    "directory": "is a directory",
    "missing": "no such file",
    "dev-zero": "is not a regular file",
    "non-UTF-8 name, missing": "no such file",
}


def _path(sandbox, kind: str) -> str:
    if kind == "fifo":
        return str(sandbox.fifo("pipe.yaml"))
    if kind == "directory":
        (sandbox.root / "folder.yaml").mkdir()
        return str(sandbox.root / "folder.yaml")
    if kind == "missing":
        return str(sandbox.root / "nope.yaml")
    if kind == "dev-zero":
        return "/dev/zero"
    return os.fsdecode(bytes(sandbox.root) + b"/caf\xe9.yaml")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_paths_that_are_not_files(sandbox, command, kind):
    path = _path(sandbox, kind)
    args = [path if a == "SPEC" else a for a in COMMANDS[command]]
    sandbox.run(*args, match=KINDS[kind])


def test_a_fifo_in_a_specs_folder_does_not_block(sandbox):
    folder = sandbox.root / "specs"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(sandbox.spec.read_text())
    sandbox.fifo("specs/pipe.yaml")
    sandbox.run("specs", folder, match="pipe.yaml: is not a regular file")


def test_a_valid_spec_with_a_non_utf8_name_works(sandbox):
    raw = bytes(sandbox.root) + b"/caf\xe9.yaml"
    with open(raw, "wb") as f:
        f.write(sandbox.spec.read_bytes())
    name = os.fsdecode(raw)
    for command in (["analyze"], ["analyze", "--format", "md"], ["verify"], ["diagram"], ["sweep"]):
        sandbox.run(*command, name, code=0)


def test_a_spec_with_a_non_utf8_name_and_an_error_prints_an_escaped_name(sandbox):
    raw = bytes(sandbox.root) + b"/bad\xff.yaml"
    with open(raw, "wb") as f:
        f.write(b"name: x\n")
    out = sandbox.run("analyze", os.fsdecode(raw))
    assert "bad\\xff.yaml" in out.stderr


def test_recipe_fifo_never_blocks_even_with_a_writer_later(sandbox):
    """The FIFO is refused at open (non-blocking) and fstat, not read: no writer is needed to get an answer."""
    fifo = sandbox.fifo("recipe.yaml")
    sandbox.run("train", sandbox.spec, "--device", "cpu", "--recipe", fifo, match="is not a regular file")
