"""Table 1's row form (and BN-Inception's): its column names, its pool cells, and the expansion of an `inception`
row into a `parallel` node of branches (see spec.py for the language)."""

from __future__ import annotations

import re
from typing import Any

from .. import kinds
from ..errors import BadValue, did_you_mean
from .tree import COMMON_KEYS, Node, Paper
from .yamlsafe import LineMap

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
        return None, kinds.nonneg_int(value)
    match = _POOL_CELL.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise BadValue(f"expected a width, 'avg + 32', 'max + 128' or 'max + pass through', got {value!r}")
    kind, width = match.group(1), match.group(2)
    return (kind.lower() if kind else None), (kinds.nonneg_int(int(width)) if width.isdigit() else None)


def inception_node(reader: Any, m: LineMap, name: str, where: str, paper: Paper | None, label: str | None) -> Node:
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
                raise reader.error(f"column '{col}' given twice", m.line_of(key), where, "remove one of the spellings")
            rest.lines[col] = m.line_of(key)
            if col == "poolproj":
                pool_kind, width = reader.value(m, key, parse_pool_cell, where)
                passthrough = width is None
                widths[col] = width or 0
                columns[col] = m[key] if isinstance(m[key], str) else widths[col]
            else:
                widths[col] = reader.value(m, key, kinds.nonneg_int, where)
                columns[col] = widths[col]
        elif key not in (*COMMON_KEYS, *options):
            allowed = [*ROW_COLUMNS, *options, "paper", "label", "name"]
            raise reader.error(
                f"unknown key '{key}'", m.line_of(key), where, did_you_mean(normalize_column(key), allowed)
            )
    # Figure 2(a)'s naive module: no 1x1 reductions, the pool branch passed through unprojected.
    naive = reader.value(m, "naive", kinds.boolean, where) if "naive" in m else False
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
        raise reader.error(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", m.line, where, hint)
    if naive:
        unused = [c for c in ("3x3reduce", "5x5reduce", "poolproj", *DOUBLE_COLUMNS) if widths.get(c)]
        if unused:
            raise reader.error(
                f"a naive module has no {', '.join(unused)}",
                rest.line_of(unused[0]),
                where,
                "drop those columns, or set naive: false",
            )
    conv = {
        k: reader.value(m, k, kinds.KINDS["conv"].keys[k][0], where)
        for k in ("bias", "norm", "activation", "eps")
        if k in m
    }
    conv = {k: (reader.defaults[k] if conv.get(k) is None else conv[k]) for k in ("bias", "norm", "activation", "eps")}
    conv.update({k: kinds.LRN_DEFAULTS[k][1] for k in kinds.LRN_DEFAULTS})
    pool = m.get("pool", pool_kind or "max")
    if pool not in ("max", "avg"):
        raise reader.error(f"'pool' must be max or avg, got {pool!r}", m.line_of("pool"), where, "write pool: max")
    if pool_kind and pool != pool_kind:
        raise reader.error(
            f"'pool: {pool}' contradicts the pool column's '{pool_kind}'", m.line_of("pool"), where, "give one"
        )
    k3 = reader.value(m, "kernel_3x3", kinds.dims2, where) if "kernel_3x3" in m else (3, 3)
    k5 = reader.value(m, "kernel_5x5", kinds.dims2, where) if "kernel_5x5" in m else (5, 5)
    for key, kernel in (("kernel_3x3", k3), ("kernel_5x5", k5)):
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise reader.error(f"'{key}' must be odd to keep the module's size, got {kernel}", m.line_of(key), where)
    # A grid-reduction module (BN-Inception's 3c, 4e): every branch ends in a stride-2 conv or pool.
    stride = reader.value(m, "stride", kinds.dims2, where) if "stride" in m else (1, 1)

    def c(out: int, kernel: tuple[int, int], line: int | None, local: str, s=(1, 1)) -> Node:
        padding = kinds.resolve_padding("same", kernel)
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
            raise reader.error(
                f"'{col}' is {width} but '{col} reduce' is 0",
                ln(col),
                where,
                "give the 1x1 reduction's width, or write the branch out in the 'parallel' form",
            )
        if red and not width:
            raise reader.error(
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
        raise reader.error("every column is 0: the module has no branch", m.line, where, "give a column a width")
    stage = re.search(r"(\d+[a-z]?)$", name)  # inception_4e / inception4e -> "4e"
    label = label or f"inception ({stage.group(1) if stage else name})"
    return Node(name, "parallel", children=tuple(branches), line=m.line, paper=paper, label=label, columns=columns)
