"""The spec language: YAML in, a typed tree of layers out (validated, sugar expanded, line numbers kept).

Four structural kinds exist beside the layer kinds of `kinds.KINDS`:
- `sequence`: layers one after another (`layers: [...]`);
- `parallel`: named branches fed the same input, concatenated along channels (`branches: {name: [...]}`);
- `inception`: Table 1's row form (`1x1`, `3x3reduce`, `3x3`, `5x5reduce`, `5x5`, `poolproj`), sugar that
  expands into a `parallel` node with branches b1x1, b3x3 (reduce, conv), b5x5 (reduce, conv), bpool (pool,
  proj). BN-Inception's table (Ioffe & Szegedy 2015, Figure 5) is accepted too: `double3x3reduce` and
  `double3x3` (branch bdouble3x3: reduce, conv1, conv2) in place of the 5x5 pair, its `Pool +proj` cells
  (`avg + 32`, `max + pass through`: a pool branch without projection) and `stride: 2` for its grid-reduction
  modules (the last conv of every branch and the pool are strided). A conv with `reduce: N` expands into a
  sequence (reduce, conv), and one with `multiplier: M` into a depthwise-separable pair (depthwise, pointwise);
  `separable` is that pair with multiplier 1, as Xception writes it.
- `residual`: a body (a layer list, or one layer such as a `parallel` module) added to a shortcut (the
  identity, or a projection written as layers), the body scaled by `scale`, then an optional `activation`
  (Inception-ResNet, Xception). The body's layers are named under the block, the projection's under
  `<block>.shortcut`, and the add is `<block>.add`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import kinds
from ..errors import BadValue, SpecError, did_you_mean
from ..quantities import parse_count, parse_dims
from .claims import read_claims
from .reader import Reader, check_text
from .rows import DOUBLE_COLUMNS, ROW_COLUMNS, TABLE_COLUMNS, normalize_column, parse_pool_cell
from .shipped import find_spec
from .tree import NAME, AuxHead, Node, Paper, Spec
from .yamlsafe import LineMap, load_yaml

__all__ = [
    "DOUBLE_COLUMNS",
    "NAME",
    "ROW_COLUMNS",
    "TABLE_COLUMNS",
    "AuxHead",
    "Node",
    "Paper",
    "Spec",
    "load_spec",
    "normalize_column",
    "parse_pool_cell",
    "parse_spec",
]

DEFAULTS = {"activation": "relu", "bias": True, "norm": "none", "eps": 1e-5}
_DEFAULT_KEYS = {
    "activation": kinds.choice(*kinds.ACTIVATIONS),
    "bias": kinds.boolean,
    "norm": kinds.choice(*kinds.NORMS),
    "eps": kinds.pos_float,
}
_TOP_KEYS = ("name", "title", "reference", "notes", "input", "classes", "budget", "defaults", "layers", "aux", "claims")


def _top_level(data: Any, file: str) -> tuple[LineMap, Reader]:
    if not isinstance(data, LineMap):
        got = type(data).__name__
        raise SpecError(
            f"a spec must be a mapping at the top, got {got}",
            file=file,
            line=1,
            hint="start with keys like 'name:', 'input:', 'layers:'",
        )
    reader = Reader(file, dict(DEFAULTS))
    reader.check_keys(data, _TOP_KEYS, "spec")
    for key in ("input", "layers"):
        if key not in data:
            raise reader.error(
                f"missing '{key}'",
                data.line,
                "spec",
                "e.g. input: 224x224x3" if key == "input" else "list the layers under 'layers:'",
            )
    if "defaults" in data:
        d = reader.mapping(data["defaults"], data.line_of("defaults"), "defaults", "'defaults'")
        reader.check_keys(d, tuple(_DEFAULT_KEYS), "defaults")
        for key, parse in _DEFAULT_KEYS.items():
            if key in d:
                reader.defaults[key] = reader.value(d, key, parse, "defaults")
    return data, reader


def parse_spec(data: Any, file: str = "<spec>") -> Spec:
    """Validate a parsed YAML document and expand it into a Spec."""
    data, reader = _top_level(data, file)
    try:
        h, w, c = parse_dims(data["input"], 3)
        for d in (h, w, c):
            kinds.pos_int(d)
    except BadValue:
        raise reader.error(
            f"'input' must be HxWxC, got {data['input']!r}",
            data.line_of("input"),
            "spec",
            "e.g. input: 224x224x3 (height x width x channels, each at least 1)",
        ) from None
    classes = reader.value(data, "classes", kinds.pos_int, "spec") if "classes" in data else 1000
    budget = None
    if "budget" in data:
        b = reader.mapping(data["budget"], data.line_of("budget"), "budget", "'budget'")
        reader.check_keys(b, ("macs",), "budget")
        if "macs" in b:
            budget = reader.value(b, "macs", parse_count, "budget")
            if budget <= 0:
                raise reader.error("'macs' must be positive", b.line_of("macs"), "budget", "e.g. macs: 1.5G")
    name = data.get("name", Path(file).stem)
    if not isinstance(name, str) or not name:
        raise reader.error("'name' must be text", data.line_of("name"), "spec", "quote it")
    for key in ("name", "title", "reference", "notes"):
        if key in data and not isinstance(data[key], str):
            raise reader.error(f"'{key}' must be text", data.line_of(key), "spec", "quote it")
        if key in data:
            check_text(reader, data[key], data.line_of(key), f"'{key}'", "spec", one_line=key in ("name", "title"))
    rows = reader.sequence(data["layers"], data.line_of("layers"), "")
    for row in rows:
        if row.name == "input":  # the IR's input node has that name
            raise reader.error("the name 'input' is reserved for the network's input", row.line, "input", "rename it")
    body = Node("body", "sequence", children=rows, line=data.line_of("layers"))
    aux = _aux_heads(reader, data, {r.name for r in rows})
    claims = read_claims(reader, data, {r.name for r in rows})
    return Spec(
        name=name,
        file=file,
        input=(c, h, w),
        classes=classes,
        body=body,
        aux=aux,
        budget_macs=budget,
        defaults=dict(reader.defaults),
        title=data.get("title"),
        reference=data.get("reference"),
        notes=data.get("notes"),
        claims=claims,
    )


def _aux_heads(reader: Reader, data: LineMap, rows: set[str]) -> tuple[AuxHead, ...]:
    if "aux" not in data:
        return ()
    raw = data["aux"]
    if not isinstance(raw, list):
        raise reader.error(
            "'aux' must be a list of heads",
            data.line_of("aux"),
            "aux",
            "e.g. aux: [{name: aux1, at: inception_4a, layers: [...]}]",
        )
    heads = []
    names = set(rows)
    for i, item in enumerate(raw, 1):
        m = reader.mapping(item, getattr(item, "line", data.line_of("aux")), f"aux{i}", "an aux head")
        name = m.get("name", f"aux{i}")
        where = f"aux {name}"
        reader.check_keys(m, ("name", "at", "weight", "layers"), where)
        if not isinstance(name, str) or not NAME.match(name):
            raise reader.error(f"bad aux head name {name!r}", m.line_of("name"), where, "use letters, digits, '_'")
        if name in names:
            raise reader.error(f"name '{name}' is already used", m.line_of("name"), where, "give the head its own name")
        names.add(name)
        if "at" not in m:
            raise reader.error("missing 'at'", m.line, where, "name the layer whose output feeds the head")
        at = m["at"]
        if not isinstance(at, str) or at not in rows:
            raise reader.error(f"'at' names no layer: '{at}'", m.line_of("at"), where, did_you_mean(str(at), rows))
        weight = reader.value(m, "weight", kinds.pos_float, where) if "weight" in m else 0.3
        body = Node(
            name, "sequence", children=reader.sequence(m.get("layers"), m.line_of("layers"), f"{name}."), line=m.line
        )
        heads.append(AuxHead(name=name, at=at, weight=weight, body=body, line=m.line))
    return tuple(heads)


def load_spec(path: str | Path) -> Spec:
    """Read, validate and expand a YAML spec: a file, or a shipped spec's name (`googlenet`).
    Raises SpecError with file:line on bad input."""
    try:
        data, shown = load_yaml(find_spec(path))
    except SpecError as exc:
        if exc.message == "no such file":
            exc.hint = "check the path, or name a shipped spec (`inceptcost specs` lists them)"
        raise
    return parse_spec(data, shown)
