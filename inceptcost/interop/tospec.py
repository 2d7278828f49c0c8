"""A torch model traced with torch.fx -> the spec's mapping (rows, layers, aux heads) in the general form.

Batch norms are leaf modules; the model is traced in training mode so that aux classifiers run and become
`aux` heads (see fximport.py); the traced graph is folded into parallel and residual units by fxgraph.py."""

from __future__ import annotations

import warnings
from typing import Any

from torch import fx, nn

from ..errors import ImportFailed
from .fxgraph import Par, Reader, Res, common_path, fold, local_name, paths, unit_path, valid
from .fxops import Atom

AUX_WEIGHT = 0.3  # the paper's; a spec's aux weight is a training choice, not part of the model


class _Tracer(fx.Tracer):
    """Batch norms stay whole; the module being traced when tracing fails is remembered for the message."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.failed: str | None = None

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, nn.BatchNorm2d) or super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        self.stack.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception:
            self.failed = self.failed or self.stack[-1]
            raise
        finally:
            self.stack.pop()


def trace(model: nn.Module, label: str) -> fx.Graph:
    tracer = _Tracer()
    model.train()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tracer.trace(model)
    except Exception as exc:
        where = tracer.failed or "the model's own forward"
        m = model.get_submodule(tracer.failed) if tracer.failed else model
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ImportFailed(
            f"torch.fx cannot trace module '{where}' ({type(m).__name__}): {first}",
            file=label,
            hint="symbolic tracing needs forward code without Python branches on tensor values",
        ) from None


def _outputs(reader: Reader) -> list[fx.Node]:
    (out,) = [n for n in reader.graph.nodes if n.op == "output"]
    value = out.args[0]
    if isinstance(value, fx.Node) and value.op == "call_function" and isinstance(value.target, type):
        value = [*value.args, *value.kwargs.values()]  # a namedtuple of outputs (GoogLeNetOutputs)
    if isinstance(value, fx.Node):
        return [value]
    found = [v for v in value if isinstance(v, fx.Node)] if isinstance(value, (list, tuple)) else []
    if not found:
        raise ImportFailed("the model returns no tensor", file=reader.label)
    return found


# ---- items -> the spec's layer mappings ----


def _layer(atom: Atom, name: str) -> dict[str, Any]:
    if atom.kind == "act":  # a standalone activation: `{type: relu}`
        return {"name": name, "type": atom.args["activation"]}
    if atom.kind == "bn":  # a standalone batch norm (its activation, if any, refused by fold)
        return {"name": name, "type": "bn", "eps": atom.args["eps"]}
    layer = {"name": name, "type": atom.kind, **atom.args}
    if atom.kind == "conv":
        layer.setdefault("norm", "none")
        layer.setdefault("activation", "none")
    if atom.kind == "linear":
        layer.setdefault("activation", "none")
    return layer


def _branch_name(items: list[dict[str, Any]], fallback: str, taken: set[str]) -> str:
    """A branch (or nested parallel) is named for what its layers share: `branch5x5_1`, `branch5x5_2` ->
    `branch5x5`; else for its last conv; else `fallback`."""
    names = [it["name"] for it in items]
    if len(names) == 1:
        candidate = names[0]
    else:
        prefix = names[0]
        for n in names[1:]:
            while not n.startswith(prefix):
                prefix = prefix[:-1]
        candidate = prefix.rstrip("_")
        if not valid(candidate) or len(candidate) < 2:
            convs = [it["name"] for it in items if it["type"] == "conv"]
            candidate = convs[-1] if convs else ""
    return candidate if valid(candidate) and candidate not in taken else fallback


def _unique(name: str, taken: set[str]) -> str:
    """A layer name not yet used in its list (a module called twice, such as a shared ReLU, gets _2, _3)."""
    found, i = name, 1
    while found in taken:
        i += 1
        found = f"{name}_{i}"
    return found


def _layers(items: list[Any], base: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for j, item in enumerate(items):
        taken = {o["name"] for o in out}
        if isinstance(item, Atom):
            out.append(_layer(item, _unique(local_name(unit_path(item), base), taken)))
            continue
        if isinstance(item, Res):
            block = common_path(paths([item]))
            name = local_name(block, base) if block and block != base else f"residual{j + 1}"
            layer = {"name": _unique(name, taken), "type": "residual", "scale": item.scale}
            layer.update(activation=item.activation, body=_layers(item.body, base))
            layer["shortcut"] = None if item.shortcut is None else _layers(item.shortcut, base)
            out.append(layer)
            continue
        branches: dict[str, list] = {}
        for i, branch in enumerate(item.branches, 1):
            layers = _layers(branch, base)
            branches[_branch_name(layers, f"branch{i}", set(branches))] = layers
        name = _branch_name([{"name": n, "type": ""} for n in branches], f"parallel{j + 1}", taken)
        out.append({"name": name, "type": "parallel", "branches": branches})
    return out


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(items, 1):
        if isinstance(item, Atom):
            rows.append(_layer(item, local_name(unit_path(item), "")))
            continue
        base = common_path(paths([item]))
        (layer,) = _layers([item], base)
        layer["name"] = local_name(base, "") if base else f"{'concat' if isinstance(item, Par) else 'residual'}{i}"
        rows.append(layer)
    return rows


def to_spec(model: nn.Module, label: str, input_chw: tuple[int, int, int]) -> dict[str, Any]:
    """The spec (as the mapping its YAML holds) of a traced model."""
    graph = trace(model, label)
    reader = Reader(model, graph, label)
    logits, *aux_outs = _outputs(reader)
    items = fold(reader, reader.chain(logits, reader.input))
    rows = _rows(items)
    main = set(reader.seen) | {reader.input}
    row_end = {
        (item.cat if isinstance(item, Par) else item.end): row["name"] for item, row in zip(items, rows, strict=True)
    }
    heads = []
    for value in aux_outs:
        tap = value
        while tap not in main:
            ins = reader.inputs(tap)
            if len(ins) != 1:
                raise reader.unsupported(tap, "an aux head that joins two tensors")
            tap = ins[0]
        if tap not in row_end:
            raise reader.fail(value, "an aux head taps a tensor inside a row", "aux heads may tap row outputs only")
        head_items = fold(reader, reader.chain(value, tap))
        base = common_path(paths(head_items)) if len(head_items) > 1 else ""
        name = local_name(base, "") if base else f"aux{len(heads) + 1}"
        heads.append({"name": name, "at": row_end[tap], "weight": AUX_WEIGHT, "layers": _layers(head_items, base)})
    leftover = [
        n for n in graph.nodes if n.op in ("call_module", "call_function", "call_method") and n not in reader.seen
    ]
    leftover = [n for n in leftover if not (n.op == "call_function" and isinstance(n.target, type))]
    if leftover:
        raise reader.fail(leftover[0], f"op '{leftover[0].name}' is on no path from the input to an output")
    classes = rows[-1].get("out") if rows[-1]["type"] == "linear" else None
    if classes is None:
        raise ImportFailed("the model does not end in a linear classifier", file=label)
    heads.sort(key=lambda h: [r["name"] for r in rows].index(h["at"]))
    c, h, w = input_chw
    return {"name": label, "input": f"{h}x{w}x{c}", "classes": classes, "layers": rows, "aux": heads}


# ---- the whole import, checked ----
