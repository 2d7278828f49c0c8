"""Constants the tests share (importable because pyproject puts tests/ on the path)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

# Table 1 of the paper: name -> (input channels, output HxW, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
# pool proj, params K, ops M). Input channels are the previous row's output depth.
TABLE_1_INCEPTION = {
    "inception_3a": (192, 28, 64, 96, 128, 16, 32, 32, 159, 128),
    "inception_3b": (256, 28, 128, 128, 192, 32, 96, 64, 380, 304),
    "inception_4a": (480, 14, 192, 96, 208, 16, 48, 64, 364, 73),
    "inception_4b": (512, 14, 160, 112, 224, 24, 64, 64, 437, 88),
    "inception_4c": (512, 14, 128, 128, 256, 24, 64, 64, 463, 100),
    "inception_4d": (512, 14, 112, 144, 288, 32, 64, 64, 580, 119),
    "inception_4e": (528, 14, 256, 160, 320, 32, 128, 128, 840, 170),
    "inception_5a": (832, 7, 256, 160, 320, 32, 128, 128, 1072, 54),
    "inception_5b": (832, 7, 384, 192, 384, 48, 128, 128, 1388, 71),
}


def inception_weights(c: int, n1: int, r3: int, n3: int, r5: int, n5: int, pp: int) -> int:
    """Weights of a Table 1 module, by hand: 1x1 convs read all c input channels; 3x3 and 5x5 read their reductions."""
    return c * (n1 + r3 + r5 + pp) + 3 * 3 * r3 * n3 + 5 * 5 * r5 * n5


# specs/googlenet.yaml by hand from Table 1's columns: weights per row and the output area each row runs at.
CONV1 = 7 * 7 * 3 * 8 + 24 * 64  # depthwise 7x7, multiplier 8, then 1x1 24 -> 64
CONV2 = 64 * 64 + 9 * 64 * 192
LINEAR = 1024 * 1000
ROW_WEIGHTS = {
    "conv1": CONV1,
    "conv2": CONV2,
    **{k: inception_weights(v[0], *v[2:8]) for k, v in TABLE_1_INCEPTION.items()},
}
ROW_WEIGHTS["linear"] = LINEAR
ROW_AREA = {"conv1": 112 * 112, "conv2": 56 * 56, **{k: v[1] ** 2 for k, v in TABLE_1_INCEPTION.items()}, "linear": 1}
HAND_WEIGHTS = sum(ROW_WEIGHTS.values())
HAND_MACS = sum(ROW_WEIGHTS[k] * ROW_AREA[k] for k in ROW_WEIGHTS)
# one bias per output channel of every conv and the linear layer
HAND_BIASES = (
    (24 + 64) + (64 + 192) + sum(v[2] + v[3] + v[4] + v[5] + v[6] + v[7] for v in TABLE_1_INCEPTION.values()) + 1000
)
HAND_PARAMS = HAND_WEIGHTS + HAND_BIASES


def interop_net(name: str):
    """A model made by the factory `name` of tests/interop/nets.py (small torch nets the importer is tested on)."""
    sys.path.insert(0, str(ROOT / "tests" / "interop"))
    try:
        import nets
    finally:
        sys.path.pop(0)
    return getattr(nets, name)()
