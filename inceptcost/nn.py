"""Torch building blocks of the compiled model that torch itself does not have. Imports torch."""

from __future__ import annotations

import os
import shutil

import torch
from torch import nn

from .errors import ToolMissing


def require_compiler() -> None:
    """torch.compile's default backend (inductor) builds its kernels with a C++ compiler: without one the first
    step fails deep inside torch. Say so up front."""
    names = (os.environ.get("CXX", ""), "g++", "c++", "clang++")
    if not any(name and shutil.which(name) for name in names):
        raise ToolMissing(
            "--compile needs a C++ compiler (torch.compile builds its kernels with one); none found on PATH",
            hint="install g++ (or set CXX), or run without --compile",
        )


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


class Add(nn.Module):
    """A residual block's add: `act(scale * body + shortcut)`."""

    def __init__(self, scale: float, act: nn.Module | None):
        super().__init__()
        self.scale = scale
        self.act = act

    def forward(self, body: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        y = body + shortcut if self.scale == 1 else body * self.scale + shortcut
        return y if self.act is None else self.act(y)


class Residual(nn.Module):
    """The body's layers in order, added to the shortcut (the identity, or the `shortcut` projection)."""

    def __init__(self, body: list[tuple[str, nn.Module]], shortcut: nn.Module | None, add: Add):
        super().__init__()
        for name, module in body:
            self.add_module(name, module)
        self.body_names = [name for name, _ in body]
        self.shortcut = shortcut
        self.add = add

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for name in self.body_names:
            y = self._modules[name](y)
        return self.add(y, x if self.shortcut is None else self.shortcut(x))
