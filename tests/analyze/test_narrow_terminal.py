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
