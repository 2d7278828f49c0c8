"""Reads the layers of one spec file: YAML mappings -> `Node`s, validated, with the sugar expanded (a conv's
`reduce` and `multiplier`, `separable`, residual blocks; Table 1's rows in rows.py)."""

from __future__ import annotations

from typing import Any

from .. import kinds
from ..errors import BadValue, SpecError, did_you_mean
from ..quantities import parse_count, parse_dims, parse_patch
from .rows import inception_node
from .tree import COMMON_KEYS, NAME, Node, Paper
from .yamlsafe import LineList, LineMap

STRUCTURAL = ("sequence", "parallel", "inception", "residual")
RESIDUAL_KEYS = ("body", "shortcut", "scale", "activation")
RESERVED_IN_RESIDUAL = ("shortcut", "add")  # the names of its projection and its add


def _patch(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    kernel, stride = parse_patch(value)
    return kinds.dims2(kernel), kinds.dims2(stride)  # range checks: a 0 stride or kernel is refused here


class Reader:
    """Walks the YAML tree of one file, raising SpecErrors that name the file, line and layer."""

    def __init__(self, file: str, defaults: dict[str, Any]) -> None:
        self.file = file
        self.defaults = defaults

    def error(self, message: str, line: int | None, where: str | None = None, hint: str | None = None) -> SpecError:
        return SpecError(message, file=self.file, line=line, where=where, hint=hint)

    def mapping(self, value: Any, line: int | None, where: str, what: str) -> LineMap:
        if not isinstance(value, LineMap):
            got = {LineList: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
                type(value), "nothing" if value is None else type(value).__name__
            )
            raise self.error(
                f"{what} must be a mapping (key: value), got {got}", line, where, "write it as {key: value, ...}"
            )
        return value

    def check_keys(self, m: LineMap, allowed: tuple[str, ...] | list[str], where: str) -> None:
        for key in m:
            if key not in allowed:
                raise self.error(f"unknown key '{key}'", m.line_of(key), where, did_you_mean(str(key), allowed))

    def value(self, m: LineMap, key: str, parse, where: str, hint: str | None = None) -> Any:
        try:
            return parse(m[key])
        except BadValue as exc:
            raise self.error(f"'{key}': {exc}", m.line_of(key), where, hint) from None

    # ---- layers ----

    def node(self, raw: Any, line: int | None, default_name: str, prefix: str) -> Node:
        m = self.mapping(raw, line, f"{prefix}{default_name}", "a layer")
        name = m.get("name", default_name)
        where = f"{prefix}{name}"
        if not isinstance(name, str) or not NAME.match(name):
            raise self.error(
                f"bad layer name {name!r}",
                m.line_of("name"),
                where,
                "use letters, digits, '_' or '-', starting with a letter (no dots: they join names)",
            )
        if "type" not in m:
            raise self.error("missing 'type'", m.line, where, self._kind_hint())
        kind = m["type"]
        if not isinstance(kind, str):
            raise self.error(f"'type' must be a word, got {kind!r}", m.line_of("type"), where, self._kind_hint())
        kind = kind.lower()
        paper = self.paper(m, where) if "paper" in m else None
        label = m.get("label")
        if label is not None and not isinstance(label, str):
            raise self.error("'label' must be text", m.line_of("label"), where, "quote it")
        if label is not None:
            check_text(self, label, m.line_of("label"), "'label'", where, one_line=True)
        if kind == "sequence":
            self.check_keys(m, (*COMMON_KEYS, "layers"), where)
            children = self.sequence(m.get("layers"), m.line_of("layers"), f"{where}.")
            return Node(name, "sequence", children=children, line=m.line, paper=paper, label=label)
        if kind in ("parallel", "module"):
            self.check_keys(m, (*COMMON_KEYS, "branches"), where)
            return Node(name, "parallel", children=self.branches(m, where), line=m.line, paper=paper, label=label)
        if kind == "inception":
            return inception_node(self, m, name, where, paper, label)
        if kind == "residual":
            return self.residual(m, name, where, paper, label)
        if kind == "separable":
            return self.conv(m, name, where, paper, label, separable=True)
        if kind in kinds.KIND_ALIASES:
            kind, fixed = kinds.KIND_ALIASES[kind]
        else:
            fixed = {}
        if kind not in kinds.KINDS:
            raise self.error(f"unknown layer type '{m['type']}'", m.line_of("type"), where, self._kind_hint(kind))
        if kind == "conv":
            return self.conv(m, name, where, paper, label)
        spec = kinds.KINDS[kind]
        keys = [k for k in spec.keys if k not in fixed]  # `{type: relu, activation: gelu}` is refused
        self.check_keys(m, (*COMMON_KEYS, *keys, *(("patch",) if "kernel" in keys else ())), where)
        args = self.args(m, kind, where, fixed)
        return Node(name, kind, args=args, line=m.line, paper=paper, label=label)

    def _kind_hint(self, kind: str | None = None) -> str:
        names = [*kinds.KINDS, *kinds.KIND_ALIASES, *STRUCTURAL, "module", "separable"]
        return did_you_mean(kind, names) if kind else f"one of: {', '.join(names)}"

    def args(self, m: LineMap, kind: str, where: str, fixed: dict | None = None) -> dict[str, Any]:
        spec = kinds.KINDS[kind]
        args: dict[str, Any] = dict(fixed or {})
        if "patch" in m:
            if "kernel" in m or "stride" in m:
                raise self.error(
                    "both 'patch' and 'kernel'/'stride'",
                    m.line_of("patch"),
                    where,
                    "give either patch: 7x7/2 or kernel/stride",
                )
            args["kernel"], args["stride"] = self.value(m, "patch", _patch, where)
        for key, (parse, default) in spec.keys.items():
            if key in args:
                continue
            if key in m:
                args[key] = self.value(m, key, parse, where)
            elif default is kinds.REQUIRED:
                raise self.error(f"missing '{key}'", m.line, where, f"a {kind} layer needs '{key}'")
            else:
                args[key] = default
        if "stride" in args and args["stride"] is None:  # pools: stride defaults to the window, as in torch
            args["stride"] = args["kernel"]
        if "padding" in args:
            try:
                args["padding"] = kinds.resolve_padding(args["padding"], args["kernel"])
            except BadValue as exc:
                raise self.error(str(exc), m.line_of("padding") if "padding" in m else m.line, where) from None
        for key in ("bias", "activation", "norm", "eps", "size", "alpha", "beta", "k"):
            if key in args and args[key] is None:
                args[key] = self.defaults[key] if key in self.defaults else kinds.LRN_DEFAULTS[key][1]
        if kind == "linear" and args["bias"] is None:
            args["bias"] = self.defaults["bias"]
        return args

    def conv(
        self, m: LineMap, name: str, where: str, paper: Paper | None, label: str | None, separable: bool = False
    ) -> Node:
        """A conv; `reduce` puts a 1x1 in front, `multiplier` (or `type: separable`) makes it a depthwise conv
        and a 1x1 pointwise conv, with the layer's norm and activation after the pointwise only, or also
        after the depthwise with `between: true`."""
        keys = (*COMMON_KEYS, *kinds.KINDS["conv"].keys, "patch", "multiplier", "between")
        self.check_keys(m, keys if separable else (*keys, "reduce"), where)
        if "between" in m and not (separable or "multiplier" in m):
            raise self.error(
                "'between' applies to a separable conv only",
                m.line_of("between"),
                where,
                "use type: separable, or give 'multiplier'",
            )
        if "reduce" in m and "multiplier" in m:
            raise self.error(
                "'reduce' and 'multiplier' together are ambiguous",
                m.line,
                where,
                "write the layers out as a 'sequence'",
            )
        if "multiplier" in m and "groups" in m:
            raise self.error(
                "'groups' with 'multiplier' is ambiguous: a depthwise conv has one group per input channel",
                m.line_of("groups"),
                where,
                "drop 'groups'",
            )
        args = self.args(m, "conv", where)
        if "reduce" in m:
            width = self.value(m, "reduce", kinds.pos_int, where)
            reduce = {**args, "out": width, "kernel": (1, 1), "stride": (1, 1), "padding": (0, 0), "groups": 1}
            columns = {"3x3reduce": width, "3x3": args["out"]} if args["kernel"] == (3, 3) else None
            return Node(
                name,
                "sequence",
                line=m.line,
                paper=paper,
                label=label or "convolution",
                columns=columns,
                children=(
                    Node("reduce", "conv", reduce, line=m.line_of("reduce")),
                    Node("conv", "conv", args, line=m.line),
                ),
            )
        if "multiplier" in m or separable:
            mult = self.value(m, "multiplier", kinds.pos_int, where) if "multiplier" in m else 1
            between = self.value(m, "between", kinds.boolean, where) if "between" in m else False
            # The depthwise width depends on the input channels, known only at compile time: `multiplier`
            # is kept and the compiler sets out = C_in * multiplier and groups = C_in.
            depthwise = {**args, "out": None, "multiplier": mult}
            if not between:
                depthwise.update(activation="none", norm="none")
            pointwise = {**args, "kernel": (1, 1), "stride": (1, 1), "padding": (0, 0), "groups": 1}
            return Node(
                name,
                "sequence",
                line=m.line,
                paper=paper,
                label=label or "convolution",
                children=(
                    Node("depthwise", "conv", depthwise, line=m.line_of("multiplier")),
                    Node("pointwise", "conv", pointwise, line=m.line),
                ),
            )
        return Node(name, "conv", args=args, line=m.line, paper=paper, label=label)

    def residual(self, m: LineMap, name: str, where: str, paper: Paper | None, label: str | None) -> Node:
        """`activation(scale * body(x) + shortcut(x))`; the shortcut is the identity or a projection."""
        self.check_keys(m, (*COMMON_KEYS, *RESIDUAL_KEYS), where)
        if "body" not in m:
            raise self.error(
                "missing 'body'",
                m.line,
                where,
                "give the block's layers, e.g. body: [{type: conv, kernel: 3, out: 64}]",
            )
        body = self.layer_list(m, "body", where)
        for child in body:
            if child.name in RESERVED_IN_RESIDUAL:
                raise self.error(
                    f"the name '{child.name}' is reserved in a residual block (its projection and its add)",
                    child.line,
                    f"{where}.{child.name}",
                    "rename the layer",
                )
        shortcut = None
        raw = m.get("shortcut", "identity")
        if isinstance(raw, str):
            if raw != "identity":
                raise self.error(
                    f"'shortcut' names no layer: '{raw}'",
                    m.line_of("shortcut"),
                    where,
                    "write shortcut: identity, or the projection's layers, e.g."
                    " [{type: conv, kernel: 1, stride: 2, out: 128, norm: bn, activation: none}]",
                )
        else:
            shortcut = Node(
                "shortcut", "sequence", children=self.layer_list(m, "shortcut", where), line=m.line_of("shortcut")
            )
        scale = (
            self.value(m, "scale", kinds.pos_float, where, "write a number such as scale: 0.17")
            if "scale" in m
            else 1.0
        )
        activation = (
            self.value(m, "activation", kinds.choice(*kinds.ACTIVATIONS), where) if "activation" in m else "none"
        )
        args = {"scale": scale, "activation": activation}
        return Node(
            name, "residual", args=args, children=body, line=m.line, paper=paper, label=label, shortcut=shortcut
        )

    def layer_list(self, m: LineMap, key: str, where: str) -> tuple[Node, ...]:
        """A list of layers under `key`, or one layer written as a mapping (a `parallel` module, say)."""
        raw = m[key]
        if isinstance(raw, LineMap):
            one = LineList([raw])
            one.line = raw.line
            raw = one
        if not isinstance(raw, list) or not raw:
            raise self.error(
                f"'{key}' must be a layer or a non-empty list of layers",
                m.line_of(key),
                where,
                "write each layer as '- {name: ..., type: ...}'",
            )
        return self.sequence(raw, m.line_of(key), f"{where}.shortcut." if key == "shortcut" else f"{where}.")

    def sequence(self, raw: Any, line: int | None, prefix: str) -> tuple[Node, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.error(
                "'layers' must be a non-empty list of layers",
                line,
                prefix.rstrip(".") or None,
                "write each layer as '- {name: ..., type: ...}'",
            )
        nodes: list[Node] = []
        seen: dict[str, int | None] = {}
        counts: dict[str, int] = {}
        # an unnamed layer is called after its kind and its rank among them (flatten1, flatten2), skipping the
        # names the list gives its other layers, so that a default name never takes a name written out
        written = {item.get("name") for item in raw if isinstance(item, dict)}
        for item in raw:
            item_line = getattr(item, "line", line)
            kind = str(item.get("type", "layer")).lower() if isinstance(item, dict) else "layer"
            kind = kind if NAME.match(kind) and len(kind) <= 40 else "layer"  # a default name must be a valid one
            counts[kind] = counts.get(kind, 0) + 1
            while f"{kind}{counts[kind]}" in written:
                counts[kind] += 1
            node = self.node(item, item_line, f"{kind}{counts[kind]}", prefix)
            if node.name in seen:
                raise self.error(
                    f"duplicate layer name '{node.name}' (first at line {seen[node.name]})",
                    node.line,
                    f"{prefix}{node.name}",
                    "give each layer a unique name",
                )
            seen[node.name] = node.line
            nodes.append(node)
        return tuple(nodes)

    def branches(self, m: LineMap, where: str) -> tuple[Node, ...]:
        raw = m.get("branches")
        if not isinstance(raw, LineMap) or not raw:
            raise self.error(
                "'branches' must be a mapping of branch name -> list of layers",
                m.line_of("branches"),
                where,
                "e.g. branches: {b1x1: [{type: conv, kernel: 1, out: 64}]}",
            )
        out = []
        for bname, layers_raw in raw.items():
            if not isinstance(bname, str) or not NAME.match(bname):
                raise self.error(f"bad branch name {bname!r}", raw.line_of(bname), where, "use letters, digits, '_'")
            children = self.sequence(layers_raw, raw.line_of(bname), f"{where}.{bname}.")
            out.append(Node(bname, "sequence", children=children, line=raw.line_of(bname)))
        return tuple(out)

    def paper(self, m: LineMap, where: str) -> Paper:
        p = self.mapping(m["paper"], m.line_of("paper"), where, "'paper'")
        self.check_keys(p, ("params", "ops", "output", "note"), f"{where}.paper")
        text = {k: str(p[k]) for k in ("params", "ops", "output") if k in p}
        try:
            params = parse_count(p["params"], base=1024) if "params" in p else None
        except BadValue as exc:
            raise self.error(f"'params': {exc}", p.line_of("params"), where) from None
        try:
            ops = parse_count(p["ops"]) if "ops" in p else None
        except BadValue as exc:
            raise self.error(f"'ops': {exc}", p.line_of("ops"), where) from None
        for key, value in (("params", params), ("ops", ops)):
            if value == 0:  # every comparison is relative to the paper's value
                raise self.error(f"'{key}': the paper's value must be positive", p.line_of(key), f"{where}.paper")
        try:
            output = parse_dims(p["output"], 3) if "output" in p else None
        except BadValue as exc:
            raise self.error(f"'output': {exc}", p.line_of("output"), where) from None
        note = p.get("note")
        return Paper(params=params, ops=ops, output=output, text=text, note=str(note) if note else None)  # type: ignore[arg-type]


def check_text(reader: Reader, text: str, line: int | None, what: str, where: str, one_line: bool) -> None:
    """Names and titles end up in DOT, Markdown and terminal output: no control characters (ESC, NUL) there,
    and no line break where one line is expected."""
    allowed = "" if one_line else "\n\t"
    bad = next((ch for ch in text if not ch.isprintable() and ch != " " and ch not in allowed), None)
    if bad is not None:
        raise reader.error(f"{what} holds the control character {bad!r}", line, where, "write plain text on one line")
