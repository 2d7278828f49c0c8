"""A file name that is not UTF-8 (`caf\\xe9.yaml`, written by an older system or copied from an archive): every
command that prints it or writes it into a report, a spec header or a diagram works, and shows it as the
escape `caf\\xe9.yaml`; every file written is valid UTF-8."""

from __future__ import annotations

import json
import os

import pytest

NAME = os.fsdecode(b"caf\xe9.yaml")  # the undecodable byte kept as a lone surrogate, as Python reads argv
SHOWN = "caf\\xe9"

# (arguments after the spec, the file written or None for stdout)
CASES = [
    (["analyze", "--format", "md", "--out", "r.md"], "r.md"),
    (["analyze", "--out", "r.txt"], "r.txt"),
    (["analyze", "--format", "json", "--out", "r.json"], "r.json"),
    (["analyze", "--format", "md"], None),
    (["fit", "--budget", "20K"], None),
    (["fit", "--budget", "20K", "--out", "fitted.yaml"], "fitted.yaml"),
    (["compare", "tiny.yaml", "--format", "md"], None),
    (["compare", "tiny.yaml", "--format", "md", "--out", "c.md"], "c.md"),
    (["memory", "--format", "md", "--out", "m.md"], "m.md"),
    (["predict", "--format", "md", "--out", "p.md"], "p.md"),
    (["sweep", "--width", "1:2:1", "--format", "md", "--out", "s.md"], "s.md"),
    (["diagram", "--out", "d.dot"], "d.dot"),
]


@pytest.mark.parametrize("args, written", CASES, ids=lambda c: " ".join(c) if isinstance(c, list) else str(c))
def test_a_spec_whose_name_is_not_utf8(sandbox, args, written) -> None:
    spec = sandbox.root / NAME
    spec.write_text(sandbox.spec.read_text())
    command, rest = args[0], args[1:]
    out = sandbox.run(command, str(spec.name), *rest, code=0, may_write=(written,) if written else ())
    if written is None:
        assert SHOWN in out.stdout
    else:
        text = (sandbox.root / written).read_bytes().decode("utf-8")  # valid UTF-8, no raw byte
        if written.endswith(".json"):  # JSON's own escape of the surrogate: it reads back as the same name
            assert json.loads(text)["spec"] == NAME
        elif command in ("analyze", "fit", "compare", "predict"):  # the reports that name their spec
            assert SHOWN in text


def test_a_folder_of_specs_one_not_utf8(sandbox) -> None:
    (sandbox.root / "specs").mkdir()
    (sandbox.root / "specs" / NAME).write_text(sandbox.spec.read_text())
    sandbox.run("specs", "specs", "--format", "md", "--out", "i.md", code=0, may_write=("i.md",))
    assert SHOWN in (sandbox.root / "i.md").read_bytes().decode("utf-8")


def test_an_error_about_it_names_it_printably(sandbox) -> None:
    (sandbox.root / NAME).write_text("name: [unclosed\n")
    sandbox.run("analyze", NAME, match=SHOWN)
