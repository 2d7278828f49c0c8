"""Spec -> YAML text in the spec language (what `inceptcost fit --out` writes).

Each layer is written in the shortest form that reads back to the very same node: Table 1's row form for
inception modules and the `reduce:` / `multiplier:` conv sugar where they round-trip, the general form
(`sequence`, `parallel`) otherwise. Keys equal to what the reader would fill in are left out. The whole text
is read back and compared with the spec before it is returned, so a written spec always means what it says.
"""

from __future__ import annotations

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


__all__ = ["spec_to_data", "spec_to_yaml"]
