"""The published claims a spec declares (`claims:` in its YAML), each recomputed from the IR with a verdict
and a one-line reason. Nothing about one paper is written here: the spec says what is claimed, the value and
its source; this module knows how to count each measure.

Verdicts: `holds` (ours prints as the published figure at its precision; `about`: within 10%; `exact`: equal;
`at_most`: not above), `close` (within 15%), `does not hold`, or `n/a` when there is nothing to compare against
(a `versus` spec that is missing or invalid).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from ... import kinds
from ...errors import InceptcostError
from ...spec.claims import ClaimSpec
from .count import RowCost
from .printed import OK, printed

HOLDS, CLOSE, FAILS, NA = "holds", "close", "does not hold", "n/a"
ABOUT, NEAR = 0.10, 0.15


@dataclass(frozen=True)
class Claim:
    claim: str
    verdict: str
    ours: float | int | None
    paper: float | int | None
    ours_text: str
    paper_text: str
    note: str
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _verdict(ours: float, paper: float, exact: bool = False, about: bool = False, text: str | None = None) -> str:
    if text is not None:
        p = printed(text)
        if p is not None and p.grade(ours) == OK:
            return HOLDS
    elif exact and ours == paper:
        return HOLDS
    elif about and abs(ours - paper) <= ABOUT * paper:
        return HOLDS
    return CLOSE if abs(ours - paper) <= NEAR * abs(paper) else FAILS


def depth(graph: nx.DiGraph, pools: bool = False, aux: bool = False) -> tuple[int, list[str]]:
    """Layers on the longest input->output path: layers with parameters (a depthwise conv and its pointwise
    partner count once, as one separable conv), plus pooling layers when `pools`; and the path."""
    best: dict[str, tuple[int, str | None]] = {}
    for n in nx.topological_sort(graph):
        a = graph.nodes[n]
        if a["aux"] is not None and not aux:
            continue
        kind = kinds.KINDS.get(a["op"])
        own = 0
        if kind is not None and a["weights"] and not a["args"].get("depthwise"):
            own = 1
        elif kind is not None and pools and kind.is_pool:
            own = 1
        preds = [(best[p][0], p) for p in graph.predecessors(n) if p in best]
        length, prev = max(preds, default=(0, None))
        best[n] = (own + length, prev)
    end = graph.graph["output"]
    path, node = [], end
    while node is not None:
        path.append(node)
        node = best[node][1]
    return best[end][0], path[::-1]


def blocks(graph: nx.DiGraph, aux: bool = False) -> int:
    """Independent building blocks: the IR's op nodes (conv, pool, LRN, dropout, linear; a separable conv is
    its two convs) plus one concat per module; ReLUs are fused into their convs and not counted."""
    return sum(1 for _, a in graph.nodes(data=True) if a["op"] != "input" and (aux or a["aux"] is None))


def _versus_params_macs(spec_file: str, other: str) -> tuple[tuple[int, int] | None, str]:
    """(params, MACs) of the spec `other`, relative to this spec's folder, or None and why not."""
    from ...graph.compile import compile_graph
    from ...spec import load_spec
    from .count import summarize

    path = Path(spec_file).parent / other
    if not path.is_file():
        return None, f"{path} not found"
    try:
        totals = summarize(compile_graph(load_spec(path)))
    except InceptcostError as exc:
        return None, f"{path}: {exc}"
    return (totals["params"], totals["macs"]), str(path)


@dataclass(frozen=True)
class _Ctx:
    graph: nx.DiGraph
    totals: dict[str, Any]
    rows: list[RowCost]


# Each measure: (context, claim) -> (ours, ours_text, paper, paper_text, note), or a str: why it is n/a.
Measured = tuple[float | int | None, str, float | int | None, str, str]


def _macs(c: _Ctx, d: ClaimSpec) -> Measured:
    macs = c.totals["macs"]
    return (
        macs,
        f"{macs / 1e9:.4f}G",
        d.value,
        d.value_text,
        f"{macs:,} MACs (conv + linear, aux heads excluded) {'<=' if macs <= d.value else '>'} {d.value_text}",
    )


def _params(c: _Ctx, d: ClaimSpec) -> Measured:
    params, weights, rows = c.totals["params"], c.totals["weights"], c.rows
    no_fc = weights - sum(rc.weights for rc in rows if c.graph.nodes[rc.row.output]["op"] == "linear")
    with_aux = (params + c.totals["params_aux"]) / 1e6
    note = (
        f"params {params:,} ({params / 1e6:.2f}M), weights {weights / 1e6:.2f}M, without the final linear"
        f" {no_fc / 1e6:.2f}M, with aux heads {with_aux:.1f}M"
    )
    return params, f"{params / 1e6:.2f}M", d.value, d.value_text, note


def _weights(c: _Ctx, d: ClaimSpec) -> Measured:
    weights = c.totals["weights"]
    return weights, f"{weights / 1e6:.2f}M", d.value, d.value_text, f"{weights:,} conv and linear weights"


def _table_sum(c: _Ctx, d: ClaimSpec) -> Measured:
    """The rows' published params column summed (K = 1024 weights), and ours over the same rows."""
    paper_sum = sum(rc.row.paper.params for rc in c.rows if rc.row.paper and rc.row.paper.params)
    ours_sum = sum(rc.weights for rc in c.rows if rc.row.paper and rc.row.paper.params) or c.totals["weights"]
    note = (
        f"both print as {d.value / 1e6:g} thousand K (K = 1024); in units of 10^6: ours {ours_sum / 1e6:.2f}M weights,"
        f" the column {paper_sum / 1e6:.2f}M"
        if paper_sum
        else f"no params column in the spec; its weights: {c.totals['weights']:,}"
    )
    return ours_sum, f"{ours_sum / 1024:,.1f}K", round(paper_sum) or None, f"{paper_sum / 1024:,.1f}K", note


def _fewer_params_than(c: _Ctx, d: ClaimSpec) -> Measured | str:
    other, where = _versus_params_macs(c.graph.graph["spec"].file, d.versus or "")
    if other is None:
        return where
    theirs = other[0]
    params, weights = c.totals["params"], c.totals["weights"]
    no_fc = weights - sum(rc.weights for rc in c.rows if c.graph.nodes[rc.row.output]["op"] == "linear")
    variants = {
        "weights only": theirs / weights,
        "without our final linear": theirs / max(no_fc, 1),
        "with aux heads": theirs / (params + c.totals["params_aux"]),
    }
    shown = ", ".join(f"{k} {v:.1f}x" for k, v in variants.items())
    ratio = theirs / params
    lo, hi = theirs / (d.value + 0.5) / 1e6, theirs / (d.value - 0.5) / 1e6
    note = f"{d.versus} {theirs:,} / ours {params:,}; {shown}; {d.value_text}x would need {lo:.2f}-{hi:.2f}M params"
    return round(ratio, 2), f"{ratio:.2f}x", d.value, f"{d.value_text}x", note


def _macs_vs(c: _Ctx, d: ClaimSpec) -> Measured | str:
    other, where = _versus_params_macs(c.graph.graph["spec"].file, d.versus or "")
    if other is None:
        return where
    ratio = c.totals["macs"] / other[1]
    note = f"ours {c.totals['macs']:,} / {d.versus} {other[1]:,} MACs"
    return round(ratio, 3), f"{ratio:.3f}x", d.value, f"{d.value_text}x", note


def _depth(c: _Ctx, d: ClaimSpec) -> Measured:
    n, _ = depth(c.graph)
    note = "conv and linear layers on the longest input->output path; a depthwise+pointwise pair counts as one"
    return n, str(n), d.value, d.value_text, note


def _depth_with_pools(c: _Ctx, d: ClaimSpec) -> Measured:
    n, _ = depth(c.graph)
    dp, _ = depth(c.graph, pools=True)
    note = f"the same path plus its pooling layers ({dp - n}); LRN, dropout and concat not counted"
    return dp, str(dp), d.value, d.value_text, note


def _blocks(c: _Ctx, d: ClaimSpec) -> Measured:
    b, b_aux = blocks(c.graph), blocks(c.graph, aux=True)
    note = (
        f"IR nodes of the inference net (convs, pools, LRNs, dropout, linear, concats, adds; activations fused"
        f" into their convs); {b_aux} with the aux heads"
    )
    return b, str(b), d.value, f"~{d.value_text}", note


def _aux_heads(c: _Ctx, d: ClaimSpec) -> Measured:
    heads = c.graph.graph["aux"]
    p_aux, m_aux = c.totals["params_aux"], c.totals["macs_aux"]
    wanted = f"{d.value_text} heads" + (f", w {d.weight:g}" if d.weight is not None else "")
    if not heads:
        return 0, "no aux heads", d.value, wanted, "the spec declares none"
    taps = tuple(h.at for h in heads)
    macs, params = c.totals["macs"], c.totals["params"]
    note = (
        f"{len(heads)} heads at {', '.join(taps)} (weight {', '.join(f'{h.weight:g}' for h in heads)}):"
        f" +{p_aux:,} params (+{p_aux / max(params, 1):.0%}) and +{m_aux:,} MACs (+{m_aux / max(macs, 1):.2%}),"
        " in training only"
    )
    return p_aux, f"+{p_aux / 1e6:.2f}M params", None, wanted, note


_MEASURES: dict[str, Callable[[_Ctx, ClaimSpec], Measured | str]] = {
    "macs": _macs,
    "params": _params,
    "weights": _weights,
    "table_sum": _table_sum,
    "fewer_params_than": _fewer_params_than,
    "macs_vs": _macs_vs,
    "depth": _depth,
    "depth_with_pools": _depth_with_pools,
    "blocks": _blocks,
    "aux_heads": _aux_heads,
}


def _judge(c: _Ctx, d: ClaimSpec, ours: float) -> str:
    if d.measure == "aux_heads":
        heads = c.graph.graph["aux"]
        taps_ok = not d.at or tuple(h.at for h in heads) == d.at
        weight_ok = d.weight is None or all(h.weight == d.weight for h in heads)
        return HOLDS if heads and len(heads) == d.value and taps_ok and weight_ok else FAILS
    if d.measure == "table_sum":  # the claim is in the paper's units: thousands of K = 1024 weights
        ours = ours / (1024 * 1000) * 1e6
    if d.compare == "at_most":
        return HOLDS if ours <= d.value else CLOSE if ours <= d.value * (1 + NEAR) else FAILS
    if d.compare == "exact":
        return _verdict(ours, d.value, exact=True)
    if d.compare == "about":
        return _verdict(ours, d.value, about=True)
    return _verdict(ours, d.value, text=d.value_text)


def claims(graph: nx.DiGraph, totals: dict[str, Any], rows: list[RowCost]) -> list[Claim]:
    """The spec's declared claims, in the order it declares them."""
    ctx = _Ctx(graph, totals, rows)
    out: list[Claim] = []
    for d in graph.graph["spec"].claims:
        measured = _MEASURES[d.measure](ctx, d)
        if isinstance(measured, str):
            out.append(Claim(d.claim, NA, None, d.value, "", d.value_text, measured, d.source))
            continue
        ours, ours_text, paper, paper_text, note = measured
        out.append(Claim(d.claim, _judge(ctx, d, ours), ours, paper, ours_text, paper_text, note, d.source))
    return out


def claims_csv(found: list[Claim]) -> str:
    """The claims as CSV: claim, verdict, ours, paper, note."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["claim", "verdict", "ours", "paper", "note"])
    writer.writerows([c.claim, c.verdict, c.ours, c.paper, c.note] for c in found)
    return buf.getvalue()
