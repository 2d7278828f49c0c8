"""Absurd but valid sizes: the static path works with exact integers and stays fast; building a model refuses
up front, naming the memory it would need, instead of trying to allocate it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fuzz_specgen import COUNTS, run_cli

from inceptcost import compile_graph, load_spec, summarize
from inceptcost.errors import InceptcostError

pytestmark = pytest.mark.fuzz

G = 10**9
T = 10**12

BILLION = """\
input: 224x224x3
layers:
  - {name: wide, type: conv, kernel: 1, out: 1000000000}
  - {name: pool, type: gap}
  - {name: fc, type: linear}
"""
# Hand-computed: conv 1x1, 3 -> 10^9 channels on 224x224 (bias on), then a 10^9 -> 1000 linear (bias on).
BILLION_PARAMS = 3 * G + G + 1000 * G + 1000
BILLION_MACS = 224 * 224 * 3 * G + 1000 * G

LARGEST = f"""\
input: {T}x{T}x{T}
classes: {T}
layers:
  - {{name: conv, type: conv, kernel: 1, out: {T}, bias: false}}
  - {{name: pool, type: maxpool, kernel: {T}, stride: {T}, padding: {T // 2}}}
  - {{name: big, type: conv, kernel: {T}x1, padding: [{T}, 0], out: {T}, bias: false, groups: {T}}}
  - {{name: gap, type: gap}}
  - {{name: fc, type: linear, bias: false}}
"""


def test_a_billion_channels_analyze_exactly(tmp_path: Path) -> None:
    spec, out = tmp_path / "billion.yaml", tmp_path / "out.json"
    spec.write_text(BILLION)
    run = run_cli(["analyze", str(spec), "-f", "json", "-o", str(out)])
    assert run.code == 0, run.stderr
    assert run.seconds < 1.0
    totals = json.loads(out.read_text())["totals"]
    assert totals["params"] == BILLION_PARAMS
    assert totals["macs"] == BILLION_MACS
    assert totals["flops"] == 2 * BILLION_MACS


def test_the_largest_sizes_stay_exact_and_fast(tmp_path: Path) -> None:
    """Every number at the 10^12 ceiling: costs near 10^48 are still exact Python integers."""
    spec = tmp_path / "largest.yaml"
    spec.write_text(LARGEST)
    start = time.process_time()
    totals = summarize(compile_graph(load_spec(spec)))
    assert time.process_time() - start < 1.0
    # by hand: conv 1x1 T -> T channels on a T x T map: T^2 weights, T^2 * T^2 MACs. The pool (T/T, padding
    # T/2) leaves (T + T - T) // T + 1 = 2 x 2. The Tx1 depthwise conv (T groups, 1 input channel each) padded
    # by T rows: (2 + 2T - T) + 1 = T + 3 rows, 2 columns, T^2 weights. The T -> T linear: T^2 weights and MACs.
    assert totals["weights"] == 3 * T * T
    assert totals["macs"] == T**4 + (T + 3) * 2 * T * T + T * T
    run = run_cli(["analyze", str(spec), "-f", "json"])
    assert run.code == 0 and json.loads(run.stdout)["totals"]["macs"] == totals["macs"]


def test_build_model_refuses_a_billion_channels_up_front() -> None:
    pytest.importorskip("torch")
    from inceptcost import build_model

    spec = load_spec_text(BILLION)
    start = time.process_time()
    with pytest.raises(InceptcostError) as err:
        build_model(spec)
    assert time.process_time() - start < 1.0
    msg = str(err.value)
    assert f"{4 * BILLION_PARAMS / 2**30:,.1f} GiB" in msg, msg
    assert "\n" not in msg and "analyze" in msg


def test_build_model_limit_follows_the_machine(monkeypatch) -> None:
    """The refusal uses the memory the build would take (weights + BN buffers) against the limit."""
    pytest.importorskip("torch")
    import inceptcost.graph.model.build as model_mod
    from inceptcost import build_model

    spec = load_spec_text(
        "input: 8x8x3\nclasses: 10\nlayers:\n  - {type: conv, kernel: 3, out: 100, norm: bn}\n"
        "  - {type: gap}\n  - {type: linear}\n"
    )
    # by hand: conv 3*100*9 + bias 100, BN 200 (+ 200 buffers), linear 100*10 + 10
    params = 2700 + 100 + 200 + 1010
    needed = 4 * (params + 200)
    monkeypatch.setattr(model_mod, "_memory_limit", lambda: needed)
    model = build_model(spec)
    assert sum(p.numel() for p in model.parameters()) == params
    monkeypatch.setattr(model_mod, "_memory_limit", lambda: needed - 1)
    with pytest.raises(InceptcostError, match="would need"):
        build_model(spec)


def test_memory_limit_is_at_most_half_the_machine() -> None:
    import os

    from inceptcost.graph.model.build import MAX_MODEL_BYTES, _memory_limit

    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert _memory_limit() <= min(MAX_MODEL_BYTES, physical // 2)


@pytest.mark.parametrize("name", ["forward", "keys", "training", "row_names", "__init__"])
def test_names_torch_cannot_take_are_refused_with_a_line(name: str) -> None:
    """Valid for the static path, but torch's add_module would raise a bare KeyError: a SpecError instead."""
    pytest.importorskip("torch")
    from inceptcost import build_model
    from inceptcost.errors import SpecError

    where = {
        "forward": f"  - {{name: {name}, type: conv, kernel: 1, out: 2}}\n",
        "row_names": f"  - {{name: {name}, type: conv, kernel: 1, out: 2}}\n",
        "__init__": f"  - {{name: {name}, type: conv, kernel: 1, out: 2}}\n",
        "keys": f"  - {{type: parallel, branches: {{{name}: [{{type: conv, kernel: 1, out: 2}}]}}}}\n",
        "training": f"  - {{type: sequence, layers: [{{name: {name}, type: conv, kernel: 1, out: 2}}]}}\n",
    }[name]
    spec = load_spec_text("input: 8x8x3\nlayers:\n" + where + "  - {type: gap}\n  - {type: linear}\n")
    summarize(compile_graph(spec))  # the static path is fine
    with pytest.raises(SpecError) as err:
        build_model(spec)
    assert "spec.yaml:3:" in str(err.value) and name in str(err.value)


def test_compile_time_is_linear_in_the_number_of_layers(tmp_path: Path) -> None:
    """A long spec must not take quadratic time (it did: every row scanned every node added before it)."""
    from inceptcost.analyze.costs.table import table_records

    def seconds(rows: int) -> float:
        spec = tmp_path / f"long{rows}.yaml"
        spec.write_text(
            "input: 8x8x3\nlayers:\n" + "  - {type: dropout, p: 0}\n" * rows + "  - {type: gap}\n  - {type: linear}\n"
        )
        start = time.process_time()
        g = compile_graph(load_spec(spec))
        summarize(g)
        table_records(g)
        return time.process_time() - start

    small, big = seconds(1000), seconds(8000)
    COUNTS["long specs (layers)"] += 9000
    assert big < 8 * small * 3 + 0.5, f"1000 rows {small:.2f} s, 8000 rows {big:.2f} s"


def load_spec_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(text)
        spec = load_spec(path)
    return spec


@pytest.mark.parametrize(
    ("command", "args", "out"),
    [
        ("train", ["--data", "synthetic:64", "--batch-size", "8", "--epochs", "1", "--device", "cpu"], "run"),
        ("bench", ["--device", "cpu"], "bench.json"),
    ],
)
def test_commands_that_build_refuse_a_billion_channels(command: str, args: list[str], out: str, tmp_path: Path) -> None:
    """train/bench must refuse before allocating, with the memory they would need, and leave nothing behind."""
    pytest.importorskip("torch")
    from typer.main import get_command

    from inceptcost.cli import app

    if command not in get_command(app).commands:
        pytest.skip(f"no '{command}' command yet")
    spec = tmp_path / "billion.yaml"
    spec.write_text(BILLION)
    run = run_cli([command, str(spec), *args, "--out", str(tmp_path / out)])
    assert run.exception is None, repr(run.exception)
    assert run.code == 2, run.stderr
    assert "GiB" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.seconds < 5.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["billion.yaml"]
