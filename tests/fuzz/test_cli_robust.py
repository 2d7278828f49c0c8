"""Every CLI command: --help works, bad option values get typer's clean usage errors (exit 2), output paths in
missing or unwritable places get one clear line. Commands are listed from the app itself, so that commands
added later are covered without editing this file."""

from __future__ import annotations

import enum
import os
import typing
from pathlib import Path

import pytest
from fuzz_specgen import COUNTS, assert_clean_error, run_cli
from typer.main import get_command

from inceptcost.cli import app

pytestmark = pytest.mark.fuzz
ROOT = Path(__file__).resolve().parents[2]
SPEC = str(ROOT / "specs" / "variant.yaml")
COMMANDS = get_command(app).commands  # name -> click command
# Commands whose output path can be tried quickly (static path; no training or benchmarking): their arguments
# and the output file's suffix.
STATIC = {
    "analyze": ([SPEC, "-f", "json"], ".json"),
    "diagram": ([SPEC], ".dot"),
    "specs": ([str(ROOT / "specs"), "-f", "md"], ".md"),
    "verify": ([SPEC], ".txt"),
    "compare": ([SPEC, str(ROOT / "specs" / "googlenet.yaml")], ".txt"),
}


def _no_traceback(run) -> None:
    assert run.exception is None, f"crashed with {run.exception!r}"
    assert "Traceback" not in run.stdout + run.stderr


def test_root_help_version_and_unknown_command() -> None:
    for args, code in ((["--help"], 0), (["--version"], 0), (["no-such-command"], 2), ([], None)):
        run = run_cli(args)
        _no_traceback(run)
        if code is not None:
            assert run.code == code, (args, run.code, run.stdout, run.stderr)
    assert "analyze" in run_cli(["--help"]).stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_works(command: str) -> None:
    COUNTS["CLI --help runs"] += 1
    run = run_cli([command, "--help"])
    _no_traceback(run)
    assert run.code == 0, run.stderr
    assert "Usage" in run.stdout and command in run.stdout


def _annotation(param) -> object:
    """The parameter's Python type (typer keeps it; `int | None` -> int)."""
    ann = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if ann is None and hasattr(param, "type"):  # click-style parameters
        return {"Choice": enum.Enum, "IntParamType": int, "FloatParamType": float}.get(type(param.type).__name__)
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    return args[0] if len(args) == 1 else ann


def _bad_values(param) -> list[str]:
    """Values the parameter's type must refuse."""
    ann = _annotation(param)
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return ["bogus-choice"]
    if ann is int:
        return ["abc", "1.5"]
    if ann is float:
        return ["abc"]
    return []


CASES = [
    (name, p.opts[0], bad)
    for name, cmd in sorted(COMMANDS.items())
    for p in cmd.params
    if p.param_type_name == "option" and not getattr(p, "is_flag", False)
    for bad in _bad_values(p)
]


@pytest.mark.parametrize(("command", "option", "value"), CASES or [pytest.param("-", "-", "-", marks=pytest.mark.skip)])
def test_bad_option_values_get_usage_errors(command: str, option: str, value: str) -> None:
    COUNTS["CLI bad option values"] += 1
    run = run_cli([command, option, value])
    _no_traceback(run)
    assert run.code == 2, (run.code, run.stdout, run.stderr)
    assert "Invalid value" in run.stderr or "invalid" in run.stderr.lower(), run.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unknown_option_is_a_usage_error(command: str) -> None:
    run = run_cli([command, "--no-such-option"])
    _no_traceback(run)
    assert run.code == 2
    assert "No such option" in run.stderr


def _out_option(command: str) -> str | None:
    for p in COMMANDS[command].params:
        if p.name in ("out", "out_dir", "output") and p.param_type_name == "option":
            return p.opts[0]
    return None


OUT_COMMANDS = [c for c in sorted(COMMANDS) if c in STATIC and _out_option(c)]


@pytest.mark.parametrize("command", OUT_COMMANDS)
@pytest.mark.parametrize("place", ["missing-folder", "parent-is-a-file", "a-folder", "proc", "read-only-folder"])
def test_unwritable_output_paths_get_one_line(command: str, place: str, tmp_path: Path) -> None:
    COUNTS["CLI unwritable outputs"] += 1
    target = {
        "missing-folder": tmp_path / "no" / "such" / "out",
        "parent-is-a-file": tmp_path / "file.txt" / "out",
        "a-folder": tmp_path,
        "proc": Path("/proc/no-such-dir/out"),
        "read-only-folder": tmp_path / "ro" / "out",
    }[place]
    args, suffix = STATIC[command]
    if place != "a-folder":
        target = target.with_suffix(suffix)
    if place == "parent-is-a-file":
        (tmp_path / "file.txt").write_text("x")
    if place == "read-only-folder":
        (tmp_path / "ro").mkdir()
        os.chmod(tmp_path / "ro", 0o555)
        if os.access(tmp_path / "ro", os.W_OK):
            target = Path("/sys/out" + suffix)  # root ignores permissions; sysfs refuses new files even to root
    before = sorted(p.name for p in tmp_path.iterdir())
    run = run_cli([command, *args, _out_option(command), str(target)])
    msg = assert_clean_error(run, "", line=False, what=place)
    assert str(target) in msg or str(target.parent) in msg, msg
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temp file left behind
    assert not target.exists() or target.is_dir()


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_output_to_dev_null_keeps_it_a_device(command: str) -> None:
    """An atomic write renames a temp file over the target: over /dev/null (as root) that would replace it.
    Writing there works, or (a command that reads the format off the suffix) is refused in one line."""
    args, _ = STATIC[command]
    run = run_cli([command, *args, _out_option(command), os.devnull])
    if run.code != 0:
        assert_clean_error(run, os.devnull, line=False)
    _no_traceback(run)
    assert Path(os.devnull).is_char_device()


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_is_honoured_in_the_default_format(command: str, tmp_path: Path) -> None:
    args, suffix = STATIC[command]
    args = [a for a in args if a not in ("-f", "json", "md")]
    out = tmp_path / f"out{suffix}"
    run = run_cli([command, *args, _out_option(command), str(out)])
    assert run.code == 0, run.stderr
    assert out.is_file() and out.stat().st_size > 0
    assert run.stdout.strip() == ""


LIBRARY_PARSED = [
    ("analyze", "--budget", "abc"),
    ("analyze", "--budget", "-1"),
    ("analyze", "--budget", "nan"),
    ("analyze", "--budget", "1e999"),
    ("analyze", "--budget", "9" * 400),
    ("verify", "--budget", "0"),
    ("analyze", "--dtype", "fp8"),
]


@pytest.mark.parametrize(("command", "option", "value"), [c for c in LIBRARY_PARSED if c[0] in COMMANDS])
def test_option_values_parsed_by_the_library_fail_in_one_line(command: str, option: str, value: str) -> None:
    COUNTS["CLI bad option values"] += 1
    run = run_cli([command, SPEC, option, value])
    assert_clean_error(run, "", line=False, what=f"{command} {option} {value}")
    assert option.lstrip("-") in run.stderr


# A few invalid specs through every command that reads specs (analyze has the full set in test_invalid_specs).
BROKEN = {
    "misspelled": ("input: 32x32x3\nlayers:\n  - {type: conv, kernel: 3, out: 8, strid: 2}\n", 3),
    "collapse": ("input: 4x4x3\nlayers:\n  - {type: conv, kernel: 9, padding: 0, out: 8}\n", 3),
    "yaml": ("input: 32x32x3\nlayers: [\n", 3),
    "bomb": (
        "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
        None,
    ),
}
SPEC_READERS = {
    "analyze": lambda bad: [bad],
    "verify": lambda bad: [bad],
    "diagram": lambda bad: [bad],
    "compare": lambda bad: [SPEC, bad],
    "compare-a": lambda bad: [bad, SPEC],
}


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("reader", [r for r in SPEC_READERS if r.split("-")[0] in COMMANDS])
def test_every_spec_reader_fails_cleanly(reader: str, case: str, tmp_path: Path) -> None:
    COUNTS["invalid specs through other commands"] += 1
    text, line = BROKEN[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = tmp_path / "out.txt"
    command = reader.split("-")[0]
    out_args = [_out_option(command), str(out)] if _out_option(command) else []
    if command == "diagram":
        out = tmp_path / "out.dot"
        out_args = [_out_option(command), str(out)]
    run = run_cli([command, *SPEC_READERS[reader](str(bad)), *out_args])
    msg = assert_clean_error(run, bad, line=line is not None, what=f"{reader} {case}")
    if line is not None:
        assert f"{bad}:{line}:" in msg
    assert run.seconds < 1.0
    assert not out.exists()
