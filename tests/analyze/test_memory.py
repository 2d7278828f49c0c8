"""Memory of tiny nets computed by hand, and the `memory` command's answers to bad input."""

from __future__ import annotations

import json

import pytest

TINY = """
    name: tiny
    input: 8x8x3
    classes: 10
    layers:
      - {name: stem, type: conv, kernel: 1, out: 4}
      - name: mix
        type: parallel
        branches:
          a: [{type: conv, kernel: 1, out: 2}]
          b: [{type: conv, kernel: 3, out: 2}]
      - {name: gap, type: gap}
      - {name: fc, type: linear}
"""
# Batch 2, fp32, one training step. What autograd saves, each storage once (4 bytes an element):
#   stem: conv keeps the image (2*3*64) and in-place ReLU keeps its output (2*4*64);
#   mix.a, mix.b: their convs read stem's output (already kept); each ReLU keeps its output (2*2*64);
#   concat: nothing; gap (a mean): nothing; fc: its input, the pooled vector (2*4);
#   loss: log-softmax output (2*10), nll's 0-dim total weight (1), int64 labels (2 x 8 bytes).
SAVED = {"stem": 384 * 4 + 512 * 4, "mix.a.conv1": 256 * 4, "mix.b.conv1": 256 * 4, "fc": 8 * 4}
LOSS = 20 * 4 + 4 + 16
PARAMS = (3 * 4 + 4) + (4 * 2 + 2) + (9 * 4 * 2 + 2) + (4 * 10 + 10)


def test_saved_tensors_by_hand(run, spec_file):
    result = run("memory", spec_file(TINY), "--batch", "2", "--format", "json", "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    mem = json.loads(result.stdout)
    rows = {r["name"]: r["saved_bytes"] for r in mem["rows"]}
    assert {k: v for k, v in rows.items() if v} == {**SAVED, "loss": LOSS}
    assert mem["saved_bytes"] == sum(SAVED.values()) + LOSS
    assert mem["weights_bytes"] == mem["grads_bytes"] == mem["optimizer_bytes"] == PARAMS * 4 == 600
    adamw = json.loads(run("memory", spec_file(TINY), "--optimizer", "adamw", "--format", "json").stdout)
    assert adamw["optimizer_bytes"] == 2 * PARAMS * 4


def test_inference_peak_by_hand(run, spec_file):
    """Inference, batch 1, fp32: weights (600 B) plus the live tensors. In elements: image 192; stem adds 256
    (448, the image is the caller's and stays); a adds 128 (576); b adds 128 (704, the peak; stem's output is
    freed after b); concat adds 256 while a and b live: 192 + 128 + 128 + 256 = 704 again, first reached at b."""
    mem = json.loads(run("memory", spec_file(TINY), "--batch", "1", "--mode", "infer", "--format", "json").stdout)
    assert mem["peak_bytes"] == 600 + 704 * 4
    assert mem["peak_at"] == "mix.b.conv1 (forward)"
    assert mem["saved_bytes"] == 0


def test_analyze_shows_the_same_totals(run, spec_file):
    path = spec_file(TINY)
    mem = json.loads(run("memory", path, "--batch", "4", "--dtype", "bf16", "--format", "json").stdout)
    shown = json.loads(run("analyze", path, "--batch", "4", "--dtype", "bf16", "--format", "json").stdout)["memory"]
    for key in ("saved_bytes", "peak_bytes", "peak_at", "weights_bytes", "grads_bytes", "optimizer_bytes"):
        assert shown[key] == mem[key], key


def test_fits_gives_the_largest_batch(run, spec_file):
    path = spec_file(TINY)
    answer = json.loads(run("memory", path, "--fits", "1MiB", "--format", "json").stdout)["fits"]
    batch = answer["largest_batch"]
    assert answer["capacity_bytes"] == 1 << 20 and batch > 1
    at = json.loads(run("memory", path, "--batch", batch, "--format", "json").stdout)["peak_bytes"]
    above = json.loads(run("memory", path, "--batch", batch + 1, "--format", "json").stdout)["peak_bytes"]
    assert at <= 1 << 20 < above
    assert answer["left_bytes"] == (1 << 20) - at
    h100 = json.loads(run("memory", path, "--fits", "h100", "--format", "json").stdout)["fits"]
    assert h100["capacity_bytes"] == 80 << 30


@pytest.mark.parametrize(
    "args, named",
    [
        (["--batch", "0"], "'0'|0"),
        (["--batch", "-3"], "-3"),
        (["--batch", "10000000000000"], "10000000000000"),
        (["--batch", "x"], "'x'"),
        (["--dtype", "fp8"], "'fp8'"),
        (["--optimizer", "adam"], "'adam'"),
        (["--device", "tpu"], "'tpu'"),
        (["--mode", "eval"], "'eval'"),
        (["--fits", "lots"], "'lots'"),
        (["--fits", "0GiB"], "'0GiB'"),
        (["--fits", "B200"], "'B200'"),
    ],
)
def test_bad_input_is_one_line_naming_the_value(run, spec_file, args, named):
    result = run("memory", spec_file(TINY), *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert any(v.strip("'") in lines[0] for v in named.split("|"))
    assert "; " in lines[0]  # the fix follows the problem
