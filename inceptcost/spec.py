"""The spec language: YAML in, a typed tree of layers out (validated, sugar expanded, line numbers kept).

Four structural kinds exist beside the layer kinds of `layers.KINDS`:
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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layers
from .claimspec import ClaimSpec, read_claims
from .errors import BadValue, SpecError, did_you_mean
from .quantities import parse_count, parse_dims, parse_patch
from .shipped import find_spec
from .yamlsafe import LineList, LineMap, load_yaml

STRUCTURAL = ("sequence", "parallel", "inception", "residual")
RESIDUAL_KEYS = ("body", "shortcut", "scale", "activation")
RESERVED_IN_RESIDUAL = ("shortcut", "add")  # the names of its projection and its add
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")

# Table 1's columns, by normalized spelling ("#3x3 reduce" -> "3x3reduce").
TABLE_COLUMNS = ("1x1", "3x3reduce", "3x3", "5x5reduce", "5x5", "poolproj")
# BN-Inception's table has a double-3x3 pair where Table 1 has the 5x5 pair.
DOUBLE_COLUMNS = ("double3x3reduce", "double3x3")
ROW_COLUMNS = (*TABLE_COLUMNS, *DOUBLE_COLUMNS)
_COLUMN_ALIASES = {
    "proj": "poolproj",
    "pool_proj": "poolproj",
    "pool+proj": "poolproj",
    "3x3red": "3x3reduce",
    "5x5red": "5x5reduce",
    "double3x3red": "double3x3reduce",
}
# A `Pool +proj` cell of BN-Inception's table: `avg + 32`, `max + pass through`, or just a width.
_POOL_CELL = re.compile(r"^\s*(?:(max|avg)\s*\+\s*)?([0-9]+|pass\s*through)\s*$", re.IGNORECASE)


def normalize_column(key: str) -> str:
    k = str(key).lower().replace("#", "").replace("×", "x").replace(" ", "").replace("_", "")
    return _COLUMN_ALIASES.get(k, k)


def parse_pool_cell(value: Any) -> tuple[str | None, int | None]:
    """A pool column's value -> (pool kind or None, projection width or None for a pass-through branch)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return None, layers.nonneg_int(value)
    match = _POOL_CELL.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise BadValue(f"expected a width, 'avg + 32', 'max + 128' or 'max + pass through', got {value!r}")
    kind, width = match.group(1), match.group(2)
    return (kind.lower() if kind else None), (layers.nonneg_int(int(width)) if width.isdigit() else None)


@dataclass(frozen=True)
class Paper:
    """A row's published values as written in the paper (parsed, and the text kept for display)."""

    params: float | None = None  # weights, K = 1024 as in Table 1
    ops: float | None = None  # multiply-adds, M = 10^6
    output: tuple[int, int, int] | None = None  # H, W, C
    text: dict[str, str] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Node:
    """One layer (a kind of `layers.KINDS`) or a structural node (`sequence` / `parallel`)."""

    name: str
    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    children: tuple[Node, ...] = ()
    line: int | None = None
    paper: Paper | None = None
    label: str | None = None  # Table 1's "type" column, e.g. "inception (3a)"
    # Table 1's #1x1 ... pool proj values when written that way (a pool cell written as text is kept as text)
    columns: dict[str, int | str] | None = None
    shortcut: Node | None = None  # a residual's projection (a sequence named "shortcut"); None: the identity


@dataclass(frozen=True)
class AuxHead:
    name: str
    at: str
    weight: float
    body: Node  # a sequence
    line: int | None = None


@dataclass(frozen=True)
class Spec:
    name: str
    file: str
    input: tuple[int, int, int]  # C, H, W
    classes: int
    body: Node  # the main sequence; its children are the rows of the table
    aux: tuple[AuxHead, ...] = ()
    budget_macs: float | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    reference: str | None = None
    notes: str | None = None
    claims: tuple[ClaimSpec, ...] = ()

    def __repr__(self) -> str:  # the dataclass's own repr prints every node: tens of thousands of characters
        c, h, w = self.input
        rows, aux = len(self.body.children), len(self.aux)
        return (
            f"<Spec {self.name} ({self.file}): input {h}x{w}x{c}, {self.classes} classes, {rows} rows, {aux} aux heads>"
        )

    def _repr_html_(self) -> str:
        from .analyze.analysis import analyze_spec

        return analyze_spec(self)._repr_html_()


DEFAULTS = {"activation": "relu", "bias": True, "norm": "none", "eps": 1e-5}
_DEFAULT_KEYS = {
    "activation": layers.choice(*layers.ACTIVATIONS),
    "bias": layers.boolean,
    "norm": layers.choice(*layers.NORMS),
    "eps": layers.pos_float,
}
_TOP_KEYS = ("name", "title", "reference", "notes", "input", "classes", "budget", "defaults", "layers", "aux", "claims")
_COMMON_KEYS = ("name", "type", "paper", "label")


def _patch(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    kernel, stride = parse_patch(value)
    return layers.dims2(kernel), layers.dims2(stride)  # range checks: a 0 stride or kernel is refused here


class _Reader:
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
            _check_text(self, label, m.line_of("label"), "'label'", where, one_line=True)
        if kind == "sequence":
            self.check_keys(m, (*_COMMON_KEYS, "layers"), where)
            children = self.sequence(m.get("layers"), m.line_of("layers"), f"{where}.")
            return Node(name, "sequence", children=children, line=m.line, paper=paper, label=label)
        if kind in ("parallel", "module"):
            self.check_keys(m, (*_COMMON_KEYS, "branches"), where)
            return Node(name, "parallel", children=self.branches(m, where), line=m.line, paper=paper, label=label)
        if kind == "inception":
            return self.inception(m, name, where, paper, label)
        if kind == "residual":
            return self.residual(m, name, where, paper, label)
        if kind == "separable":
            return self.conv(m, name, where, paper, label, separable=True)
        if kind in layers.KIND_ALIASES:
            kind, fixed = layers.KIND_ALIASES[kind]
        else:
            fixed = {}
        if kind not in layers.KINDS:
            raise self.error(f"unknown layer type '{m['type']}'", m.line_of("type"), where, self._kind_hint(kind))
        if kind == "conv":
            return self.conv(m, name, where, paper, label)
        spec = layers.KINDS[kind]
        keys = [k for k in spec.keys if k not in fixed]  # `{type: relu, activation: gelu}` is refused
        self.check_keys(m, (*_COMMON_KEYS, *keys, *(("patch",) if "kernel" in keys else ())), where)
        args = self.args(m, kind, where, fixed)
        return Node(name, kind, args=args, line=m.line, paper=paper, label=label)

    def _kind_hint(self, kind: str | None = None) -> str:
        kinds = [*layers.KINDS, *layers.KIND_ALIASES, *STRUCTURAL, "module", "separable"]
        return did_you_mean(kind, kinds) if kind else f"one of: {', '.join(kinds)}"

    def args(self, m: LineMap, kind: str, where: str, fixed: dict | None = None) -> dict[str, Any]:
        spec = layers.KINDS[kind]
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
            elif default is layers.REQUIRED:
                raise self.error(f"missing '{key}'", m.line, where, f"a {kind} layer needs '{key}'")
            else:
                args[key] = default
        if "stride" in args and args["stride"] is None:  # pools: stride defaults to the window, as in torch
            args["stride"] = args["kernel"]
        if "padding" in args:
            try:
                args["padding"] = layers.resolve_padding(args["padding"], args["kernel"])
            except BadValue as exc:
                raise self.error(str(exc), m.line_of("padding") if "padding" in m else m.line, where) from None
        for key in ("bias", "activation", "norm", "eps", "size", "alpha", "beta", "k"):
            if key in args and args[key] is None:
                args[key] = self.defaults[key] if key in self.defaults else layers.LRN_DEFAULTS[key][1]
        if kind == "linear" and args["bias"] is None:
            args["bias"] = self.defaults["bias"]
        return args

    def conv(
        self, m: LineMap, name: str, where: str, paper: Paper | None, label: str | None, separable: bool = False
    ) -> Node:
        """A conv; `reduce` puts a 1x1 in front, `multiplier` (or `type: separable`) makes it a depthwise conv
        and a 1x1 pointwise conv, with the layer's norm and activation after the pointwise only, or also
        after the depthwise with `between: true`."""
        keys = (*_COMMON_KEYS, *layers.KINDS["conv"].keys, "patch", "multiplier", "between")
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
            width = self.value(m, "reduce", layers.pos_int, where)
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
            mult = self.value(m, "multiplier", layers.pos_int, where) if "multiplier" in m else 1
            between = self.value(m, "between", layers.boolean, where) if "between" in m else False
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
        self.check_keys(m, (*_COMMON_KEYS, *RESIDUAL_KEYS), where)
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
            self.value(m, "scale", layers.pos_float, where, "write a number such as scale: 0.17")
            if "scale" in m
            else 1.0
        )
        activation = (
            self.value(m, "activation", layers.choice(*layers.ACTIVATIONS), where) if "activation" in m else "none"
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

    def inception(self, m: LineMap, name: str, where: str, paper: Paper | None, label: str | None) -> Node:
        """Table 1's row form (or BN-Inception's) -> a parallel node. A width of 0 leaves that branch out."""
        options = ("pool", "naive", "stride", "kernel_3x3", "kernel_5x5", "bias", "norm", "activation", "eps")
        columns: dict[str, int | str] = {}
        widths: dict[str, int] = {}
        pool_kind: str | None = None
        passthrough = False
        rest = LineMap()
        rest.line = m.line
        for key in m:
            col = normalize_column(key)
            if col in ROW_COLUMNS:
                if col in columns:
                    raise self.error(
                        f"column '{col}' given twice", m.line_of(key), where, "remove one of the spellings"
                    )
                rest.lines[col] = m.line_of(key)
                if col == "poolproj":
                    pool_kind, width = self.value(m, key, parse_pool_cell, where)
                    passthrough = width is None
                    widths[col] = width or 0
                    columns[col] = m[key] if isinstance(m[key], str) else widths[col]
                else:
                    widths[col] = self.value(m, key, layers.nonneg_int, where)
                    columns[col] = widths[col]
            elif key not in (*_COMMON_KEYS, *options):
                allowed = [*ROW_COLUMNS, *options, "paper", "label", "name"]
                raise self.error(
                    f"unknown key '{key}'", m.line_of(key), where, did_you_mean(normalize_column(key), allowed)
                )
        # Figure 2(a)'s naive module: no 1x1 reductions, the pool branch passed through unprojected.
        naive = self.value(m, "naive", layers.boolean, where) if "naive" in m else False
        double = any(c in columns for c in DOUBLE_COLUMNS)
        if naive:
            needed: tuple[str, ...] = ("1x1", "3x3", "5x5")
            hint = "an inception row needs all six of Table 1's columns (0 leaves a branch out)"
        elif double:  # BN-Inception's table: no 5x5 pair
            needed = ("1x1", "3x3reduce", "3x3", *DOUBLE_COLUMNS, "poolproj")
            hint = "a BN-Inception row needs #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, pool proj"
        else:
            needed = TABLE_COLUMNS
            hint = "an inception row needs all six of Table 1's columns (0 leaves a branch out)"
        missing = [c for c in needed if c not in columns]
        if missing:
            raise self.error(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", m.line, where, hint
            )
        if naive:
            unused = [c for c in ("3x3reduce", "5x5reduce", "poolproj", *DOUBLE_COLUMNS) if widths.get(c)]
            if unused:
                raise self.error(
                    f"a naive module has no {', '.join(unused)}",
                    rest.line_of(unused[0]),
                    where,
                    "drop those columns, or set naive: false",
                )
        conv = {
            k: self.value(m, k, layers.KINDS["conv"].keys[k][0], where)
            for k in ("bias", "norm", "activation", "eps")
            if k in m
        }
        conv = {
            k: (self.defaults[k] if conv.get(k) is None else conv[k]) for k in ("bias", "norm", "activation", "eps")
        }
        conv.update({k: layers.LRN_DEFAULTS[k][1] for k in layers.LRN_DEFAULTS})
        pool = m.get("pool", pool_kind or "max")
        if pool not in ("max", "avg"):
            raise self.error(f"'pool' must be max or avg, got {pool!r}", m.line_of("pool"), where, "write pool: max")
        if pool_kind and pool != pool_kind:
            raise self.error(
                f"'pool: {pool}' contradicts the pool column's '{pool_kind}'", m.line_of("pool"), where, "give one"
            )
        k3 = self.value(m, "kernel_3x3", layers.dims2, where) if "kernel_3x3" in m else (3, 3)
        k5 = self.value(m, "kernel_5x5", layers.dims2, where) if "kernel_5x5" in m else (5, 5)
        for key, kernel in (("kernel_3x3", k3), ("kernel_5x5", k5)):
            if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
                raise self.error(f"'{key}' must be odd to keep the module's size, got {kernel}", m.line_of(key), where)
        # A grid-reduction module (BN-Inception's 3c, 4e): every branch ends in a stride-2 conv or pool.
        stride = self.value(m, "stride", layers.dims2, where) if "stride" in m else (1, 1)

        def c(out: int, kernel: tuple[int, int], line: int | None, local: str, s=(1, 1)) -> Node:
            padding = layers.resolve_padding("same", kernel)
            args = {**conv, "out": out, "kernel": kernel, "stride": s, "padding": padding, "groups": 1}
            return Node(local, "conv", args, line=line)

        def seq(branch: str, *items: Node) -> Node:
            return Node(branch, "sequence", children=items, line=items[0].line)

        ln = rest.line_of
        branches = []
        if widths["1x1"]:
            branches.append(seq("b1x1", c(widths["1x1"], (1, 1), ln("1x1"), "conv", stride)))
        for col, kernel in (("3x3", k3), ("5x5", k5), ("double3x3", (3, 3))):
            red, width = widths.get(f"{col}reduce", 0), widths.get(col, 0)
            if naive:
                if width:
                    branches.append(seq(f"b{col}", c(width, kernel, ln(col), "conv", stride)))
                continue
            if width and not red:
                raise self.error(
                    f"'{col}' is {width} but '{col} reduce' is 0",
                    ln(col),
                    where,
                    "give the 1x1 reduction's width, or write the branch out in the 'parallel' form",
                )
            if red and not width:
                raise self.error(
                    f"'{col} reduce' is {red} but '{col}' is 0", ln(f"{col}reduce"), where, "set both, or both to 0"
                )
            if not width:
                continue
            reduce = c(red, (1, 1), ln(f"{col}reduce"), "reduce")
            if col == "double3x3":  # two stacked 3x3 convs of the same width in place of one 5x5
                convs = (c(width, kernel, ln(col), "conv1"), c(width, kernel, ln(col), "conv2", stride))
            else:
                convs = (c(width, kernel, ln(col), "conv", stride),)
            branches.append(seq(f"b{col}", reduce, *convs))
        pool_args = {"kernel": (3, 3), "stride": stride, "padding": (1, 1), "ceil": False}
        if pool == "avg":
            pool_args["count_pad"] = True
        pool_node = Node("pool", f"{pool}pool", pool_args, line=m.line_of("pool") if "pool" in m else m.line)
        if naive or passthrough:
            branches.append(seq("bpool", pool_node))
        elif widths["poolproj"]:
            branches.append(seq("bpool", pool_node, c(widths["poolproj"], (1, 1), ln("poolproj"), "proj")))
        if not branches:
            raise self.error("every column is 0: the module has no branch", m.line, where, "give a column a width")
        stage = re.search(r"(\d+[a-z]?)$", name)  # inception_4e / inception4e -> "4e"
        label = label or f"inception ({stage.group(1) if stage else name})"
        return Node(name, "parallel", children=tuple(branches), line=m.line, paper=paper, label=label, columns=columns)

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
        for item in raw:
            item_line = getattr(item, "line", line)
            kind = str(item.get("type", "layer")).lower() if isinstance(item, dict) else "layer"
            kind = kind if NAME.match(kind) and len(kind) <= 40 else "layer"  # a default name must be a valid one
            counts[kind] = counts.get(kind, 0) + 1
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


def _check_text(reader: _Reader, text: str, line: int | None, what: str, where: str, one_line: bool) -> None:
    """Names and titles end up in DOT, Markdown and terminal output: no control characters (ESC, NUL) there,
    and no line break where one line is expected."""
    allowed = "" if one_line else "\n\t"
    bad = next((ch for ch in text if not ch.isprintable() and ch != " " and ch not in allowed), None)
    if bad is not None:
        raise reader.error(f"{what} holds the control character {bad!r}", line, where, "write plain text on one line")


def _top_level(data: Any, file: str) -> tuple[LineMap, _Reader]:
    if not isinstance(data, LineMap):
        got = type(data).__name__
        raise SpecError(
            f"a spec must be a mapping at the top, got {got}",
            file=file,
            line=1,
            hint="start with keys like 'name:', 'input:', 'layers:'",
        )
    reader = _Reader(file, dict(DEFAULTS))
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
            layers.pos_int(d)
    except BadValue:
        raise reader.error(
            f"'input' must be HxWxC, got {data['input']!r}",
            data.line_of("input"),
            "spec",
            "e.g. input: 224x224x3 (height x width x channels, each at least 1)",
        ) from None
    classes = reader.value(data, "classes", layers.pos_int, "spec") if "classes" in data else 1000
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
            _check_text(reader, data[key], data.line_of(key), f"'{key}'", "spec", one_line=key in ("name", "title"))
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


def _aux_heads(reader: _Reader, data: LineMap, rows: set[str]) -> tuple[AuxHead, ...]:
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
        weight = reader.value(m, "weight", layers.pos_float, where) if "weight" in m else 0.3
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
