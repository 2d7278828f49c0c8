"""Torch building blocks of the compiled model that torch itself does not have. Imports torch."""

from __future__ import annotations

import torch
from torch import nn


class FlatLinear(nn.Linear):
    """nn.Linear on the flattened input, with an optional activation after it, so that a linear layer needs
    no separate flatten module and its weights keep the layer's own name (`aux1.fc1.weight`)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, act: nn.Module | None = None):
        super().__init__(in_features, out_features, bias=bias)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x.flatten(1))
        return y if self.act is None else self.act(y)


class Parallel(nn.ModuleDict):
    """Branches fed the same input, concatenated along channels (an inception module)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.values()], dim=1)
