"""Inception-v3-style modules declared with YAML only (the general `parallel` form), checked three ways:
a hand computation written here, the compiled torch model's numel(), and fvcore's conv + linear count.

Hand computations (weights = C_out * C_in/groups * kh * kw; BN adds 2 per channel; MACs = H_out * W_out * weights):
"""

from __future__ import annotations

import pytest

from inceptcost import compile_graph

# A 17x17 module with factorized 7x7 convs (Inception-v3's "Figure 6" module, c7 = 128) on 17x17x768.
MODULE_17X17 = """
    name: v3-17x17
    input: 17x17x768
    classes: 10
    defaults: {activation: relu, bias: false, norm: bn, eps: 0.001}
    layers:
      - name: mixed_6b
        type: parallel
        branches:
          b1x1: [{name: conv, type: conv, kernel: 1, out: 192}]
          b7x7:
            - {name: reduce, type: conv, kernel: 1, out: 128}
            - {name: conv1x7, type: conv, kernel: 1x7, out: 128}
            - {name: conv7x1, type: conv, kernel: 7x1, out: 192}
          b7x7dbl:
            - {name: reduce, type: conv, kernel: 1, out: 128}
            - {name: conv7x1a, type: conv, kernel: 7x1, out: 128}
            - {name: conv1x7a, type: conv, kernel: 1x7, out: 128}
            - {name: conv7x1b, type: conv, kernel: 7x1, out: 128}
            - {name: conv1x7b, type: conv, kernel: 1x7, out: 192}
          bpool:
            - {name: pool, type: avgpool, kernel: 3, stride: 1, padding: 1, count_pad: true}
            - {name: proj, type: conv, kernel: 1, out: 192}
      - {name: gap, type: gap}
      - {name: fc, type: linear, bias: true}
"""
# weights: 768*192 | 768*128 + 128*128*7 + 128*192*7 | 768*128 + 3 * 128*128*7 + 128*192*7 | 768*192
W_17 = 147_456 + (98_304 + 114_688 + 172_032) + (98_304 + 3 * 114_688 + 172_032) + 147_456  # 1,294,336
BN_17 = 2 * (192 + (128 + 128 + 192) + (4 * 128 + 192) + 192)  # 2 * 1536 = 3,072
FC_17 = 768 * 10 + 10

# A stride-2 grid reduction 35x35x288 -> 17x17x768: no 1x1 branch, the max pool passed through unprojected,
# valid padding on the strided convs (Inception-v3's reduction after the 35x35 modules).
GRID_REDUCTION = """
    name: v3-reduction
    input: 35x35x288
    classes: 10
    defaults: {activation: relu, bias: false, norm: bn}
    layers:
      - name: mixed_6a
        type: parallel
        branches:
          b3x3: [{name: conv, type: conv, patch: 3x3/2, padding: 0, out: 384}]
          b3x3dbl:
            - {name: reduce, type: conv, kernel: 1, out: 64}
            - {name: conv1, type: conv, kernel: 3, out: 96}
            - {name: conv2, type: conv, patch: 3x3/2, padding: valid, out: 96}
          bpool: [{name: pool, type: maxpool, patch: 3x3/2}]
      - {name: gap, type: gap}
      - {name: fc, type: linear, bias: true}
"""
W_RED = {"b3x3": 288 * 384 * 9, "reduce": 288 * 64, "conv1": 64 * 96 * 9, "conv2": 96 * 96 * 9}
MACS_RED = 17 * 17 * W_RED["b3x3"] + 35 * 35 * (W_RED["reduce"] + W_RED["conv1"]) + 17 * 17 * W_RED["conv2"]
BN_RED = 2 * (384 + 64 + 96 + 96)

# A module whose 3x3 branch splits into parallel 1x3 and 3x1 convs (Inception-v3's expanded-filter-bank
# module, Figure 7), small widths, on 8x8x64; its pool branch is an average pool with a projection.
NESTED = """
    name: v3-nested
    input: 8x8x64
    classes: 10
    defaults: {activation: relu, bias: false, norm: bn}
    layers:
      - name: mixed_7
        type: parallel
        branches:
          b1x1: [{name: conv, type: conv, kernel: 1, out: 32}]
          b3x3:
            - {name: reduce, type: conv, kernel: 1, out: 48}
            - name: split
              type: parallel
              branches:
                a: [{name: conv1x3, type: conv, kernel: 1x3, out: 48}]
                b: [{name: conv3x1, type: conv, kernel: 3x1, out: 48}]
          bpool:
            - {name: pool, type: avgpool, kernel: 3, stride: 1, padding: same}
            - {name: proj, type: conv, kernel: 1, out: 16}
      - {name: gap, type: gap}
      - {name: fc, type: linear, bias: true}
"""
W_NESTED = 64 * 32 + 64 * 48 + 2 * (48 * 48 * 3) + 64 * 16  # 19,968
BN_NESTED = 2 * (32 + 48 + 48 + 48 + 16)


def test_17x17_module_hand_computation(spec_from_yaml, analytic):
    spec = spec_from_yaml(MODULE_17X17)
    g = compile_graph(spec)
    assert g.nodes["mixed_6b.concat"]["out_shape"] == (768, 17, 17)
    assert g.nodes["mixed_6b.b7x7.conv1x7"]["args"]["padding"] == (0, 3)  # 'same' padding of a 1x7 kernel
    assert g.nodes["mixed_6b.b7x7.conv7x1"]["args"]["padding"] == (3, 0)
    assert W_17 == 1_294_336
    t = analytic(spec)
    assert t["weights"] == W_17 + 768 * 10
    assert t["biases"] == 10  # convs have no bias (BN follows each), the classifier has one
    assert t["norm_params"] == BN_17
    assert t["params"] == W_17 + BN_17 + FC_17
    assert t["macs"] == 17 * 17 * W_17 + 768 * 10


def test_17x17_module_torch_and_fvcore(spec_from_yaml, torch_counts):
    spec = spec_from_yaml(MODULE_17X17)
    params, macs = torch_counts(spec)
    assert (params, macs) == (W_17 + BN_17 + FC_17, 17 * 17 * W_17 + 768 * 10)


def test_grid_reduction_module(spec_from_yaml, analytic, torch_counts):
    spec = spec_from_yaml(GRID_REDUCTION)
    g = compile_graph(spec)
    assert g.nodes["mixed_6a.concat"]["out_shape"] == (384 + 96 + 288, 17, 17)  # the pool passes 288 through
    assert g.nodes["mixed_6a.bpool.pool"]["params"] == 0
    t = analytic(spec)
    expected_params = sum(W_RED.values()) + BN_RED + 768 * 10 + 10
    assert sum(W_RED.values()) == 1_152_000
    assert t["params"] == expected_params
    assert t["macs"] == MACS_RED + 768 * 10
    assert torch_counts(spec) == (expected_params, MACS_RED + 768 * 10)


def test_nested_parallel_module(spec_from_yaml, analytic, torch_counts):
    spec = spec_from_yaml(NESTED)
    g = compile_graph(spec)
    assert g.nodes["mixed_7.b3x3.split.concat"]["out_shape"] == (96, 8, 8)
    assert g.nodes["mixed_7.concat"]["out_shape"] == (32 + 96 + 16, 8, 8)
    t = analytic(spec)
    expected_params = W_NESTED + BN_NESTED + 144 * 10 + 10
    assert t["params"] == expected_params
    assert t["macs"] == 8 * 8 * W_NESTED + 144 * 10
    params, macs = torch_counts(spec)
    assert (params, macs) == (expected_params, 8 * 8 * W_NESTED + 144 * 10)
    # the torch model keeps the dotted names of the YAML
    from inceptcost import build_model

    names = dict(build_model(spec).named_modules())
    assert "mixed_7.b3x3.split.a.conv1x3.conv" in names
    assert "mixed_7.b3x3.split.b.conv3x1.bn" in names


def test_mismatched_strides_name_the_branches(spec_from_yaml):
    """A grid reduction whose pool keeps stride 1 cannot be concatenated: the error names the branch sizes."""
    from inceptcost.errors import ShapeError

    bad = GRID_REDUCTION.replace(
        "bpool: [{name: pool, type: maxpool, patch: 3x3/2}]", "bpool: [{type: maxpool, patch: 3x3/1}]"
    )
    with pytest.raises(ShapeError, match=r"b3x3 17x17.*bpool 33x33"):
        compile_graph(spec_from_yaml(bad))
