"""An imported spec (the mapping `fximport.to_spec` builds) as YAML text in the style of the shipped specs:
one flow mapping per layer, `parallel` modules and `residual` blocks in block form, the commonest conv
settings as `defaults`."""

from __future__ import annotations

from collections import Counter
from typing import Any


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
    import yaml

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
