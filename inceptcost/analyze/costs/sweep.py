"""Width-scaled variants of a spec: `sweep` (static costs over a width grid) and `fit` (widest within a budget).

A variant at width w multiplies every conv and linear width by w and rounds it to the nearest multiple of 8
(at least 8), except the classifiers (the last linear of the main net and of each aux head, and any linear
whose width is the spec's `classes`) and the layer that closes a residual block with an identity shortcut,
which takes the width of the block's input (rounding the branches of the module that made that input one by
one need not give the rounded total). `scale_spec` builds the variant as a Spec (a transform of the typed
tree, never of YAML text); `Sweep.costs` computes the same totals as `summarize(compile_graph(scale_spec(...)))`
without building the networkx graph, walking the spec tree with the compiler's own per-op engine
(`graph/shapes.py`), so that thousands of variants a second are cheap. Nothing here imports torch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from ... import kinds
from ...errors import CheckFailed, InceptcostError, ShapeError
from ...graph.compile import compile_graph
from ...graph.shapes import concat_shape, infer, resolve
from ...kinds import ShapeProblem
from ...spec import Node, Spec
from .count import COST_FIELDS

DIVISOR = 8
MAX_GRID = 100_000
MAX_WIDTH = 1000.0  # x1000 turns GoogLeNet's 1024 channels into a million: beyond any real design


def round_width(channels: int, width: float, divisor: int = DIVISOR) -> int:
    """channels * width rounded half-up to a multiple of `divisor`, at least `divisor`."""
    return max(divisor, int(channels * width / divisor + 0.5) * divisor)


def parse_widths(text: str) -> list[float]:
    """`0.25:2.0:0.25` (start:stop:step, stop included), `0.5,1,1.5`, or one number -> sorted widths."""
    s = str(text).strip()
    try:
        if ":" in s:
            parts = [float(p) for p in s.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not all(math.isfinite(p) for p in parts) or step <= 0 or start <= 0 or stop < start:
                raise InceptcostError(
                    f"bad width range '{s}'",
                    hint="write start:stop:step with finite numbers, 0 < start <= stop and step > 0",
                )
            if stop > MAX_WIDTH:
                raise InceptcostError(f"bad width range '{s}'", hint=f"widths go up to {MAX_WIDTH:g}")
            # counted in floats first: a tiny step (1e-320) makes the count infinite, which int() refuses
            steps = (stop - start) / step
            if not steps < MAX_GRID:
                raise InceptcostError(
                    f"width range '{s}' has more than {MAX_GRID:,} widths",
                    hint=f"take a larger step: at least {(stop - start) / (MAX_GRID - 1):.3g}",
                )
            n = int(math.floor(steps + 1e-9))
            widths = [round(start + i * step, 10) for i in range(n + 1)]
        else:
            widths = [float(p) for p in re.split(r"[,\s]+", s) if p]
            if len(widths) > MAX_GRID:
                raise InceptcostError(
                    f"width grid '{s[:40]}...' has {len(widths):,} widths", hint=f"at most {MAX_GRID:,}"
                )
    except ValueError:
        raise InceptcostError(f"bad width grid '{s}'", hint="e.g. 0.25:2.0:0.25 (start:stop:step) or 0.5,1,2") from None
    if not widths or any(not (0 < w <= MAX_WIDTH) for w in widths):
        raise InceptcostError(f"bad width grid '{s}'", hint=f"widths must be positive numbers up to {MAX_WIDTH:g}")
    return sorted(set(widths))


def _linears(node: Node) -> list[Node]:
    if node.children:
        return [n for c in node.children for n in _linears(c)]
    return [node] if node.kind == "linear" else []


def _classifier_ids(spec: Spec) -> set[int]:
    """The layers whose width stays: the last linear of the main net and of each aux head."""
    ids = set()
    for body in (spec.body, *(h.body for h in spec.aux)):
        found = _linears(body)
        if found:
            ids.add(id(found[-1]))
    return ids


class Sweep:
    """Width-scaled variants of one spec: `.spec(w)` (a Spec), `.costs(w)` (summarize's totals, fast)."""

    def __init__(self, spec: Spec) -> None:
        self.base = spec
        self._keep = _classifier_ids(spec)
        self._matched: dict[int, int] = {}  # id(closing layer) -> its block's input width, from the last walk

    # ---- the transform ----

    def _out(self, node: Node, width: float) -> int | None:
        out = node.args.get("out")
        if out is None or id(node) in self._keep or (node.kind == "linear" and out == self.base.classes):
            return out
        return round_width(out, width)

    def _scale(self, node: Node, width: float) -> Node:
        if node.children:
            children = tuple(self._scale(c, width) for c in node.children)
            columns = None
            if node.columns:
                columns = {
                    k: (round_width(v, width) if isinstance(v, int) and v else v) for k, v in node.columns.items()
                }
            shortcut = self._scale(node.shortcut, width) if node.shortcut is not None else None
            return replace(node, children=children, columns=columns, paper=None, shortcut=shortcut)
        if node.kind in ("conv", "linear"):
            out = self._matched.get(id(node), self._out(node, width))
            return replace(node, args={**node.args, "out": out}, paper=None)
        return replace(node, paper=None)

    def spec(self, width: float) -> Spec:
        """The variant at `width` as a Spec (the published paper values are dropped: they no longer apply)."""
        base = self.base
        try:
            self._costs(width)  # finds the widths of the layers that close residual blocks
        except _Problem:
            pass  # the compiler will say where
        aux = tuple(replace(h, body=self._scale(h.body, width)) for h in base.aux)
        return replace(
            base,
            name=f"{base.name}-w{width:g}",
            title=f"{base.title or base.name}, width x{width:g} (channels rounded to multiples of {DIVISOR})",
            body=self._scale(base.body, width),
            aux=aux,
            notes=None,
        )

    # ---- fast costs: the compiler's walk without the graph ----

    def costs(self, width: float) -> dict[str, Any]:
        """Equal to `summarize(compile_graph(self.spec(width)))` (tested); raises the compiler's ShapeError."""
        try:
            return self._costs(width)
        except _Problem:
            compile_graph(self.spec(width))  # raises the ShapeError with file, line and layer
            raise ShapeError(f"width {width:g} gives shapes that do not work out", file=self.base.file) from None

    def _costs(self, width: float) -> dict[str, Any]:
        spec = self.base
        self._matched.clear()
        sums = [0] * 6
        rows: dict[str, tuple] = {}
        shape: tuple = spec.input
        for child in spec.body.children:
            shape = self._walk(child, shape, width, sums)
            rows[child.name] = shape
        if len(shape) != 1:
            raise _Problem
        aux = [0] * 6
        for head in spec.aux:
            if len(self._walk(head.body, rows[head.at], width, aux)) != 1:
                raise _Problem
        totals: dict[str, Any] = {"spec": f"{spec.name}-w{width:g}", "input": list(spec.input), "classes": spec.classes}
        for i, field in enumerate(COST_FIELDS):
            totals[field] = sums[i]
            totals[f"{field}_aux"] = aux[i]
        totals["flops"] = 2 * totals["macs"]
        totals["budget_macs"] = spec.budget_macs
        totals["within_budget"] = None if spec.budget_macs is None else totals["macs"] <= spec.budget_macs
        return totals

    def _walk(self, node: Node, shape: tuple, width: float, sums: list[int], match: int | None = None) -> tuple:
        """`match`: the width the last conv or linear of `node` must give (it closes a residual block)."""
        kind = node.kind
        if kind == "sequence":
            for i, child in enumerate(node.children):
                shape = self._walk(child, shape, width, sums, match if i == len(node.children) - 1 else None)
            return shape
        if kind == "residual":
            body, last = shape, len(node.children) - 1
            for i, child in enumerate(node.children):
                closing = shape[0] if i == last and node.shortcut is None and len(shape) == 3 else None
                body = self._walk(child, body, width, sums, closing)
            side = self._walk(node.shortcut, shape, width, sums) if node.shortcut is not None else shape
            if body != side:
                raise _Problem
            sums[5] += kinds.ADD.cost(node.args, body, body).other_ops
            return body
        try:
            if kind == "parallel":
                return concat_shape([(b.name, self._walk(b, shape, width, sums)) for b in node.children])
            args = node.args
            if kind == "conv" or kind == "linear":
                out_width = self._out(node, width) if match is None else match
                if match is not None:
                    self._matched[id(node)] = match
                args = resolve(kind, {**args, "out": out_width}, shape, self.base.classes)
            out, c = infer(kind, args, shape)
        except ShapeProblem:
            raise _Problem from None
        sums[0] += c.weights
        sums[1] += c.biases
        sums[2] += c.norm
        sums[3] += c.weights + c.biases + c.norm
        sums[4] += c.macs
        sums[5] += c.other_ops
        return out


class _Problem(Exception):
    """A shape that does not work out in the fast walk; the compiler then says exactly where."""


@dataclass(frozen=True)
class Fit:
    width: float
    costs: dict[str, Any]
    budget: float
    next_width: float | None  # the next grid step, over budget (None: the grid's widest fits)
    next_macs: int | None
    evaluated: int


def sweep(spec: Spec, widths: list[float]) -> list[dict[str, Any]]:
    """One record per width: width, the variant's totals (summarize's keys)."""
    s = Sweep(spec)
    return [{"width": w, **s.costs(w)} for w in widths]


def fit(spec: Spec, budget: float, widths: list[float]) -> tuple[Fit, Spec]:
    """The widest grid width whose MACs fit `budget` (binary search: MACs never fall as the width grows)."""
    s = Sweep(spec)
    widths = sorted(widths)
    cache: dict[int, dict[str, Any]] = {}

    def at(i: int) -> dict[str, Any]:
        if i not in cache:
            cache[i] = s.costs(widths[i])
        return cache[i]

    if at(0)["macs"] > budget:
        raise CheckFailed(
            f"even the narrowest width {widths[0]:g} needs {at(0)['macs']:,} MACs, over the budget {budget:,.0f}",
            file=spec.file,
            hint="lower the grid's start (--width) or raise the budget",
        )
    lo, hi = 0, len(widths) - 1  # invariant: widths[lo] fits
    if at(hi)["macs"] <= budget:
        lo = hi
    else:
        while hi - lo > 1:  # widths[hi] does not fit
            mid = (lo + hi) // 2
            if at(mid)["macs"] <= budget:
                lo = mid
            else:
                hi = mid
    nxt = lo + 1 if lo + 1 < len(widths) else None
    result = Fit(
        width=widths[lo],
        costs=at(lo),
        budget=budget,
        next_width=widths[nxt] if nxt is not None else None,
        next_macs=at(nxt)["macs"] if nxt is not None else None,
        evaluated=len(cache),
    )
    fitted = s.spec(widths[lo])
    return result, replace(fitted, budget_macs=budget)


def scale_spec(spec: Spec, width: float) -> Spec:
    return Sweep(spec).spec(width)


__all__ = ["Fit", "Sweep", "fit", "parse_widths", "round_width", "scale_spec", "sweep"]
