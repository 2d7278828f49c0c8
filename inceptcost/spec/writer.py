"""The one spec writer: YAML text in the spec language, from a Spec (what `fit --out` and `sweep` write) or from
a torch model's import (what `inceptcost import` writes).

From a Spec (spec_to_yaml):
Each layer is written in the shortest form that reads back to the very same node: Table 1's row form for
inception modules and the `reduce:` / `multiplier:` conv sugar where they round-trip, the general form
(`sequence`, `parallel`) otherwise. Keys equal to what the reader would fill in are left out. The whole text
is read back and compared with the spec before it is returned, so a written spec always means what it says.

From an import (spec_text), in the style of the shipped specs: one flow mapping per layer, `parallel` modules
and `residual` blocks in block form, the commonest conv settings as `defaults`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import yaml

from .. import kinds
from ..errors import InceptcostError, SpecError, encodable
from ..text import dims_text, shape_text
from .load import DEFAULTS, Node, Spec, parse_spec
from .reader import Reader
from .yamlsafe import LineMap, _Loader

_CONV_FILLED = ("bias", "norm", "activation", "eps")


def _value(v: Any) -> Any:
    if isinstance(v, tuple):
        return dims_text(v)
    return v


def _op_args(node: Node, defaults: dict[str, Any]) -> dict[str, Any]:
    kind = kinds.KINDS[node.kind]
    out: dict[str, Any] = {}
    for key, value in node.args.items():
        if key not in kind.keys:
            continue
        parse, default = kind.keys[key]
        filled = _CONV_FILLED if node.kind == "conv" else ("bias",) if node.kind == "linear" else ()
        if key in filled and value == defaults.get(key):  # the reader fills these from the spec's defaults
            continue
        if key in kinds.LRN_DEFAULTS and node.kind == "conv" and value == kinds.LRN_DEFAULTS[key][1]:
            continue
        if key == "stride" and kind.is_pool and value == node.args.get("kernel"):
            continue
        if default is not kinds.REQUIRED and default is not None and value == default:
            continue
        if key == "out" and value is None:
            continue
        out[key] = _value(value)
    return out


def _general(node: Node, defaults: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": node.name}
    if node.kind == "sequence":
        raw["type"] = "sequence"
        raw["layers"] = [_layer(c, defaults) for c in node.children]
    elif node.kind == "parallel":
        raw["type"] = "parallel"
        raw["branches"] = {b.name: [_layer(c, defaults) for c in b.children] for b in node.children}
    elif node.kind == "residual":
        raw["type"] = "residual"
        raw["body"] = [_layer(c, defaults) for c in node.children]
        if node.shortcut is not None:
            raw["shortcut"] = [_layer(c, defaults) for c in node.shortcut.children]
        raw.update({k: v for k, v in node.args.items() if v != {"scale": 1.0, "activation": "none"}[k]})
    else:
        raw["type"] = node.kind
        raw.update(_op_args(node, defaults))
    if node.label:
        raw["label"] = node.label
    return raw


def _inception_form(node: Node, defaults: dict[str, Any]) -> dict[str, Any] | None:
    if node.kind != "parallel" or not node.columns:
        return None
    convs = [c for b in node.children for c in _ops(b) if c.kind == "conv"]
    pools = [c for b in node.children for c in _ops(b) if c.kind in ("maxpool", "avgpool")]
    if not convs:
        return None
    raw: dict[str, Any] = {"name": node.name, "type": "inception", **dict(node.columns)}
    if "poolproj" not in node.columns:  # Figure 2(a)'s naive module has no reductions
        raw["naive"] = True
    first = convs[0].args
    for key in _CONV_FILLED:
        if first.get(key) != defaults.get(key):
            raw[key] = first.get(key)
    if pools and pools[0].kind == "avgpool":
        raw["pool"] = "avg"
    for b in node.children:
        conv = [c for c in _ops(b) if c.kind == "conv"]
        if b.name in ("b3x3", "b5x5") and conv and conv[-1].args["kernel"] != (int(b.name[1]),) * 2:
            raw[f"kernel_{b.name[1:]}"] = _value(conv[-1].args["kernel"])
    if node.label and node.label != f"inception ({node.name.split('_')[-1]})":  # the reader's default
        raw["label"] = node.label
    return raw


def _conv_sugar(node: Node, defaults: dict[str, Any]) -> dict[str, Any] | None:
    if node.kind != "sequence" or len(node.children) != 2 or any(c.kind != "conv" for c in node.children):
        return None
    a, b = node.children
    if (a.name, b.name) == ("reduce", "conv"):
        raw = {"name": node.name, "type": "conv", "reduce": a.args["out"], **_op_args(b, defaults)}
    elif (a.name, b.name) == ("depthwise", "pointwise") and a.args.get("multiplier"):
        args = {**a.args, **{k: b.args[k] for k in ("out", "activation", "norm")}}
        raw = {"name": node.name, "type": "conv", "multiplier": a.args["multiplier"]}
        raw.update(_op_args(replace(a, args=args), defaults))
        if (a.args["norm"], a.args["activation"]) != ("none", "none"):
            raw["between"] = True
    else:
        return None
    if node.label and node.label != "convolution":
        raw["label"] = node.label
    return raw


def _ops(node: Node) -> list[Node]:
    return [n for c in node.children for n in _ops(c)] if node.children else [node]


def _strip(node: Node, display: bool = True) -> Node:
    """The node without its YAML lines and paper values (and without display-only fields unless `display`)."""
    extra = {} if display else {"label": None, "columns": None}
    shortcut = _strip(node.shortcut, display) if node.shortcut is not None else None
    children = tuple(_strip(c, display) for c in node.children)
    return replace(node, line=None, paper=None, children=children, shortcut=shortcut, **extra)


def _to_linemap(value: Any) -> Any:
    if isinstance(value, dict):
        m = LineMap({k: _to_linemap(v) for k, v in value.items()})
        return m
    if isinstance(value, list):
        return [_to_linemap(v) for v in value]
    return value


def _reads_back(raw: dict[str, Any], node: Node, defaults: dict[str, Any]) -> bool:
    try:
        parsed = Reader("<dump>", defaults).node(_to_linemap(raw), None, node.name, "")
    except SpecError:
        return False
    return _strip(parsed) == _strip(node)


def _layer(node: Node, defaults: dict[str, Any]) -> dict[str, Any]:
    for form in (_inception_form, _conv_sugar):
        raw = form(node, defaults)
        if raw is not None and _reads_back(raw, node, defaults):
            return raw
    return _general(node, defaults)


def spec_to_data(spec: Spec) -> dict[str, Any]:
    defaults = {**DEFAULTS, **spec.defaults}
    data: dict[str, Any] = {"name": spec.name}
    for key in ("title", "reference", "notes"):
        if getattr(spec, key):
            data[key] = getattr(spec, key)
    data["input"] = shape_text(spec.input)
    data["classes"] = spec.classes
    if spec.budget_macs is not None:
        data["budget"] = {"macs": int(spec.budget_macs) if float(spec.budget_macs).is_integer() else spec.budget_macs}
    data["defaults"] = {k: defaults[k] for k in DEFAULTS}
    data["layers"] = [_layer(c, defaults) for c in spec.body.children]
    if spec.aux:
        data["aux"] = [
            {"name": h.name, "at": h.at, "weight": h.weight, "layers": [_layer(c, defaults) for c in h.body.children]}
            for h in spec.aux
        ]
    return data


def spec_to_yaml(spec: Spec, header: str = "") -> str:
    """The spec as YAML; read back and checked equal (layer tree, input, classes, aux) before returning."""
    data = spec_to_data(spec)
    body = yaml.dump(
        data, Dumper=yaml.SafeDumper, sort_keys=False, default_flow_style=None, width=200, allow_unicode=True
    )
    header = encodable(header)  # a file name's undecodable bytes (caf\\xe9.yaml) as escapes: YAML is UTF-8
    text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + body
    back = parse_spec(yaml.load(text, Loader=_Loader), spec.file)
    same = (
        _strip(back.body, False) == _strip(spec.body, False)
        and back.input == spec.input
        and back.classes == spec.classes
        and [(h.name, h.at, h.weight, _strip(h.body, False)) for h in back.aux]
        == [(h.name, h.at, h.weight, _strip(h.body, False)) for h in spec.aux]
    )
    if not same:
        raise InceptcostError("the written spec does not read back the same", file=spec.file, hint="please report")
    return text


# An imported spec as text.


def defaults_of(spec: dict[str, Any]) -> dict[str, Any]:
    """The commonest conv settings become the spec's defaults, so that each row says only what differs."""
    convs: list[dict] = []

    def walk(layers):
        for layer in layers:
            if layer["type"] == "conv":
                convs.append(layer)
            for branch in layer.get("branches", {}).values():
                walk(branch)
            walk(layer.get("body") or [])
            walk(layer.get("shortcut") or [])

    walk(spec["layers"])
    for head in spec["aux"]:
        walk(head["layers"])
    if not convs:
        return {}
    found = {k: Counter(c.get(k) for c in convs).most_common(1)[0][0] for k in ("activation", "bias", "norm")}
    eps = Counter(c["eps"] for c in convs if "eps" in c).most_common(1)
    if eps:
        found["eps"] = eps[0][0]
    return found


_ORDER = ("name", "type", "out", "kernel", "stride", "padding", "groups", "bias", "norm", "eps", "activation")
_OMIT = {"groups": 1, "ceil": False, "count_pad": True}


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        v = v[0] if v[0] == v[1] else f"{v[0]}x{v[1]}"
    if isinstance(v, (int, float)):
        return repr(v)
    text = str(v)
    return text if yaml.safe_load(text) == text else f'"{text}"'  # "0x3" would read as a hex number


def _flow(layer: dict[str, Any], defaults: dict[str, Any]) -> str:
    keep = {}
    for key in sorted(layer, key=lambda k: _ORDER.index(k) if k in _ORDER else len(_ORDER)):
        value = layer[key]
        if _OMIT.get(key, object()) == value:
            continue
        if layer["type"] == "conv":
            if key in ("bias", "norm", "activation", "eps") and defaults.get(key) == value:
                continue
            if key == "eps" and layer.get("norm") != "bn":
                continue
            if key == "stride" and value == (1, 1):
                continue
        if layer["type"] in ("maxpool", "avgpool") and (
            (key == "stride" and value == layer["kernel"]) or (key == "padding" and value == (0, 0))
        ):
            continue
        if layer["type"] == "linear" and key == "activation" and value == "none":
            continue
        keep[key] = _scalar(value)
    return "{" + ", ".join(f"{k}: {v}" for k, v in keep.items()) + "}"


def _emit(layers: list[dict[str, Any]], indent: int, defaults: dict[str, Any]) -> list[str]:
    pad = " " * indent
    lines = []
    for layer in layers:
        if layer["type"] == "residual":
            lines += [f"{pad}- name: {_scalar(layer['name'])}", f"{pad}  type: residual"]
            if layer["scale"] != 1:
                lines.append(f"{pad}  scale: {_scalar(layer['scale'])}")
            if layer["activation"] != "none":
                lines.append(f"{pad}  activation: {layer['activation']}")
            lines += [f"{pad}  body:", *_emit(layer["body"], indent + 4, defaults)]
            if layer["shortcut"] is not None:
                lines += [f"{pad}  shortcut:", *_emit(layer["shortcut"], indent + 4, defaults)]
            continue
        if layer["type"] != "parallel":
            lines.append(f"{pad}- {_flow(layer, defaults)}")
            continue
        lines += [f"{pad}- name: {_scalar(layer['name'])}", f"{pad}  type: parallel", f"{pad}  branches:"]
        for name, branch in layer["branches"].items():
            lines.append(f"{pad}    {_scalar(name)}:")
            lines += _emit(branch, indent + 6, defaults)
    return lines


def _classifier_takes_classes(layers: list[dict[str, Any]], classes: int) -> list[dict[str, Any]]:
    """The last linear layer without `out` (it takes `classes`), so that one edit of `classes` retargets it."""
    last = layers[-1]
    if last["type"] != "linear" or last.get("out") != classes:
        return layers
    return [*layers[:-1], {k: v for k, v in last.items() if k != "out"}]


def spec_text(spec: dict[str, Any], factory: str) -> str:
    """An imported spec (the mapping `interop/tospec.to_spec` builds) as YAML text: its importer reads the
    text back with load_spec and checks its params and logits against the source."""
    classes = spec["classes"]
    spec = {
        **spec,
        "layers": _classifier_takes_classes(spec["layers"], classes),
        "aux": [{**h, "layers": _classifier_takes_classes(h["layers"], classes)} for h in spec["aux"]],
    }
    defaults = defaults_of(spec)
    lines = [
        f"# Imported from {factory} by `inceptcost import` (torch.fx trace, weights not downloaded).",
        "# Layer names are the source's module paths ('.' -> '_') relative to their row; branch names are ours.",
        f"name: {_scalar(spec['name'])}",
        f"reference: {_scalar(factory)}",
        f"input: {spec['input']}",
        f"classes: {spec['classes']}",
    ]
    if defaults:
        lines.append("defaults: {" + ", ".join(f"{k}: {_scalar(v)}" for k, v in defaults.items()) + "}")
    lines += ["", "layers:", *_emit(spec["layers"], 2, defaults)]
    if spec["aux"]:
        lines += ["", "aux:"]
        for head in spec["aux"]:
            lines += [
                f"  - name: {_scalar(head['name'])}",
                f"    at: {_scalar(head['at'])}",
                f"    weight: {head['weight']}",
                "    layers:",
                *_emit(head["layers"], 6, defaults),
            ]
    return "\n".join(lines) + "\n"


__all__ = ["defaults_of", "spec_text", "spec_to_data", "spec_to_yaml"]
