"""A torch.fx graph -> the spec language's tree: units (conv + norm + activation), pools, concat as `parallel`.

The graph is read backwards from the logits. A `torch.cat` becomes a `parallel` whose branches run from the
cat's immediate dominator (the tensor every branch starts from) to each of its inputs, so nested concats
(Inception-v3's 3x1 / 1x3 split) nest. A conv is folded with the batch norm and the activation that follow
it, a linear with its activation. Every other op is an ImportFailed naming it and its module: nothing is
dropped. Layer names are the module paths relative to their top-level row, '.' turned into '_' (so that
`names.module_path_candidates` finds the source's tensors); branch names are ours.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import torch
import torch.nn.functional as F
from torch import fx, nn

from ..errors import ImportFailed
from ..spec import NAME

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
_ADDS = (operator.add, operator.iadd, torch.add)


@dataclass
class Atom:
    """One op of the source: a spec layer (kind and keys) or a part of a unit (bn, act) to fold."""

    kind: str  # conv | bn | act | maxpool | avgpool | adaptive_avgpool | dropout | flatten | linear | lrn
    path: str  # module path; for functions the enclosing module's path + the fx node's name
    args: dict[str, Any] = field(default_factory=dict)
    end: fx.Node | None = None  # the fx node whose tensor leaves this layer (after folding)


@dataclass
class Par:
    """A parallel module: branches (lists of items) concatenated along channels."""

    cat: fx.Node
    branches: list[list[Any]]


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


def _describe(node: fx.Node) -> str:
    target = node.target
    return getattr(target, "__name__", str(target)) if node.op != "call_module" else type(target).__name__


class Reader:
    def __init__(self, root: nn.Module, graph: fx.Graph, label: str) -> None:
        self.root, self.graph, self.label = root, graph, label
        self.seen: set[fx.Node] = set()
        g = nx.DiGraph()
        for node in graph.nodes:
            g.add_node(node)
            for src in node.all_input_nodes:
                g.add_edge(src, node)
        (self.input,) = [n for n in graph.nodes if n.op == "placeholder"] or [None]
        if self.input is None:
            raise ImportFailed("the traced model has no input", file=label)
        self.idom = nx.immediate_dominators(g, self.input)

    def fail(self, node: fx.Node, message: str, hint: str | None = None) -> ImportFailed:
        return ImportFailed(message, file=self.label, where=_where(node), hint=hint)

    def unsupported(self, node: fx.Node, op: str | None = None) -> ImportFailed:
        op = op or _describe(node)
        return self.fail(
            node,
            f"unsupported op '{op}'",
            "the spec language has conv (+ batch norm, activation), max/avg/adaptive pools, concat, LRN, "
            "dropout, flatten and linear",
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
            if fn in _ADDS:
                raise self.fail(
                    node,
                    "unsupported op 'add' (a residual connection)",
                    "the spec language has no residual form yet; models with concat only are imported",
                )
        if node.op == "call_method":
            if node.target in _ACT_METHODS:
                return Atom("act", path, {"activation": _ACT_METHODS[str(node.target)]})
            if node.target == "flatten":
                return self.flatten(node, path, _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1))
            if node.target in ("add", "add_"):
                raise self.fail(
                    node, "unsupported op 'add' (a residual connection)", "the spec language has no residual form yet"
                )
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

    # ---- structure ----

    def inputs(self, node: fx.Node) -> list[fx.Node]:
        tensors = [n for n in node.all_input_nodes]
        for n in tensors:
            if n.op == "get_attr":
                raise self.unsupported(node, f"{_describe(node)} reading the tensor '{n.target}' directly")
        return tensors

    def chain(self, value: fx.Node, stop: fx.Node) -> list[Any]:
        """The items from just after `stop` to `value` (inclusive), in forward order."""
        items: list[Any] = []
        while value is not stop:
            if value in self.seen:
                raise self.fail(
                    value, f"the output of '{_describe(value)}' feeds two places", "only concat joins paths"
                )
            self.seen.add(value)
            if value.op == "placeholder":
                raise self.fail(value, "a path of the graph skips the module it should run through")
            if value.op == "call_function" and value.target is torch.cat:
                dim = _arg(value, 1, "dim", 0)
                parts = _arg(value, 0, "tensors")
                if dim not in (1, -3) or not isinstance(parts, (list, tuple)):
                    raise self.unsupported(value, f"cat along dim {dim}")
                fork = self.idom[value]
                if any(p is fork for p in parts):
                    raise self.fail(
                        value,
                        "a concat of a module's input as is (an identity branch)",
                        "the spec language has no empty branch",
                    )
                items.append(Par(value, [self.chain(p, fork) for p in parts]))
                value = fork
                continue
            ins = self.inputs(value)
            if len(ins) != 1:
                atom = self.atom(value)  # an add raises its own message
                raise self.unsupported(value, f"{atom.kind} with {len(ins)} tensor inputs")
            atom = self.atom(value)
            atom.end = value
            items.append(atom)
            value = ins[0]
        items.reverse()
        return items


def fold(reader: Reader, items: list[Any]) -> list[Any]:
    """conv [+ bn] [+ act] -> one conv unit; linear [+ act] -> one linear; a lone bn or activation is an error."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, Par):
            out.append(Par(item.cat, [fold(reader, b) for b in item.branches]))
            continue
        last = out[-1] if out and isinstance(out[-1], Atom) else None
        if item.kind == "bn" and last and last.kind == "conv" and "norm" not in last.args:
            last.args.update(norm="bn", eps=item.args["eps"], activation=item.args["activation"])
            last.end = item.end
            continue
        if (
            item.kind == "act"
            and last
            and last.kind in ("conv", "linear")
            and last.args.get("activation", "none") == "none"
        ):
            last.args["activation"] = item.args["activation"]
            last.end = item.end
            continue
        if item.kind in ("bn", "act"):
            after = f" after a {last.kind}" if last else ""
            what = "batch norm" if item.kind == "bn" else f"activation {item.args['activation']}"
            raise ImportFailed(
                f"a standalone {what}{after} is not in the spec language",
                file=reader.label,
                where=item.path,
                hint="only a conv's own norm and activation, or a linear's activation, are layers",
            )
        out.append(item)
    return out


def unit_path(atom: Atom) -> str:
    """A conv unit is named for its wrapper (torchvision's BasicConv2d, timm's ConvNormAct): `x.conv` -> `x`."""
    head, _, last = atom.path.rpartition(".")
    return head if atom.kind == "conv" and last == "conv" and head else atom.path


def paths(items: list[Any]) -> list[str]:
    found = []
    for item in items:
        if isinstance(item, Par):
            for b in item.branches:
                found += paths(b)
        else:
            found.append(unit_path(item))
    return found


def common_path(all_paths: list[str]) -> str:
    split = [p.split(".") for p in all_paths]
    prefix = []
    for parts in zip(*split, strict=False):  # up to the shortest path
        if len(set(parts)) != 1:
            break
        prefix.append(parts[0])
    # a path that is all of one atom's path names that atom, not a container
    return ".".join(prefix[: min(len(s) for s in split) - 1] if len(prefix) == min(len(s) for s in split) else prefix)


def local_name(path: str, base: str) -> str:
    rel = path[len(base) + 1 :] if base and path.startswith(base + ".") else path
    name = rel.replace(".", "_")
    return name if re.match(r"^[A-Za-z_]", name) else f"_{name}"


def valid(name: str) -> bool:
    return bool(NAME.match(name))
