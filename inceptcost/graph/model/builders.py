"""The torch module of each layer kind (`BUILDERS[kind]`, keyed like `kinds.NODE_KINDS`: the layer kinds and
`add`): (args, input shape, output shape) -> module. Its static rules are the kind's `Kind` in inceptcost/kinds;
this is the kind's one torch-side entry (the static side must never import torch), and tests/graph/test_kinds.py
fails when a kind lacks one. The memory rules mirror what these modules run (in place or not, what they save).

Torch is imported inside each builder only, so that the static path never loads it.
"""

from __future__ import annotations

import math

Shape = tuple[int, ...]


def _activation(name: str):
    import torch.nn as nn

    return {
        "relu": lambda: nn.ReLU(inplace=True),
        "relu6": lambda: nn.ReLU6(inplace=True),
        "gelu": nn.GELU,
        "silu": lambda: nn.SiLU(inplace=True),
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
    }[name]()


def conv_build(args: dict, i: Shape, o: Shape):
    """conv [+ bn | lrn] [+ activation] as one unit, named like torchvision's BasicConv2d (conv, bn)."""
    import torch.nn as nn

    unit = nn.Sequential()
    unit.add_module(
        "conv",
        nn.Conv2d(
            i[0],
            o[0],
            kernel_size=args["kernel"],
            stride=args["stride"],
            padding=args["padding"],
            groups=args["groups"],
            bias=args["bias"],
        ),
    )
    if args["norm"] == "bn":
        unit.add_module("bn", nn.BatchNorm2d(o[0], eps=args["eps"]))
    elif args["norm"] == "lrn":
        unit.add_module("lrn", nn.LocalResponseNorm(args["size"], args["alpha"], args["beta"], args["k"]))
    if args["activation"] != "none":
        unit.add_module("act", _activation(args["activation"]))
    return unit


def bn_build(args: dict, i: Shape, o: Shape):
    import torch.nn as nn

    return nn.BatchNorm2d(o[0], eps=args["eps"])


def activation_build(args: dict, i: Shape, o: Shape):
    """A standalone activation is never in place: its input may also feed a shortcut or another branch."""
    import torch.nn as nn

    return {
        "relu": nn.ReLU,
        "relu6": nn.ReLU6,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
    }[args["activation"]]()


def add_build(args: dict, i: Shape, o: Shape):
    from .blocks import Add

    act = None if args["activation"] == "none" else activation_build(args, i, o)
    return Add(args["scale"], act)


def maxpool_build(args: dict, i: Shape, o: Shape):
    import torch.nn as nn

    return nn.MaxPool2d(args["kernel"], args["stride"], args["padding"], ceil_mode=args["ceil"])


def avgpool_build(args: dict, i: Shape, o: Shape):
    import torch.nn as nn

    return nn.AvgPool2d(
        args["kernel"],
        args["stride"],
        args["padding"],
        ceil_mode=args["ceil"],
        count_include_pad=args["count_pad"],
    )


def adaptive_build(args: dict, i: Shape, o: Shape):
    import torch.nn as nn

    return nn.AdaptiveAvgPool2d(args["output"])


def lrn_build(args: dict, i: Shape, o: Shape):
    import torch.nn as nn

    return nn.LocalResponseNorm(args["size"], args["alpha"], args["beta"], args["k"])


def dropout_build(args: dict, i: Shape, o: Shape):
    import torch.nn as nn

    return nn.Dropout(args["p"])


def flatten_build(args: dict, i: Shape, o: Shape):
    import torch.nn as nn

    return nn.Flatten(1)


def linear_build(args: dict, i: Shape, o: Shape):
    """A Linear that flattens its input first, so that `linear.weight` keeps the layer's own name."""
    from .blocks import FlatLinear

    act = None if args["activation"] == "none" else _activation(args["activation"])
    return FlatLinear(math.prod(i), o[0], bias=args["bias"], act=act)


BUILDERS = {
    "conv": conv_build,
    "bn": bn_build,
    "activation": activation_build,
    "add": add_build,
    "maxpool": maxpool_build,
    "avgpool": avgpool_build,
    "adaptive_avgpool": adaptive_build,
    "lrn": lrn_build,
    "dropout": dropout_build,
    "flatten": flatten_build,
    "linear": linear_build,
}
