"""Tables on a narrow terminal: at 80 and 120 columns no line is wider than the terminal and every name and number
is whole on its line; a pipe gets every column. The names and exact counts are read from the same command's JSON."""

from __future__ import annotations

import json
import re

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from inceptcost.cli import app

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LEFT_OUT = re.compile(r"left out to fit \d+ columns:.*?shows every column\)", re.DOTALL)


def shown(args: list[str], width: int | None) -> str:
    """The command's stdout on a terminal `width` columns wide (rich's TTY_COMPATIBLE), or through a pipe."""
    env = {"COLUMNS": str(width), "TTY_COMPATIBLE": "1"} if width else {"TTY_COMPATIBLE": "0"}
    result = CliRunner().invoke(app, args, env={**env, "FORCE_COLOR": None, "NO_COLOR": None})
    assert result.exit_code == 0, result.output
    return ANSI.sub("", result.stdout)


def as_json(args: list[str]):
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def whole(word: str, text: str) -> bool:
    """A name between blanks; a number not inside a longer one (it may end a clause: '6,983,576;')."""
    if re.fullmatch(r"[\d,]+", word):
        return re.search(rf"(?<![\w,.]){re.escape(word)}(?![\w,]|\.\d)", text) is not None
    return re.search(rf"(?<!\S){re.escape(word)}(?!\S)", text) is not None


def is_subsequence(part: list[str], full: list[str]) -> bool:
    it = iter(full)
    return all(w in it for w in part)


def check_whole(args: list[str], names: list[str], numbers: list[str]) -> None:
    wide = shown(args, None)
    assert "left out" not in wide  # a pipe gets every column
    wide_lines = wide.splitlines()
    for width in (80, 120):
        narrow = shown(args, width)
        lines = narrow.splitlines()
        assert max(cell_len(line.rstrip()) for line in lines) <= width
        missing = [w for w in [*names, *numbers] if not whole(w, narrow)]
        assert not missing, f"at {width} columns, not whole: {missing[:10]}"
        # No number broken over two lines: every token with a digit is one of the full-width output's tokens ...
        tokens = set(wide.split())
        broken = [t for t in LEFT_OUT.sub("", narrow).split() if re.search(r"\d", t) and t not in tokens]
        assert not broken, f"at {width} columns, broken: {broken[:10]}"
        # ... and each table row (indented by the table's edge) shows a part of the full-width row, in its order.
        for name in names:
            rows = [line.split() for line in lines if line.startswith(f" {name} ")]
            full = [line.split() for line in wide_lines if line.startswith(f" {name} ")]
            assert len(rows) == len(full)
            assert all(is_subsequence(r, f) for r, f in zip(rows, full, strict=True)), name


def test_analyze_and_verify():
    data = as_json(["analyze", "googlenet"])
    names = [r["name"] for r in data["layers"]]
    totals = [f"{data['totals'][k]:,}" for k in ("params", "macs", "weights")]
    check_whole(["analyze", "googlenet"], names, totals)
    off = [r for r in data["layers"] if r["paper"] and r["paper"]["check"]["params"] in ("~", "!")]
    check_whole(["verify", "googlenet"], [r["name"] for r in off], [f"{r['weights']:,}" for r in off])


def test_analyze_narrow_leaves_out_table_1_columns_first():
    narrow = shown(["analyze", "googlenet"], 80)
    head = next(line for line in narrow.splitlines() if line.split()[:1] == ["layer"])
    assert head.split() == ["layer", "output", "params", "paper", "delta", "ops", "paper", "delta"]
    assert "left out to fit 80 columns: type, d, 1x1, 3x3r, 3x3, 5x5r, 5x5, proj" in " ".join(narrow.split())
    wide = shown(["analyze", "googlenet"], 200)
    assert "left out" not in wide and "3x3r" in wide


def test_sweep():
    data = as_json(["sweep", "googlenet"])
    numbers = [f"{v[k]:,}" for v in data["variants"] for k in ("params", "macs")]
    check_whole(["sweep", "googlenet"], [], numbers)


def test_specs():
    data = as_json(["specs"])
    names = [r["file"].rsplit("/", 1)[-1] for r in data]
    check_whole(["specs"], names, [f"{r['params']:,}" for r in data])


def test_compare():
    data = as_json(["compare", "googlenet", "googlenet-torchvision"])
    names = [p["a"]["name"] for p in data["rows"] if p.get("a") and p.get("b")]
    check_whole(["compare", "googlenet", "googlenet-torchvision"], names, [])


def test_memory():
    data = as_json(["memory", "googlenet"])
    names = [r["name"] for r in data["rows"]]
    numbers = [n for r in data["rows"] for n in re.findall(r"[\d,]{5,}", r["keeps"])]
    assert numbers
    check_whole(["memory", "googlenet"], names, [f"{data['peak_bytes']:,}", *numbers])


@pytest.mark.parametrize("profile", ["h100"])
def test_predict(profile):
    data = as_json(["predict", "googlenet", "--profile", profile])
    check_whole(["predict", "googlenet", "--profile", profile], [r["name"] for r in data["rows"]], [])


@pytest.mark.parametrize("width", [80, 120])
def test_bench_table(width, monkeypatch, capsys):
    from inceptcost.cli.measuring import _bench_table
    from inceptcost.cli.views import print_views

    row = dict(mode="train", compile=True, math="bf16", channels_last=True, batch=256, peak_mem_bytes=9_876_543_210)
    row.update(images_per_s=6165.25, ms_per_step=41.523, tflops=17.654, mfu=0.0561, error="OOM at batch 512")
    rows = [{**row, "model": "inceptcost:googlenet-torchvision (fast)"}, {**row, "model": "torchvision:googlenet"}]
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    print_views([_bench_table(rows, "bench googlenet-torchvision (specs/googlenet-torchvision.yaml)")])
    shown = ANSI.sub("", capsys.readouterr().out)
    assert max(cell_len(line.rstrip()) for line in shown.splitlines()) <= width
    for word in ("inceptcost:googlenet-torchvision", "torchvision:googlenet", "6,165.2", "41.52"):
        assert whole(word, shown), word
    assert "OOM at batch 512" in " ".join(shown.split())  # the note wraps between words only
    # MFU is shown whole, or left out and named under the table
    assert whole("5.6%", shown) or re.search(r"left out to fit 80 columns: [^(]*MFU", " ".join(shown.split()))


PIPED = [
    ["analyze", "googlenet"],
    ["verify", "googlenet"],
    ["compare", "googlenet", "googlenet-torchvision"],
    ["memory", "googlenet"],
    ["specs"],
    ["sweep", "googlenet"],
    ["predict", "googlenet", "--profile", "h100"],
]


@pytest.mark.parametrize("args", PIPED, ids=lambda a: a[0])
def test_a_pipe_gets_at_most_160_columns_and_every_column(args):
    """Piped or redirected output reads in `less`: tables and their notes wrap at 160 columns (free text between
    words), no column is left out, and every line of the full-width output (COLUMNS=0) is there word for word."""
    piped = shown(args, None)
    assert max(cell_len(line.rstrip()) for line in piped.splitlines()) <= 160
    assert "left out" not in piped
    env = {"COLUMNS": "0", "TTY_COMPATIBLE": "0", "FORCE_COLOR": None, "NO_COLOR": None}
    full = CliRunner().invoke(app, args, env=env)
    assert full.exit_code == 0, full.output
    words = lambda text: sorted(w for w in text.split() if not set(w) <= set("─━"))  # noqa: E731 (rules differ)
    assert words(ANSI.sub("", full.stdout)) == words(piped)


def test_full_width_on_request():
    """COLUMNS=0 lays nothing out: the claims table and the notes keep their lines whole."""
    env = {"COLUMNS": "0", "TTY_COMPATIBLE": "0", "FORCE_COLOR": None, "NO_COLOR": None}
    full = CliRunner().invoke(app, ["verify", "googlenet"], env=env).stdout
    assert max(cell_len(line.rstrip()) for line in full.splitlines()) > 160


def test_out_file_is_laid_out_like_a_pipe(tmp_path):
    out = tmp_path / "analyze.txt"
    result = CliRunner().invoke(app, ["verify", "googlenet", "--out", str(out)], env={"COLUMNS": None})
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "holds" in text and max(cell_len(line.rstrip()) for line in text.splitlines()) <= 160


def test_no_legend_for_a_column_left_out():
    """At 80 columns `analyze` leaves out the `d` column and so its legend; a wide terminal shows both."""
    narrow = " ".join(shown(["analyze", "googlenet"], 80).split())
    assert "left out to fit 80 columns: type, d," in narrow
    assert "d: layers with parameters" not in narrow
    assert "The paper's totals are its column sums." in narrow  # the paper columns are shown: their legend too
    wide = " ".join(shown(["analyze", "googlenet"], 200).split())
    assert "d: layers with parameters on the row's longest path." in wide


def test_compare_drops_the_legend_of_d_percent_with_its_column():
    wide = " ".join(shown(["compare", "googlenet", "googlenet-torchvision"], 200).split())
    assert "d % is the MACs change." in wide
    narrow = " ".join(shown(["compare", "googlenet", "googlenet-torchvision"], 40).split())
    assert "d %" in narrow.split("left out to fit 40 columns:")[1] and "d % is the MACs change." not in narrow


def test_markdown_keeps_every_legend():
    result = CliRunner().invoke(app, ["analyze", "googlenet", "--format", "md"])
    assert "d: layers with parameters on the row's longest path. The paper's totals are its column sums." in (
        result.stdout
    )


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "120", "TTY_COMPATIBLE": "0"})
    assert result.exit_code == 0, result.output
    return ANSI.sub("", result.stdout)


@pytest.mark.parametrize("command", [[]] + [[c] for c in __import__("inceptcost.cli").cli.COMMANDS])
def test_help_shows_no_value_after_a_flag(command):
    """A flag takes no value: no `<bool>` after `--strict`, `--amp/--no-amp` or `--help` itself; an option that
    takes one keeps its type."""
    text = _help(command)
    assert "<bool>" not in text
    help_line = next(line for line in text.splitlines() if "--help" in line)
    assert re.search(r"--help\s+Show this message", help_line), help_line
    if command == ["analyze"]:
        assert re.search(r"--strict\s+exit 1", text)
        assert re.search(r"--format\s+-f\s+<table\|json\|csv\|md>", text)
