"""Table 1's row form (and BN-Inception's): its column names, its pool cells, and the expansion of an `inception`
row into a `parallel` node of branches (see spec.py for the language)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


_OPTIONS = ("pool", "naive", "stride", "kernel_3x3", "kernel_5x5", "bias", "norm", "activation", "eps")
_SIX_HINT = "an inception row needs all six of Table 1's columns (0 leaves a branch out)"


@dataclass
class _Columns:
    """A row's column cells as written, their widths, the pool cell's kind and each column's line."""

    cells: dict[str, int | str] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)
    pool_kind: str | None = None
    passthrough: bool = False
    lines: LineMap = field(default_factory=LineMap)


def _read_columns(reader: Any, m: LineMap, where: str) -> _Columns:
    """The row's column cells under any of their spellings; any other key must be an option or a common key."""
    cols = _Columns()
    cols.lines.line = m.line
    for key in m:
        col = normalize_column(key)
        if col in ROW_COLUMNS:
            if col in cols.cells:
                raise reader.error(f"column '{col}' given twice", m.line_of(key), where, "remove one of the spellings")
            cols.lines.lines[col] = m.line_of(key)
            if col == "poolproj":
                cols.pool_kind, width = reader.value(m, key, parse_pool_cell, where)
                cols.passthrough = width is None
                cols.widths[col] = width or 0
                cols.cells[col] = m[key] if isinstance(m[key], str) else cols.widths[col]
            else:
                cols.widths[col] = reader.value(m, key, kinds.nonneg_int, where)
                cols.cells[col] = cols.widths[col]
        elif key not in (*COMMON_KEYS, *_OPTIONS):
            allowed = [*ROW_COLUMNS, *_OPTIONS, "paper", "label", "name"]
            raise reader.error(
                f"unknown key '{key}'", m.line_of(key), where, did_you_mean(normalize_column(key), allowed)
            )
    return cols


def _check_columns(reader: Any, m: LineMap, where: str, cols: _Columns, naive: bool) -> None:
    """Every column the row's form needs is there; a naive module has no reductions or projection."""
    if naive:
        needed: tuple[str, ...] = ("1x1", "3x3", "5x5")
        hint = _SIX_HINT
    elif any(c in cols.cells for c in DOUBLE_COLUMNS):  # BN-Inception's table: no 5x5 pair
        needed = ("1x1", "3x3reduce", "3x3", *DOUBLE_COLUMNS, "poolproj")
        hint = "a BN-Inception row needs #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, pool proj"
    else:
        needed = TABLE_COLUMNS
        hint = _SIX_HINT
    missing = [c for c in needed if c not in cols.cells]
    if missing:
        raise reader.error(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", m.line, where, hint)
    if naive:
        unused = [c for c in ("3x3reduce", "5x5reduce", "poolproj", *DOUBLE_COLUMNS) if cols.widths.get(c)]
        if unused:
            raise reader.error(
                f"a naive module has no {', '.join(unused)}",
                cols.lines.line_of(unused[0]),
                where,
                "drop those columns, or set naive: false",
            )


def _conv_settings(reader: Any, m: LineMap, where: str) -> dict[str, Any]:
    """The settings every conv of the row shares: the row's bias, norm, activation, eps, else the defaults."""
    conv = {
        k: reader.value(m, k, kinds.KINDS["conv"].keys[k][0], where)
        for k in ("bias", "norm", "activation", "eps")
        if k in m
    }
    conv = {k: (reader.defaults[k] if conv.get(k) is None else conv[k]) for k in ("bias", "norm", "activation", "eps")}
    conv.update({k: kinds.LRN_DEFAULTS[k][1] for k in kinds.LRN_DEFAULTS})
    return conv


def _pool_kind(reader: Any, m: LineMap, where: str, cols: _Columns) -> str:
    """The pool branch's kind: the `pool` option, the pool cell's, or max; the two must agree."""
    pool = m.get("pool", cols.pool_kind or "max")
    if pool not in ("max", "avg"):
        raise reader.error(f"'pool' must be max or avg, got {pool!r}", m.line_of("pool"), where, "write pool: max")
    if cols.pool_kind and pool != cols.pool_kind:
        raise reader.error(
            f"'pool: {pool}' contradicts the pool column's '{cols.pool_kind}'", m.line_of("pool"), where, "give one"
        )
    return pool


def _kernels(reader: Any, m: LineMap, where: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The 3x3 and 5x5 branches' kernels (BN-Inception's 5x5 may be 3x3); odd, to keep the module's size."""
    k3 = reader.value(m, "kernel_3x3", kinds.dims2, where) if "kernel_3x3" in m else (3, 3)
    k5 = reader.value(m, "kernel_5x5", kinds.dims2, where) if "kernel_5x5" in m else (5, 5)
    for key, kernel in (("kernel_3x3", k3), ("kernel_5x5", k5)):
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise reader.error(f"'{key}' must be odd to keep the module's size, got {kernel}", m.line_of(key), where)
    return k3, k5


@dataclass
class _RowBuilder:
    """Builds the branches' nodes of one row: its shared conv settings, stride and column lines."""

    conv: dict[str, Any]
    stride: tuple[int, int]
    cols: _Columns

    def conv_node(self, out: int, kernel: tuple[int, int], col: str, local: str, strided: bool = False) -> Node:
        padding = kinds.resolve_padding("same", kernel)
        s = self.stride if strided else (1, 1)
        args = {**self.conv, "out": out, "kernel": kernel, "stride": s, "padding": padding, "groups": 1}
        return Node(local, "conv", args, line=self.cols.lines.line_of(col))


def _seq(branch: str, *items: Node) -> Node:
    return Node(branch, "sequence", children=items, line=items[0].line)


def _conv_branches(reader: Any, where: str, b: _RowBuilder, kernels: dict[str, tuple[int, int]], naive: bool):
    """The 1x1, 3x3, 5x5 and double-3x3 branches, each a reduction then its conv(s); a width of 0 leaves one out."""
    widths = b.cols.widths
    ln = b.cols.lines.line_of
    branches = []
    if widths["1x1"]:
        branches.append(_seq("b1x1", b.conv_node(widths["1x1"], (1, 1), "1x1", "conv", True)))
    for col, kernel in kernels.items():
        red, width = widths.get(f"{col}reduce", 0), widths.get(col, 0)
        if naive:
            if width:
                branches.append(_seq(f"b{col}", b.conv_node(width, kernel, col, "conv", True)))
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
        reduce = b.conv_node(red, (1, 1), f"{col}reduce", "reduce")
        if col == "double3x3":  # two stacked 3x3 convs of the same width in place of one 5x5
            convs = (b.conv_node(width, kernel, col, "conv1"), b.conv_node(width, kernel, col, "conv2", True))
        else:
            convs = (b.conv_node(width, kernel, col, "conv", True),)
        branches.append(_seq(f"b{col}", reduce, *convs))
    return branches


def _pool_branch(m: LineMap, b: _RowBuilder, pool: str, naive: bool) -> Node | None:
    """The pool branch: the pool alone (naive, pass-through), or followed by its 1x1 projection; None if 0 wide."""
    pool_args = {"kernel": (3, 3), "stride": b.stride, "padding": (1, 1), "ceil": False}
    if pool == "avg":
        pool_args["count_pad"] = True
    pool_node = Node("pool", f"{pool}pool", pool_args, line=m.line_of("pool") if "pool" in m else m.line)
    if naive or b.cols.passthrough:
        return _seq("bpool", pool_node)
    if b.cols.widths["poolproj"]:
        return _seq("bpool", pool_node, b.conv_node(b.cols.widths["poolproj"], (1, 1), "poolproj", "proj"))
    return None


def inception_node(reader: Any, m: LineMap, name: str, where: str, paper: Paper | None, label: str | None) -> Node:
    """Table 1's row form (or BN-Inception's) -> a parallel node. A width of 0 leaves that branch out."""
    cols = _read_columns(reader, m, where)
    # Figure 2(a)'s naive module: no 1x1 reductions, the pool branch passed through unprojected.
    naive = reader.value(m, "naive", kinds.boolean, where) if "naive" in m else False
    _check_columns(reader, m, where, cols, naive)
    conv = _conv_settings(reader, m, where)
    pool = _pool_kind(reader, m, where, cols)
    k3, k5 = _kernels(reader, m, where)
    # A grid-reduction module (BN-Inception's 3c, 4e): every branch ends in a stride-2 conv or pool.
    stride = reader.value(m, "stride", kinds.dims2, where) if "stride" in m else (1, 1)
    b = _RowBuilder(conv, stride, cols)
    branches = _conv_branches(reader, where, b, {"3x3": k3, "5x5": k5, "double3x3": (3, 3)}, naive)
    pool_branch = _pool_branch(m, b, pool, naive)
    if pool_branch is not None:
        branches.append(pool_branch)
    if not branches:
        raise reader.error("every column is 0: the module has no branch", m.line, where, "give a column a width")
    stage = re.search(r"(\d+[a-z]?)$", name)  # inception_4e / inception4e -> "4e"
    label = label or f"inception ({stage.group(1) if stage else name})"
    return Node(name, "parallel", children=tuple(branches), line=m.line, paper=paper, label=label, columns=cols.cells)
