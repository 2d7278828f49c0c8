"""Activation and training memory of a tiny net, computed by hand."""

from __future__ import annotations

import json

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
# elements per image: input 3*64 = 192, stem 4*64 = 256, a 128, b 128, concat 256, gap 4, fc 10
# walk: input 192 | stem: 192 + 256 = 448, input freed -> 256 | a: 384 | b: 512, stem freed -> 256
#       concat: 512 (the peak again, but b reached it first), a and b freed -> 256 | gap: 260 | fc: 14
PEAK = 512
SAVED = 192 + 256 + 128 + 128 + 256 + 4 + 10
PARAMS = (3 * 4 + 4) + (4 * 2 + 2) + (9 * 4 * 2 + 2) + (4 * 10 + 10)


def test_peak_and_training_memory_by_hand(run, spec_file):
    path = spec_file(TINY)
    result = run("analyze", path, "--format", "json", "--batch", "2", "--dtype", "bf16")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    mem = report["memory"]
    assert report["totals"]["params"] == PARAMS == 150
    assert (mem["batch"], mem["dtype"]) == (2, "bf16")
    assert mem["peak_inference_bytes"] == PEAK * 2 * 2
    assert mem["peak_at"] == "mix.b.conv1"
    t = mem["training"]
    assert t["weights_bytes"] == t["grads_bytes"] == t["optimizer_bytes"] == PARAMS * 4  # fp32, SGD momentum
    assert t["activations_bytes"] == SAVED * 2 * 2
    assert t["total_bytes"] == 3 * PARAMS * 4 + SAVED * 2 * 2
    rows = {r["name"]: r for r in report["layers"]}
    assert rows["mix"]["activation_bytes"] == 256 * 2 * 2


def test_dropout_at_inference_reuses_its_input(run, spec_file):
    path = spec_file("""
        name: drop
        input: 4x4x2
        classes: 3
        layers:
          - {name: gap, type: gap}
          - {name: drop, type: dropout, p: 0.5}
          - {name: fc, type: linear}
    """)
    mem = json.loads(run("analyze", path, "--format", "json").stdout)["memory"]
    # input 32 elements; gap: 32 + 2 = 34 (peak), input freed; dropout: no new tensor; fc: 2 + 3 = 5
    assert mem["peak_inference_bytes"] == 34 * 4
