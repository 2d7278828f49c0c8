"""specs/inception-resnet-v1.yaml against a hand computation from the paper's figures (arXiv 1602.07261):
no implementation of Inception-ResNet-v1 was released, so the truth is the arithmetic below, written from
Figures 7 and 10-15 (every conv: C_out * C_in * kh * kw weights, used H_out * W_out times), with the spec's
declared conventions: BatchNorm (2 parameters per channel) after every conv except the blocks' closing
"Linear" 1x1 convs, which have a bias instead; a linear classifier with a bias.
"""

from __future__ import annotations

from support import ROOT

from inceptcost import compile_graph, load_spec, summarize
from inceptcost.analyze.costs import row_costs

SPEC = ROOT / "specs/inception-resnet-v1.yaml"


def conv(c_in: int, c_out: int, kh: int, kw: int, size: int) -> tuple[int, int]:
    """(weights, MACs) of a conv whose output grid is size x size."""
    w = c_out * c_in * kh * kw
    return w, w * size * size


def total(*convs: tuple[int, int]) -> tuple[int, int]:
    return sum(c[0] for c in convs), sum(c[1] for c in convs)


# Figure 14, the stem: 299 -> 149 -> 147 -> 147 -> pool 73 -> 73 -> 71 -> 35
STEM = total(
    conv(3, 32, 3, 3, 149),
    conv(32, 32, 3, 3, 147),
    conv(32, 64, 3, 3, 147),
    conv(64, 80, 1, 1, 73),
    conv(80, 192, 3, 3, 71),
    conv(192, 256, 3, 3, 35),
)
STEM_BN = 32 + 32 + 64 + 80 + 192 + 256
# Figure 10, Inception-ResNet-A on 35x35x256: 1x1 32 | 1x1 32, 3x3 32 | 1x1 32, 3x3 32, 3x3 32 | Linear 1x1 256
BLOCK_A = total(
    conv(256, 32, 1, 1, 35),
    conv(256, 32, 1, 1, 35),
    conv(32, 32, 3, 3, 35),
    conv(256, 32, 1, 1, 35),
    conv(32, 32, 3, 3, 35),
    conv(32, 32, 3, 3, 35),
    conv(96, 256, 1, 1, 35),
)
BLOCK_A_BN, BLOCK_A_BIAS = 6 * 32, 256
# Figure 7, Reduction-A with k=192, l=192, m=256, n=384: 35x35x256 -> 17x17x(256 + 384 + 256)
RED_A = total(conv(256, 384, 3, 3, 17), conv(256, 192, 1, 1, 35), conv(192, 192, 3, 3, 35), conv(192, 256, 3, 3, 17))
RED_A_BN = 384 + 192 + 192 + 256
# Figure 11, Inception-ResNet-B on 17x17x896: 1x1 128 | 1x1 128, 1x7 128, 7x1 128 | Linear 1x1 896
BLOCK_B = total(
    conv(896, 128, 1, 1, 17),
    conv(896, 128, 1, 1, 17),
    conv(128, 128, 1, 7, 17),
    conv(128, 128, 7, 1, 17),
    conv(256, 896, 1, 1, 17),
)
BLOCK_B_BN, BLOCK_B_BIAS = 4 * 128, 896
# Figure 12, Reduction-B: 17x17x896 -> 8x8x(896 + 384 + 256 + 256)
RED_B = total(
    conv(896, 256, 1, 1, 17),
    conv(256, 384, 3, 3, 8),
    conv(896, 256, 1, 1, 17),
    conv(256, 256, 3, 3, 8),
    conv(896, 256, 1, 1, 17),
    conv(256, 256, 3, 3, 17),
    conv(256, 256, 3, 3, 8),
)
RED_B_BN = 256 + 384 + 256 + 256 + 256 + 256 + 256
# Figure 13, Inception-ResNet-C on 8x8x1792: 1x1 192 | 1x1 192, 1x3 192, 3x1 192 | Linear 1x1 1792
BLOCK_C = total(
    conv(1792, 192, 1, 1, 8),
    conv(1792, 192, 1, 1, 8),
    conv(192, 192, 1, 3, 8),
    conv(192, 192, 3, 1, 8),
    conv(384, 1792, 1, 1, 8),
)
BLOCK_C_BN, BLOCK_C_BIAS = 4 * 192, 1792
FC = (1792 * 1000, 1792 * 1000)

# Figure 15: stem, 5 x A, Reduction-A, 10 x B, Reduction-B, 5 x C, average pool, dropout, linear
WEIGHTS = STEM[0] + 5 * BLOCK_A[0] + RED_A[0] + 10 * BLOCK_B[0] + RED_B[0] + 5 * BLOCK_C[0] + FC[0]
MACS = STEM[1] + 5 * BLOCK_A[1] + RED_A[1] + 10 * BLOCK_B[1] + RED_B[1] + 5 * BLOCK_C[1] + FC[1]
BN = 2 * (STEM_BN + 5 * BLOCK_A_BN + RED_A_BN + 10 * BLOCK_B_BN + RED_B_BN + 5 * BLOCK_C_BN)
BIASES = 5 * BLOCK_A_BIAS + 10 * BLOCK_B_BIAS + 5 * BLOCK_C_BIAS + 1000


def test_totals_equal_the_hand_computation():
    totals = summarize(compile_graph(load_spec(SPEC)))
    assert totals["weights"] == WEIGHTS
    assert totals["macs"] == MACS
    assert totals["norm_params"] == BN
    assert totals["biases"] == BIASES
    assert totals["params"] == WEIGHTS + BN + BIASES


def test_each_block_equals_its_figure():
    rows = {rc.row.name: rc for rc in row_costs(compile_graph(load_spec(SPEC)))}
    for name, expected in (
        ("block_a_3", BLOCK_A),
        ("reduction_a", RED_A),
        ("block_b_10", BLOCK_B),
        ("reduction_b", RED_B),
        ("block_c_5", BLOCK_C),
    ):
        assert (rows[name].weights, rows[name].macs) == expected, name


def test_output_grids_are_the_papers():
    """Figure 15's sizes: 35x35x256 after the stem and the A blocks, 17x17x896, 8x8x1792, 1792 features."""
    graph = compile_graph(load_spec(SPEC))
    shapes = {row.name: row.out_shape for row in graph.graph["rows"]}
    assert shapes["stem_conv6"] == shapes["block_a_5"] == (256, 35, 35)
    assert shapes["reduction_a"] == shapes["block_b_10"] == (896, 17, 17)
    assert shapes["reduction_b"] == shapes["block_c_5"] == (1792, 8, 8)
    assert shapes["avgpool"] == (1792, 1, 1)
