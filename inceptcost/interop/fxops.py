"""One op of a torch.fx graph -> an Atom: a spec layer (conv, pool, linear, ...) or a part of a unit (a batch
norm, an activation) that `fxgraph.fold` joins to the conv or linear before it. An op the spec language lacks
is an ImportFailed naming it and its module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from ..errors import ImportFailed

_ACT_MODULES = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SiLU: "silu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
_ACT_FUNCTIONS = {
    F.relu: "relu",
    torch.relu: "relu",
    F.relu6: "relu6",
    F.silu: "silu",
    torch.sigmoid: "sigmoid",
    torch.tanh: "tanh",
}
_ACT_METHODS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}


@dataclass
class Atom:
    """One op of the source: a spec layer (kind and keys) or a part of a unit (bn, act) to fold."""

    kind: str  # conv | bn | act | maxpool | avgpool | adaptive_avgpool | dropout | flatten | linear | lrn
    path: str  # module path; for functions the enclosing module's path + the fx node's name
    args: dict[str, Any] = field(default_factory=dict)
    end: fx.Node | None = None  # the fx node whose tensor leaves this layer (after folding)


def _arg(node: fx.Node, i: int, key: str, default: Any = None) -> Any:
    return node.args[i] if len(node.args) > i else node.kwargs.get(key, default)


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _enclosing(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    return next(reversed(stack)) if stack else ""


def _where(node: fx.Node) -> str:
    if node.op == "call_module":
        return str(node.target)
    return _enclosing(node) or "the model's own forward"


def _describe(node: fx.Node, root: nn.Module | None = None) -> str:
    """What a node runs: a function's or method's name, or a module's type (its target is the module's path:
    with `root` the module is looked up, else the path is said)."""
    target = node.target
    if node.op != "call_module":
        return getattr(target, "__name__", str(target))
    try:
        return type(root.get_submodule(str(target))).__name__ if root is not None else str(target)
    except AttributeError:  # not a submodule of root: its path says where it is
        return str(target)


class Ops:
    """Reads single ops; `fxgraph.Reader` adds the structure (concat, residual add) around them."""

    def __init__(self, root: nn.Module, label: str) -> None:
        self.root, self.label = root, label

    def fail(self, node: fx.Node, message: str, hint: str | None = None) -> ImportFailed:
        return ImportFailed(message, file=self.label, where=_where(node), hint=hint)

    def unsupported(self, node: fx.Node, op: str | None = None) -> ImportFailed:
        op = op or _describe(node, self.root)
        return self.fail(
            node,
            f"unsupported op '{op}'",
            "the spec language has conv (+ batch norm, activation), standalone batch norm and activations, "
            "max/avg/adaptive pools, concat, residual add, LRN, dropout, flatten and linear",
        )

    # ---- one op -> an Atom ----

    def atom(self, node: fx.Node) -> Atom:
        if node.op == "call_module":
            return self.module_atom(node, self.root.get_submodule(str(node.target)))
        path = f"{_enclosing(node)}.{node.name}".lstrip(".")
        if node.op == "call_function":
            fn = node.target
            if fn in _ACT_FUNCTIONS:
                return Atom("act", path, {"activation": _ACT_FUNCTIONS[fn]})
            if fn is F.max_pool2d:
                return self.pool(node, path, "maxpool", _arg(node, 1, "kernel_size"), *self._fpool(node, True))
            if fn is F.avg_pool2d:
                return self.pool(node, path, "avgpool", _arg(node, 1, "kernel_size"), *self._fpool(node, False))
            if fn is F.adaptive_avg_pool2d:
                return self.adaptive(node, path, _arg(node, 1, "output_size"))
            if fn is F.dropout:
                return Atom("dropout", path, {"p": float(_arg(node, 1, "p", 0.5))})
            if fn is torch.flatten:
                return self.flatten(node, path, _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1))
        if node.op == "call_method":
            if node.target in _ACT_METHODS:
                return Atom("act", path, {"activation": _ACT_METHODS[str(node.target)]})
            if node.target == "flatten":
                return self.flatten(node, path, _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1))
        raise self.unsupported(node)

    def _fpool(self, node: fx.Node, is_max: bool) -> tuple:
        stride = _arg(node, 2, "stride")
        padding = _arg(node, 3, "padding", 0)
        if is_max:
            if _pair(_arg(node, 4, "dilation", 1)) != (1, 1) or _arg(node, 6, "return_indices", False):
                raise self.unsupported(node, "max_pool2d with dilation or indices")
            return stride, padding, bool(_arg(node, 5, "ceil_mode", False)), None
        if _arg(node, 6, "divisor_override") is not None:
            raise self.unsupported(node, "avg_pool2d with divisor_override")
        return stride, padding, bool(_arg(node, 4, "ceil_mode", False)), bool(_arg(node, 5, "count_include_pad", True))

    def pool(self, node, path, kind, kernel, stride, padding, ceil, count_pad) -> Atom:
        args = {"kernel": _pair(kernel), "stride": _pair(stride or kernel), "padding": _pair(padding), "ceil": ceil}
        if kind == "avgpool":
            args["count_pad"] = count_pad
        return Atom(kind, path, args)

    def adaptive(self, node, path, size) -> Atom:
        if size is None or (not isinstance(size, int) and None in tuple(size)):
            raise self.unsupported(node, "adaptive pool keeping an input size (None)")
        return Atom("adaptive_avgpool", path, {"output": _pair(size)})

    def flatten(self, node, path, start, end) -> Atom:
        if start != 1 or end != -1:
            raise self.unsupported(node, f"flatten({start}, {end}) (only flatten from dim 1 is a layer)")
        return Atom("flatten", path)

    def module_atom(self, node: fx.Node, m: nn.Module) -> Atom:
        path = str(node.target)
        if isinstance(m, nn.Conv2d):
            if _pair(m.dilation) != (1, 1) or m.padding_mode != "zeros":
                raise self.unsupported(node, "Conv2d with dilation or non-zero padding mode")
            padding = m.padding
            if isinstance(padding, str):
                k = _pair(m.kernel_size)
                if padding == "same" and k[0] % 2 and k[1] % 2:
                    padding = ((k[0] - 1) // 2, (k[1] - 1) // 2)
                elif padding == "valid":
                    padding = (0, 0)
                else:
                    raise self.unsupported(node, f"Conv2d with padding '{padding}' and an even kernel")
            args = {
                "out": m.out_channels,
                "kernel": _pair(m.kernel_size),
                "stride": _pair(m.stride),
                "padding": _pair(padding),
                "groups": m.groups,
                "bias": m.bias is not None,
            }
            return Atom("conv", path, args)
        if isinstance(m, nn.BatchNorm2d):
            if not (m.affine and m.track_running_stats):
                raise self.unsupported(node, "BatchNorm2d without affine parameters or running statistics")
            act = "none"
            inner = getattr(m, "act", None)  # timm's BatchNormAct2d: the activation lives inside the norm
            if inner is not None and not isinstance(inner, nn.Identity):
                if type(inner) not in _ACT_MODULES:
                    raise self.unsupported(node, f"{type(m).__name__} with activation {type(inner).__name__}")
                act = _ACT_MODULES[type(inner)]
            drop = getattr(m, "drop", None)
            if drop is not None and not isinstance(drop, nn.Identity):
                raise self.unsupported(node, f"{type(m).__name__} with {type(drop).__name__}")
            return Atom("bn", path, {"eps": float(m.eps), "activation": act})
        if type(m) in _ACT_MODULES:
            return Atom("act", path, {"activation": _ACT_MODULES[type(m)]})
        if type(m) is nn.MaxPool2d:
            if _pair(m.dilation) != (1, 1) or m.return_indices:
                raise self.unsupported(node, "MaxPool2d with dilation or indices")
            return self.pool(node, path, "maxpool", m.kernel_size, m.stride, m.padding, m.ceil_mode, None)
        if type(m) is nn.AvgPool2d:
            if m.divisor_override is not None:
                raise self.unsupported(node, "AvgPool2d with divisor_override")
            return self.pool(
                node, path, "avgpool", m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad
            )
        if type(m) is nn.AdaptiveAvgPool2d:
            return self.adaptive(node, path, m.output_size)
        if type(m) is nn.Dropout:
            return Atom("dropout", path, {"p": float(m.p)})
        if type(m) is nn.Flatten:
            return self.flatten(node, path, m.start_dim, m.end_dim)
        if type(m) is nn.Linear:
            return Atom("linear", path, {"out": m.out_features, "bias": m.bias is not None})
        if type(m) is nn.LocalResponseNorm:
            return Atom("lrn", path, {"size": m.size, "alpha": float(m.alpha), "beta": float(m.beta), "k": float(m.k)})
        raise self.unsupported(node, type(m).__name__)
