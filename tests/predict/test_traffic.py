"""Bytes moved per op kind, against a hand computation on a tiny net (batch 2, fp32: 4 bytes an element)."""

from __future__ import annotations

import pytest

from inceptcost import compile_graph, load_spec
from inceptcost.analyze.timing.traffic import optimizer_kernels, traffic

TINY = """
name: tiny
input: 8x8x3
classes: 5
defaults: {activation: relu, bias: false, norm: bn}
layers:
  - {name: conv1, type: conv, kernel: 3, out: 4}
  - {name: pool1, type: maxpool, patch: 3x3/2, ceil: true}
  - {name: norm1, type: lrn, size: 3}
  - {name: mix, type: inception, "1x1": 2, "3x3reduce": 2, "3x3": 2, "5x5reduce": 1, "5x5": 1, poolproj: 1}
  - {name: gap, type: gap}
  - {name: dropout, type: dropout, p: 0.5}
  - {name: linear, type: linear, bias: true}
"""


@pytest.fixture
def graph(write_spec):
    return compile_graph(load_spec(write_spec(TINY)))


def by_name(graph, train):
    return {t.name: t for t in traffic(graph, batch=2, dtype="fp32", train=train)}


def rw(t, backward=False):
    return t.read(backward), t.write(backward)


def test_conv_unit_first_layer(graph):
    # input 2x3x8x8 = 384 elements, output 2x4x8x8 = 512, weights 4x3x3x3 = 108, bn weight+bias 8
    infer, train = by_name(graph, False)["conv1"], by_name(graph, True)["conv1"]
    # conv (384 + 108) x 4 read, 512 x 4 written; bn 512 x 4 + 8 x 4 read, 2048 written; relu 2048 / 2048
    assert rw(infer) == (1968 + 2080 + 2048, 2048 * 3)
    assert [k.kind for k in infer.forward] == ["conv", "bn", "eltwise"]
    # training: bn reads its input twice (statistics, then normalization)
    assert rw(train) == (1968 + (4096 + 32) + 2048, 2048 * 3)
    # backward: relu reads out + grad, writes grad; bn reads x + grad + affine, writes grad + affine grads;
    # conv reads saved input + output grad, writes the weight grad only (the image needs no gradient)
    assert rw(train, True) == (4096 + (4096 + 32) + (384 + 512) * 4, 2048 + (2048 + 32) + 108 * 4)
    assert [k.kind for k in train.backward] == ["eltwise_bwd", "bn_bwd", "conv_bwd"]
    assert train.backward[-1].macs == 2 * 8 * 8 * 108  # one gradient: 1 x the forward MACs
    assert infer.macs == 2 * 8 * 8 * 108 and infer.as_dict()["intensity"] == infer.macs / (6096 + 6144)


def test_maxpool_saves_int64_indices_in_training(graph):
    # 2x4x8x8 = 512 in, 2x4x4x4 = 128 out
    assert rw(by_name(graph, False)["pool1"]) == (512 * 4, 128 * 4)
    t = by_name(graph, True)["pool1"]
    assert rw(t) == (512 * 4, 128 * 4 + 128 * 8)
    assert rw(t, True) == (128 * 4 + 128 * 8, 512 * 4)
    # its work: each of the 128 outputs compares a 3x3 window; backward adds each gradient at one index
    assert [(k.kind, k.macs) for k in (*t.forward, *t.backward)] == [("maxpool", 128 * 9), ("maxpool_bwd", 128)]
    # the module's pool branch, 3x3/1 on 2x4x4x4: 128 outputs of 9 elements each
    assert by_name(graph, True)["mix.bpool.pool"].forward[0].macs == 128 * 9


def test_average_pools_sum_their_window_both_ways(write_spec):
    spec = "input: 6x6x2\nclasses: 3\nlayers:\n  - {name: p, type: avgpool, patch: 3x3/3}\n  - {name: g, type: gap}\n  - {name: fc, type: linear}\n"
    t = {x.name: x for x in traffic(compile_graph(load_spec(write_spec(spec))), 2, train=True)}
    # p: 2x2x2x2 = 16 outputs of 9 elements, forward and backward; g: its windows tile its 16-element input
    assert [(k.kind, k.macs) for k in (*t["p"].forward, *t["p"].backward)] == [("avgpool", 144), ("avgpool_bwd", 144)]
    assert [(k.kind, k.macs) for k in (*t["g"].forward, *t["g"].backward)] == [("avgpool", 16), ("avgpool_bwd", 16)]
    assert rw(t["p"]) == (144 * 4, 16 * 4)  # 2x2x6x6 in, 16 out, no indices


def test_lrn_and_the_gradient_sum_of_a_tensor_read_four_times(graph):
    t = by_name(graph, True)["norm1"]  # 128 elements = 512 B, read by the module's 4 branches
    # PyTorch's composition: x*x, pad, window average, *alpha, +k, **beta (512 B in and out each), x / div
    assert rw(t) == (6 * 512 + 2 * 512, 7 * 512) and len(t.forward) == 7
    # 10 backward kernels (each reads 2 x 512, writes 512) + 3 additions of the branches' gradients (same)
    assert rw(t, True) == (10 * 1024 + 3 * 1024, 10 * 512 + 3 * 512)


def test_concat_copies_and_its_backward_is_views(graph):
    t = by_name(graph, True)["mix.concat"]  # 2 x 6 x 4 x 4 = 192 elements
    assert rw(t) == (768, 768) and t.backward == ()


def test_global_pool_dropout_linear(graph):
    infer, train = by_name(graph, False), by_name(graph, True)
    assert rw(train["gap"]) == (768, 48) and rw(train["gap"], True) == (48, 768)
    assert infer["dropout"].forward == ()  # identity at inference
    assert rw(train["dropout"]) == (48, 48 + 12) and rw(train["dropout"], True) == (48 + 12, 48)
    lin = train["linear"]  # 12 in, 10 out, 30 weights + 5 biases
    assert rw(lin) == ((12 + 35) * 4, 40)
    assert rw(lin, True) == ((12 + 10 + 35) * 4, (12 + 35) * 4)
    assert lin.backward[-1].macs == 2 * 2 * 30


def test_flatten_is_a_view(write_spec):
    g = compile_graph(
        load_spec(
            write_spec(
                "input: 4x4x2\nclasses: 3\nlayers:\n  - {name: f, type: flatten}\n  - {name: fc, type: linear}\n"
            )
        )
    )
    t = {x.name: x for x in traffic(g, 2, train=True)}
    assert t["f"].forward == () and t["f"].backward == ()


def test_optimizer_reads_and_writes_every_parameter_tensor(graph):
    kernels = optimizer_kernels(graph)
    # 23 tensors: conv1 (weight, bn weight, bn bias), 6 convs in the module (3 each), linear (weight, bias)
    assert len(kernels) == 3 * 23
    params = 116 + 103 + 35  # conv1 108 + 8; module 12 + 12 + 40 + 6 + 27 + 6; linear 35
    # momentum x0.9 (1 read, 1 write), + gradient (2 reads, 1 write), weight update (2 reads, 1 write), 4 B each
    assert sum(k.read for k in kernels) == 5 * 4 * params and sum(k.write for k in kernels) == 3 * 4 * params


def test_bf16_halves_activation_bytes(graph):
    fp32 = {t.name: t for t in traffic(graph, 2, "fp32")}
    bf16 = {t.name: t for t in traffic(graph, 2, "bf16")}
    assert all(2 * bf16[n].read() == fp32[n].read() for n in fp32)


def test_new_tensors_each_kernel_allocates(graph):
    """What a first-touch cost is charged on: each new tensor, never an in-place write."""
    t = by_name(graph, True)
    conv1 = t["conv1"]  # conv output, bn output (2048 B each); the ReLU runs in place
    assert [k.allocs for k in conv1.forward] == [(2048,), (2048,), ()]
    # backward: relu and bn gradients, then the weight gradient alone (the image needs no gradient)
    assert [k.allocs for k in conv1.backward] == [(2048,), (2048,), (108 * 4,)]
    assert t["pool1"].forward[0].allocs == (128 * 4, 128 * 8)  # the output and its int64 indices
    assert t["dropout"].forward[0].allocs == (48, 12)  # the output and its one-byte mask
    assert t["linear"].backward[-1].allocs == (12 * 4, 30 * 4, 5 * 4)  # input, weight and bias gradients
    assert all(k.allocs == () for k in optimizer_kernels(graph))  # SGD updates in place
