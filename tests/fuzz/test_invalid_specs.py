"""Invalid specs, generated, mutated and hand-written: exit 2, one line on stderr with file:line and a hint,
within 1 s, no traceback, and no output file written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from fuzz_specgen import (
    COUNTS,
    Generated,
    assert_clean_error,
    examples,
    mutations,
    run_cli,
    text_mutations,
    valid_specs,
)
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz


def _analyze(tmp: Path, text: str | bytes, name: str = "spec.yaml"):
    spec, out = tmp / name, tmp / "out.json"
    if isinstance(text, bytes):
        spec.write_bytes(text)
    else:
        spec.write_text(text, encoding="utf-8")
    run = run_cli(["analyze", str(spec), "--format", "json", "--out", str(out)])
    return spec, out, run


def _no_output(tmp: Path, spec: Path) -> None:
    assert sorted(p.name for p in tmp.iterdir()) == [spec.name], "an output (or temp) file was written"


@pytest.mark.slow
@settings(max_examples=examples(300))
@given(gen=valid_specs(), data=st.data(), flow=st.booleans())
def test_mutated_specs_fail_cleanly(gen: Generated, data, flow: bool) -> None:
    mutation = data.draw(mutations(gen), label="mutation")
    COUNTS[f"invalid specs ({'must fail' if mutation.must_fail else 'may pass'})"] += 1
    text = Generated(mutation.data, gen.out_shape).yaml(flow)
    with tempfile.TemporaryDirectory() as tmp:
        spec, out, run = _analyze(Path(tmp), text)
        assert run.exception is None, f"{mutation.what}: crashed with {run.exception!r}"
        if run.code == 0 and not mutation.must_fail:
            assert out.is_file()
            return
        assert_clean_error(run, spec, what=f"{mutation.what}\n{text}")
        assert run.seconds < 1.0, f"{mutation.what}: took {run.seconds:.2f} s"
        _no_output(Path(tmp), spec)
    COUNTS["exit 2 with one clean line"] += 1


@pytest.mark.slow
@settings(max_examples=examples(300))
@given(gen=valid_specs(max_modules=2), data=st.data(), flow=st.booleans())
def test_text_mutations_never_crash(gen: Generated, data, flow: bool) -> None:
    """Random edits of the YAML text (brackets, colons, tabs, anchors, truncation): valid or a clean error."""
    text = data.draw(text_mutations(gen.yaml(flow)), label="text")
    COUNTS["YAML text mutations"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        spec, out, run = _analyze(Path(tmp), text)
        assert run.exception is None, f"crashed with {run.exception!r}\n{text}"
        if run.code == 0:
            assert out.is_file()
            return
        assert_clean_error(run, spec, line=bool(text.strip()), what=text)
        assert run.seconds < 1.0
        _no_output(Path(tmp), spec)
    COUNTS["exit 2 with one clean line"] += 1


@pytest.mark.slow
@settings(max_examples=examples(100))
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    COUNTS["arbitrary byte strings"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        spec, out, run = _analyze(Path(tmp), raw)
        assert run.exception is None, f"crashed with {run.exception!r} on {raw!r}"
        assert run.code == 2, raw  # no random text is a spec with input and layers
        assert_clean_error(run, spec, line=False, what=repr(raw))
        _no_output(Path(tmp), spec)


# ---- hand-written cases: each names the line the error must point at (None: no line) and words it must say ----

OK = """\
name: tiny
input: 32x32x3
classes: 10
layers:
  - {name: conv1, type: conv, patch: 3x3/1, out: 8}
  - {name: inception_3a, type: inception, 1x1: 4, 3x3reduce: 4, 3x3: 8, 5x5reduce: 2, 5x5: 4, poolproj: 4}
  - {name: pool, type: gap}
  - {name: fc, type: linear}
"""


def _edit(old: str, new: str) -> str:
    assert old in OK
    return OK.replace(old, new)


AUX = OK + "aux:\n  - {name: aux1, at: %s, layers: [{type: gap}, {type: linear}]}\n"
CASES = {
    # wrong types
    "out is text": (_edit("out: 8", "out: eight"), 5, "positive whole number"),
    "kernel is a list of 3": (_edit("patch: 3x3/1", "kernel: [1, 2, 3]"), 5, "expected 2 sizes"),
    "classes is text": (_edit("classes: 10", "classes: ten"), 3, "classes"),
    "input has 2 dims": (_edit("32x32x3", "32x32"), 2, "HxWxC"),
    "layers is a mapping": ("input: 32x32x3\nlayers: {a: 1}\n", 2, "non-empty list"),
    "a layer is a list": (_edit("  - {name: pool, type: gap}", "  - [gap]"), 7, "mapping"),
    "bias is text": (_edit("out: 8}", "out: 8, bias: 'yes'}"), 5, "true or false"),
    "type is a number": (_edit("type: gap", "type: 3"), 7, "'type' must be a word"),
    "aux at is a list": (AUX % "[conv1]", 10, "'at' names no layer"),
    # zero / negative / float / huge numbers
    "out 0": (_edit("out: 8", "out: 0"), 5, "positive whole number"),
    "out negative": (_edit("out: 8", "out: -8"), 5, "positive whole number"),
    "out float": (_edit("out: 8", "out: 8.0"), 5, "whole number"),
    "out huge": (_edit("out: 8", "out: 10000000000000"), 5, "positive whole number"),
    "stride 0 in patch": (_edit("3x3/1", "3x3/0"), 5, "positive whole number"),
    "kernel 0 in patch": (_edit("3x3/1", "0x3/1"), 5, "positive whole number"),
    "5000-digit number": (_edit("classes: 10", "classes: " + "9" * 5000), 3, "too many digits"),
    "dropout p 1": (_edit("  - {name: fc", "  - {type: dropout, p: 1}\n  - {name: fc"), 8, "probability"),
    "budget nan": (_edit("classes: 10", "classes: 10\nbudget: {macs: .nan}"), 4, "finite"),
    "budget 400 digits": (_edit("classes: 10", "classes: 10\nbudget: {macs: " + "9" * 400 + "}"), 4, "finite"),
    "eps inf": (_edit("classes: 10", "classes: 10\ndefaults: {eps: .inf}"), 4, "positive number"),
    "column negative": (_edit("poolproj: 4", "poolproj: -4"), 6, "whole number >= 0"),
    # unknown and misspelled keys
    "misspelled column": (_edit("poolproj: 4", "poolprj: 4"), 6, "did you mean 'poolproj'"),
    "misspelled conv key": (_edit("out: 8", "out: 8, strid: 2"), 5, "did you mean 'stride'"),
    "misspelled top key": (_edit("classes: 10", "clases: 10"), 3, "did you mean 'classes'"),
    "unknown type": (_edit("type: gap", "type: gapp"), 7, "did you mean 'gap'"),
    "type with spaces": (_edit("type: gap", "type: max pool"), 7, "unknown layer type"),
    "unquoted # column": (_edit("3x3reduce: 4", "#3x3 reduce: 4"), 6, "quote keys"),
    # missing required fields
    "no input": (OK.replace("input: 32x32x3\n", ""), 1, "missing 'input'"),
    "no layers": ("input: 32x32x3\n", 1, "missing 'layers'"),
    "no type": (_edit("name: pool, type: gap", "name: pool"), 7, "missing 'type'"),
    "conv without out": (_edit(", out: 8}", "}"), 5, "missing 'out'"),
    "row without poolproj": (_edit(", poolproj: 4", ""), 6, "missing column poolproj"),
    "aux without at": (OK + "aux:\n  - {name: aux1, layers: [{type: linear}]}\n", 10, "missing 'at'"),
    # duplicate names, aux heads on unknown layers, reserved names
    "duplicate layer name": (_edit("name: pool", "name: conv1"), 7, "duplicate layer name"),
    "duplicate key": (_edit("classes: 10", "classes: 10\nclasses: 5"), 4, "duplicate key"),
    "aux on unknown layer": (AUX % "inception_3z", 10, "did you mean 'inception_3a'"),
    "aux name taken": (AUX.replace("name: aux1", "name: conv1") % "conv1", 10, "already used"),
    "layer named input": (_edit("name: conv1", "name: input"), 5, "reserved"),
    # shapes
    "spatial collapse": (_edit("patch: 3x3/1", "kernel: 64, padding: valid"), 5, "collapses"),
    "ends in a feature map": (
        OK.replace("  - {name: fc, type: linear}\n", "").replace("type: gap", "type: lrn"),
        7,
        "gap",
    ),
    "conv after linear": (OK + "  - {type: conv, kernel: 1, out: 2}\n", 9, "feature map"),
    "even kernel same": (_edit("patch: 3x3/1", "kernel: 2"), 5, "odd kernel"),
    "groups do not divide": (_edit("out: 8}", "out: 8, groups: 5}"), 5, "groups=5"),
    "3x3 without reduce": (_edit("3x3reduce: 4", "3x3reduce: 0"), 6, "reduce"),
    # YAML itself
    "unclosed bracket": (_edit("out: 8}", "out: 8"), 6, "YAML syntax error"),
    "tab indentation": (_edit("  - {name: pool", "\t- {name: pool"), 7, "YAML syntax error"),
    "two documents": (OK + "---\ninput: 1\n", 9, "another document"),
    "top is a list": ("- 1\n- 2\n", 1, "mapping at the top"),
    "top is a scalar": ("hello\n", 1, "mapping at the top"),
    "month 13": (OK + "title: 2024-13-45\n", 9, "month"),
    "python tag": (OK + "title: !!python/object:os.system ls\n", 9, "YAML"),
    "bad merge": (OK + "title: {<<: 1}\n", 9, "YAML"),
    "complex key": (OK + "? [a, b]\n: 1\n", 9, "plain word"),
    "alias bomb": (
        "input: 32x32x3\na: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\nlayers: []\n",
        None,
        "expands to more than",
    ),
    "deep flow nesting": ("input: 32x32x3\nlayers: " + "[" * 200000 + "\n", 2, "nesting deeper"),
    "deep block nesting": ("input: 32x32x3\nlayers:\n" + "- " * 100000 + "1\n", 3, "nesting deeper"),
    "deep mappings": (
        "input: 32x32x3\nlayers:\n" + "".join(" " * i + "a:\n" for i in range(100)),
        None,
        "nesting deeper",
    ),
    "a million commas": ("input: 32x32x3\nlayers: [" + "1," * 400000 + "1]\n", 2, "nodes"),
    "empty file": ("", None, "empty file"),
    "only comments": ("# a spec\n   \n", 1, "only comments"),
    "only null": ("null\n", 1, "mapping at the top"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_hand_written_invalid_specs(case: str) -> None:
    text, line, words = CASES[case]
    COUNTS["hand-written invalid specs"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        spec, out, run = _analyze(Path(tmp), text)
        msg = assert_clean_error(run, spec, line=line is not None, what=case)
        if line is not None:
            assert f"{spec}:{line}:" in msg, msg
        assert words.lower() in msg.lower(), msg
        assert run.seconds < 1.0, f"took {run.seconds:.2f} s"
        _no_output(Path(tmp), spec)


FILE_CASES = {
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
    "latin-1": ("input: 32x32x3\ntitle: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    "utf-16": ("input: 32x32x3\n".encode("utf-16"), "binary"),
    "over 1 MiB": (b"# " + b"x" * (1 << 20) + b"\n", "larger than 1 MiB"),
}


@pytest.mark.parametrize("case", list(FILE_CASES), ids=list(FILE_CASES))
def test_unreadable_files(case: str) -> None:
    raw, words = FILE_CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        spec, out, run = _analyze(Path(tmp), raw)
        msg = assert_clean_error(run, spec, line=case == "latin-1", what=case)
        assert words in msg
        if case == "latin-1":
            assert f"{spec}:2:" in msg
        assert run.seconds < 1.0
        _no_output(Path(tmp), spec)


@pytest.mark.parametrize("kind", ["directory", "missing", "dev-zero", "nul-in-name", "long-name"])
def test_paths_that_are_not_spec_files(kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = {
            "directory": tmp,
            "missing": os.path.join(tmp, "nope.yaml"),
            "dev-zero": "/dev/zero",
            "nul-in-name": os.path.join(tmp, "x.yaml"),
            "long-name": os.path.join(tmp, "x" * 300 + ".yaml"),
        }[kind]
        out = Path(tmp) / "out.json"
        if kind == "nul-in-name":  # argv cannot hold a NUL; the library call can
            from inceptcost import load_spec
            from inceptcost.errors import SpecError

            with pytest.raises(SpecError, match="not a valid file name"):
                load_spec(path + "\0.yaml")
            return
        run = run_cli(["analyze", path, "--format", "json", "--out", str(out)])
        assert_clean_error(run, path, line=False, what=kind)
        assert run.seconds < 1.0
        assert not out.exists()


def test_bom_and_crlf_are_fine() -> None:
    """Not errors: a UTF-8 byte-order mark and Windows line ends (and the line numbers still count right)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec, out, run = _analyze(Path(tmp), b"\xef\xbb\xbf" + OK.replace("\n", "\r\n").encode())
        assert run.code == 0, run.stderr
        spec, out, run = _analyze(Path(tmp), (OK.replace("out: 8", "out: 0")).replace("\n", "\r\n").encode(), "b.yaml")
        assert f"{spec}:5:" in run.stderr


@pytest.mark.slow
def test_subprocess_errors_are_one_line_and_fast(tmp_path: Path) -> None:
    """The real entry point, as a user runs it: a few invalid specs, each answered in one line, fast."""
    import resource
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for case in ("misspelled column", "alias bomb", "deep flow nesting", "spatial collapse"):
        spec = tmp_path / "spec.yaml"
        spec.write_text(CASES[case][0])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, "-m", "inceptcost", "analyze", str(spec), "-f", "json", "-o", str(tmp_path / "o.json")],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stdout == ""
        assert cpu < 2.0, f"{case}: {cpu:.2f} s of CPU including interpreter start-up"
        assert not (tmp_path / "o.json").exists()
