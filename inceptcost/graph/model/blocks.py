"""Torch building blocks of the compiled model that torch itself does not have. Imports torch.

The fast build (graph/model/fast.py) reuses the plain model's modules under the same names, with faster forwards:
- ConvUnit: conv [+ bn | lrn] [+ activation] whose BatchNorm folds into the conv in eval mode;
- FastParallel: an inception module whose sibling 1x1 convs (same input) run as one conv over their
  concatenated weights (concatenated in the forward, so gradients reach each branch's own parameters), with
  one BatchNorm over the concatenated channels and one activation, then split; in no-grad inference the
  branches can write their outputs into slices of one preallocated tensor instead of a final torch.cat.
Derived tensors (folded or concatenated weights) are recomputed in each forward while autograd or
torch.compile is on; in no-grad eager inference they are cached until one of their source tensors changes.
"""

from __future__ import annotations

import os
import shutil
from collections import OrderedDict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ToolMissing


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


def cached(owner: nn.Module, tensors: list, compute) -> Any:
    """compute(), reused while none of `tensors` changed (same object, storage and version counter)."""
    if torch.is_grad_enabled() or torch.compiler.is_compiling():
        return compute()
    key = tuple((id(t), t.data_ptr(), t._version, t.device) for t in tensors if t is not None)
    hit = owner.__dict__.get("_derived")
    if hit is not None and hit[0] == key:
        return hit[2]
    value = compute()
    owner.__dict__["_derived"] = (key, tensors, value)  # the tensors are held so that their ids stay theirs
    return value


def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of one conv that computes bn(conv(x)) with the running statistics."""
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    bias = -bn.running_mean * scale
    if conv.bias is not None:
        bias = bias + conv.bias * scale
    if bn.bias is not None:
        bias = bias + bn.bias
    return conv.weight * scale.reshape(-1, 1, 1, 1), bias


def act_into(act: nn.Module | None, y: torch.Tensor, out: torch.Tensor) -> None:
    """out <- act(y), written straight into `out` (a slice of a larger tensor) where the op allows it."""
    if isinstance(act, nn.ReLU):
        torch.clamp_min(y, 0, out=out)
    elif isinstance(act, nn.ReLU6):
        torch.clamp(y, 0, 6, out=out)
    else:
        out.copy_(y if act is None else act(y))


OUT_OF_PLACE = {nn.ReLU: F.relu, nn.ReLU6: F.relu6, nn.SiLU: F.silu}


def act_apart(act: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """act(y) without writing into y: y is one of several views of a tensor that autograd saves."""
    return OUT_OF_PLACE[type(act)](y) if getattr(act, "inplace", False) else act(y)


class ConvUnit(nn.Sequential):
    """The plain model's conv unit (children conv, bn | lrn, act under the same names); with `fold`, its
    BatchNorm is folded into the conv in eval mode."""

    def __init__(self, unit: nn.Sequential, fold: bool) -> None:
        super().__init__(OrderedDict(unit.named_children()))
        self.fold = fold

    @property
    def folded(self) -> bool:
        return self.fold and not self.training and "bn" in self._modules

    @property
    def activation(self) -> nn.Module | None:
        return self._modules.get("act")

    def weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        conv = self._modules["conv"]
        if not self.folded:
            return conv.weight, conv.bias
        bn = self._modules["bn"]
        sources = [conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var]
        return cached(self, sources, lambda: fold(conv, bn))

    def pre_act(self, x: torch.Tensor) -> torch.Tensor:
        """Everything but the activation: conv, then the norm unless it is folded."""
        y = self._modules["conv"]._conv_forward(x, *self.weights())
        if "bn" in self._modules and not self.folded:
            y = self._modules["bn"](y)
        if "lrn" in self._modules:
            y = self._modules["lrn"](y)
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pre_act(x)
        return y if self.activation is None else self.activation(y)


def _norm_running_stats(bns: list[nn.BatchNorm2d], training: bool) -> tuple[Any, Any, float]:
    """Concatenated running stats for one batch_norm call, and its momentum (nn.BatchNorm2d's own rule)."""
    first = bns[0]
    if not first.track_running_stats:
        return None, None, 0.0
    factor = 0.0 if first.momentum is None else first.momentum
    if training:
        for bn in bns:
            bn.num_batches_tracked.add_(1)
        if first.momentum is None:
            factor = 1.0 / float(first.num_batches_tracked)
    mean = torch.cat([bn.running_mean for bn in bns])
    var = torch.cat([bn.running_var for bn in bns])
    return mean, var, factor


def _cat_or_none(tensors: list, sizes: list[int], like: torch.Tensor) -> torch.Tensor | None:
    """torch.cat of per-branch vectors, zeros standing in for a branch without one; None if none has one."""
    if all(t is None for t in tensors):
        return None
    return torch.cat([like.new_zeros(n) if t is None else t for t, n in zip(tensors, sizes, strict=True)])


class FusedGroup:
    """Sibling conv units with 1x1 stride-1 convs on the same input and the same norm and activation."""

    def __init__(self, members: list[int], units: list[ConvUnit], fuse_act: bool) -> None:
        self.members, self.units, self.fuse_act = members, units, fuse_act
        self.sizes = [u._modules["conv"].out_channels for u in units]
        self.starts = [sum(self.sizes[:i]) for i in range(len(units))]

    def weights(self, owner: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
        def compute():
            ws, bs = zip(*(u.weights() for u in self.units), strict=True)
            return torch.cat(ws), _cat_or_none(list(bs), self.sizes, ws[0])

        if not self.units[0].folded:
            return compute()
        sources = [t for u in self.units for t in (*u.parameters(), *u.buffers())]
        return cached(owner, sources, compute)

    def run(self, owner: nn.Module, x: torch.Tensor) -> tuple[list[torch.Tensor], bool]:
        """The members' outputs (slices of one tensor), and whether their activation is already applied."""
        first = self.units[0]
        y = first._modules["conv"]._conv_forward(x, *self.weights(owner))
        if "bn" in first._modules and not first.folded:
            bns = [u._modules["bn"] for u in self.units]
            training = first.training or not first._modules["bn"].track_running_stats
            mean, var, momentum = _norm_running_stats(bns, first.training)
            y = F.batch_norm(
                y,
                mean,
                var,
                _cat_or_none([bn.weight for bn in bns], self.sizes, y),
                _cat_or_none([bn.bias for bn in bns], self.sizes, y),
                training,
                momentum,
                bns[0].eps,
            )
            if first.training and mean is not None:  # batch_norm updated the concatenated copies
                with torch.no_grad():
                    for bn, m, v in zip(bns, mean.split(self.sizes), var.split(self.sizes), strict=True):
                        bn.running_mean.copy_(m)
                        bn.running_var.copy_(v)
        done = self.fuse_act or first.activation is None
        if self.fuse_act and first.activation is not None:
            y = first.activation(y)
        return [y.narrow(1, start, n) for start, n in zip(self.starts, self.sizes, strict=True)], done


class FastParallel(Parallel):
    """An inception module: the plain Parallel's branches under the same names, a faster forward.

    plans[i] is branch i as a flat list of its layers (conv units, pools, nested modules); a branch of a
    fused group starts with its group's conv unit, which the group runs.
    """

    def __init__(
        self,
        branches: dict[str, nn.Module],
        plans: list[list[nn.Module]],
        groups: list[FusedGroup],
        out_channels: int,
        slice_concat: bool,
    ) -> None:
        super().__init__(branches)
        self.plans, self.groups, self.slice_concat = plans, groups, slice_concat
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        heads: dict[int, tuple[torch.Tensor, bool]] = {}
        for group in self.groups:
            parts, done = group.run(self, x)
            heads.update({i: (p, done) for i, p in zip(group.members, parts, strict=True)})
        into = self.slice_concat and not torch.is_grad_enabled() and not torch.compiler.is_compiling()
        if not into:
            return torch.cat([self._branch(i, x, heads.get(i)) for i in range(len(self.plans))], dim=1)
        out, start = None, 0
        for i in range(len(self.plans)):
            z, act = self._branch(i, x, heads.get(i), keep_act=True)
            if out is None:
                out = self._output(z)
            act_into(act, z, out[:, start : start + z.shape[1]])
            start += z.shape[1]
        return out

    def _output(self, z: torch.Tensor) -> torch.Tensor:
        """The module's output, allocated like its first branch's (dtype, device, memory format)."""
        nhwc = not z.is_contiguous() and z.is_contiguous(memory_format=torch.channels_last)
        fmt = torch.channels_last if nhwc else torch.contiguous_format
        shape = (z.shape[0], self.out_channels, *z.shape[2:])
        return torch.empty(shape, dtype=z.dtype, device=z.device, memory_format=fmt)

    def _branch(self, i: int, x: torch.Tensor, head: tuple | None, keep_act: bool = False) -> Any:
        """Branch i's output; with keep_act, (its output before a last activation, that activation)."""
        plan, z, pending = self.plans[i], x, None
        if head is not None:
            z, done = head
            if not done and torch.is_grad_enabled():
                z = act_apart(plan[0].activation, z)
            elif not done:
                pending = plan[0].activation
            plan = plan[1:]
        for layer in plan:
            if pending is not None:
                z = pending(z)
            if isinstance(layer, ConvUnit):
                z, pending = layer.pre_act(z), layer.activation
            else:
                z, pending = layer(z), None
        if keep_act:
            return z, pending
        return z if pending is None else pending(z)


class InceptionNet(nn.Module):
    """The compiled network: rows applied in order; aux heads tap rows and run in training mode only.

    forward returns the logits, or in training mode with aux heads `(logits, [aux logits, ...])`.
    """

    def __init__(self, rows: list[tuple[str, nn.Module]], aux: list[tuple[str, str, float, nn.Module]]):
        super().__init__()
        for name, module in rows:
            self.add_module(name, module)
        self.row_names = [name for name, _ in rows]
        for name, _, _, module in aux:
            self.add_module(name, module)
        self.aux_names = [name for name, _, _, _ in aux]
        self.aux_weights = [weight for _, _, weight, _ in aux]
        self.taps: dict[str, list[int]] = {}
        for i, (_, at, _, _) in enumerate(aux):
            self.taps.setdefault(at, []).append(i)

    def forward(self, x: torch.Tensor) -> Any:
        with_aux = self.training and bool(self.aux_names)
        aux_out: list[Any] = [None] * len(self.aux_names)
        for name in self.row_names:
            x = self._modules[name](x)
            if with_aux and name in self.taps:
                for i in self.taps[name]:
                    aux_out[i] = self._modules[self.aux_names[i]](x)
        return (x, aux_out) if with_aux else x


def main_net(model: InceptionNet) -> InceptionNet:
    """The same modules without the aux heads (they run in training only), in eval mode."""
    return InceptionNet([(name, model.get_submodule(name)) for name in model.row_names], []).eval()
