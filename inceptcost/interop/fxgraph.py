"""A torch.fx graph -> the spec language's tree: units (conv + norm + activation), pools, concat as `parallel`,
residual adds as `residual`.

The graph is read backwards from the logits. A `torch.cat` becomes a `parallel` whose branches run from the
cat's immediate dominator (the tensor every branch starts from) to each of its inputs, so nested concats
(Inception-v3's 3x1 / 1x3 split) nest. An add of two tensors becomes a `residual` the same way: from the add's
immediate dominator, the body runs to one operand and the shortcut to the other (the identity when that
operand is the dominator itself); `body * s + shortcut` (timm's Inception-ResNet blocks) gives the scale, and
an activation right after the add is the block's. A conv is folded with the batch norm and the activation that
follow it, a linear with its activation; any other batch norm or activation is a standalone layer. Every
other op is an ImportFailed naming it and its module: nothing is dropped. Layer names are the module paths
relative to their top-level row, '.' turned into '_' (so that `names.module_path_candidates` finds the
source's tensors); branch names are ours.
"""

from __future__ import annotations

import numbers
import operator
import re
from dataclasses import dataclass
from typing import Any

import networkx as nx
import torch
from torch import fx, nn

from ..errors import ImportFailed
from ..spec import NAME
from .fxops import Atom, Ops, _arg, _describe, _enclosing

_ADDS = (operator.add, operator.iadd, torch.add)
_MULS = (operator.mul, operator.imul, torch.mul)


@dataclass
class Par:
    """A parallel module: branches (lists of items) concatenated along channels."""

    cat: fx.Node
    branches: list[list[Any]]


@dataclass
class Res:
    """A residual block: activation(scale * body + shortcut); a shortcut of None is the identity."""

    add: fx.Node
    body: list[Any]
    shortcut: list[Any] | None
    scale: float
    activation: str = "none"
    end: fx.Node | None = None  # the add, or the activation folded into the block


def _is(node: fx.Node, functions: tuple, methods: tuple[str, ...]) -> bool:
    return (node.op == "call_function" and node.target in functions) or (
        node.op == "call_method" and node.target in methods
    )


class Reader(Ops):
    def __init__(self, root: nn.Module, graph: fx.Graph, label: str) -> None:
        super().__init__(root, label)
        self.graph = graph
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

    # ---- the residual add ----

    def _scaled(self, node: Any) -> tuple[fx.Node, float] | None:
        """(x, s) for a node computing `x * s` or `s * x` with a constant number s, else None."""
        if not isinstance(node, fx.Node) or not _is(node, _MULS, ("mul", "mul_")) or len(node.args) != 2:
            return None
        a, b = node.args
        if isinstance(a, fx.Node) and isinstance(b, numbers.Real) and not isinstance(b, bool):
            return a, float(b)
        if isinstance(b, fx.Node) and isinstance(a, numbers.Real) and not isinstance(a, bool):
            return b, float(a)
        return None

    def residual(self, add: fx.Node) -> Res:
        """`add` (body + shortcut, either scaled by a constant) as a residual block, down to its dominator."""
        if len(add.args) != 2 or _arg(add, 2, "alpha", 1) != 1:
            raise self.unsupported(add, "add with alpha")
        operands = list(add.args)
        for x in operands:
            if not isinstance(x, fx.Node):
                raise self.fail(
                    add, f"unsupported op 'add' of the constant {x!r}", "a residual add joins two layer outputs"
                )
            if x.op == "get_attr":
                raise self.fail(
                    add,
                    f"unsupported op 'add' of the tensor '{x.target}' (a parameter, not a layer's output)",
                    "a residual add joins two layer outputs",
                )
        fork = self.idom[add]
        scale, body_at = 1.0, None
        for i, x in enumerate(operands):
            found = self._scaled(x)
            if found is None:
                continue
            if body_at is not None:
                raise self.fail(add, "unsupported op 'add' of two scaled tensors", "only the body may be scaled")
            self.seen.add(x)
            operands[i], scale, body_at = found[0], found[1], i
        if scale <= 0:
            raise self.fail(add, f"unsupported op 'add' with a scale of {scale}", "the scale must be positive")
        if operands[0] is fork and operands[1] is fork:
            raise self.fail(add, "unsupported op 'add' of a tensor to itself", "write it as a scale")
        if body_at is None:  # the identity is the shortcut; else the shorter path (torchvision: out += identity)
            if fork in operands:
                body_at = 1 - operands.index(fork)
            else:
                paths = [self._length(x, fork) for x in operands]
                body_at = 1 if paths[1] > paths[0] else 0
        body, side = operands[body_at], operands[1 - body_at]
        if body is fork:
            raise self.fail(add, "unsupported op 'add' that scales the shortcut", "only the body may be scaled")
        shortcut = None if side is fork else self.chain(side, fork)
        return Res(add, self.chain(body, fork), shortcut, scale, end=add)

    def _length(self, value: fx.Node, stop: fx.Node) -> int:
        """The number of ops on the longest path from `stop` to `value` (to pick the body of an add)."""
        memo: dict[fx.Node, int] = {stop: 0}

        def walk(n: fx.Node) -> int:
            if n not in memo:
                memo[n] = 1 + max((walk(i) for i in n.all_input_nodes if i.op != "get_attr"), default=0)
            return memo[n]

        return walk(value)

    # ---- structure ----

    def inputs(self, node: fx.Node) -> list[fx.Node]:
        tensors = [n for n in node.all_input_nodes]
        for n in tensors:
            if n.op == "get_attr":
                raise self.unsupported(node, f"{_describe(node, self.root)} reading the tensor '{n.target}' directly")
        return tensors

    def chain(self, value: fx.Node, stop: fx.Node) -> list[Any]:
        """The items from just after `stop` to `value` (inclusive), in forward order."""
        items: list[Any] = []
        while value is not stop:
            if value in self.seen:
                raise self.fail(
                    value,
                    f"the output of '{_describe(value, self.root)}' feeds two places",
                    "only a concat or a residual add joins paths",
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
            if _is(value, _ADDS, ("add", "add_")):
                res = self.residual(value)
                items.append(res)
                value = self.idom[value]
                continue
            ins = self.inputs(value)
            if len(ins) != 1:
                atom = self.atom(value)  # an op the spec lacks raises its own message
                raise self.unsupported(value, f"{atom.kind} with {len(ins)} tensor inputs")
            atom = self.atom(value)
            atom.end = value
            items.append(atom)
            value = ins[0]
        items.reverse()
        return items


def fold(reader: Reader, items: list[Any]) -> list[Any]:
    """conv [+ bn] [+ act] -> one conv unit; linear [+ act] -> one linear; residual add [+ act] -> one block.
    Any other batch norm or activation stays a layer of its own."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, Par):
            out.append(Par(item.cat, [fold(reader, b) for b in item.branches]))
            continue
        if isinstance(item, Res):
            shortcut = None if item.shortcut is None else fold(reader, item.shortcut)
            out.append(Res(item.add, fold(reader, item.body), shortcut, item.scale, end=item.end))
            continue
        last = out[-1] if out else None
        if isinstance(last, Res) and item.kind == "act" and last.activation == "none":
            last.activation, last.end = item.args["activation"], item.end
            continue
        last = last if isinstance(last, Atom) else None
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
        if item.kind == "bn" and item.args["activation"] != "none":
            raise ImportFailed(
                f"a standalone batch norm with activation {item.args['activation']} inside it",
                file=reader.label,
                where=item.path,
                hint="the spec language has a batch norm inside a conv unit, or a plain one",
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
        elif isinstance(item, Res):  # the add's own module too: xception's `block4`, not `block4.rep`
            found += [f"{_enclosing(item.add)}.{item.add.name}".lstrip(".")]
            found += paths(item.body) + paths(item.shortcut or [])
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
