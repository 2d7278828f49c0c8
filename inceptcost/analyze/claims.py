"""The paper's claims about GoogLeNet, each recomputed from the IR with a verdict and a one-line reason.

Verdicts: `holds` (ours prints as the paper's figure at the paper's precision; for "about N" claims within
10%), `close` (within 15%), `does not hold`, or `n/a` where the spec is not the paper's network (it carries
no `paper:` values): ours is still computed, but not judged against a figure that is not about it.

The paper is Szegedy et al., "Going deeper with convolutions", arXiv 1409.4842 (2014); section numbers below
refer to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from .. import layers
from ..errors import InceptcostError
from .costs import RowCost
from .printed import OK, printed

# Section 1: "designed to keep a computational budget of 1.5 billion multiply-adds at inference time".
PAPER_MACS = "1.5G"
# Table 1's params column (K = 1024 weights), summed: 2.7 + 112 + 159 + ... + 1000 = 6,797.7K, "~6.8M".
PAPER_TABLE_SUM = "6.8M"
# Often quoted (e.g. Szegedy et al. 2015, "Rethinking the Inception Architecture", section 1: "GoogLeNet
# employed only 5 million parameters"); Table 1 itself never says so.
PAPER_OFTEN_QUOTED = "5M"
# Section 1: "uses 12x fewer parameters than the winning architecture of Krizhevsky et al [9]" (AlexNet).
PAPER_RATIO = 12
# Section 5: "The network is 22 layers deep when counting only layers with parameters (or 27 layers if we
# also count pooling)".
PAPER_DEPTH, PAPER_DEPTH_POOL = 22, 27
# Section 5: "The overall number of layers (independent building blocks) used for the construction of the
# network is about 100. However this number depends on the machine learning infrastructure system used."
PAPER_BLOCKS = 100
# Section 5: two auxiliary classifiers on top of 4a and 4d, loss weighted by 0.3, discarded at inference.
PAPER_AUX = {"heads": ("inception_4a", "inception_4d"), "weight": 0.3}

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
        kind = layers.KINDS.get(a["op"])
        own = 0
        if kind is not None and a["params"] and not a["args"].get("depthwise"):
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


def _alexnet_params(spec_file: str) -> tuple[int | None, str]:
    """Parameters of `alexnet.yaml` beside the spec (the shipped specs/alexnet.yaml)."""
    from ..graph.compile import compile_graph
    from ..spec import load_spec
    from .costs import summarize

    path = Path(spec_file).parent / "alexnet.yaml"
    if not path.is_file():
        return None, f"{path} not found"
    try:
        totals = summarize(compile_graph(load_spec(path)))
    except InceptcostError as exc:
        return None, f"{path}: {exc}"
    return totals["params"], str(path)


def claims(graph: nx.DiGraph, totals: dict[str, Any], rows: list[RowCost]) -> list[Claim]:
    spec = graph.graph["spec"]
    is_paper = any(rc.row.paper is not None for rc in rows)
    out: list[Claim] = []

    def add(claim: str, verdict: str, ours, paper, ours_text: str, paper_text: str, note: str) -> None:
        if not is_paper:
            verdict = NA  # not the paper's network: the spec has no `paper:` values
        out.append(Claim(claim, verdict, ours, paper, ours_text, paper_text, note))

    macs, params, weights = totals["macs"], totals["params"], totals["weights"]

    # 1.5G multiply-adds at inference.
    add(
        "1.5G multiply-adds at inference",
        _verdict(macs, 1.5e9, text=PAPER_MACS),
        macs,
        1.5e9,
        f"{macs / 1e9:.4f}G",
        PAPER_MACS,
        f"{macs:,} MACs (conv + linear, aux heads excluded) {'<=' if macs <= 1.5e9 else '>'} 1.5G",
    )

    # Table 1's params column sums to ~6.8M (in its own units: thousands of K = 1024).
    paper_sum = sum(rc.row.paper.params for rc in rows if rc.row.paper and rc.row.paper.params)
    ours_sum = sum(rc.weights for rc in rows if rc.row.paper and rc.row.paper.params)
    in_k = 1024 * 1000  # the paper's "M" of K = 1024 weights
    if not paper_sum:  # no params column to sum: ours is the whole net's weights
        ours_sum = weights
    add(
        "Table 1 params sum ~6.8M",
        _verdict(ours_sum / in_k * 1e6, 6.8e6, text=PAPER_TABLE_SUM),
        ours_sum,
        round(paper_sum) or None,
        f"{ours_sum / 1024:,.1f}K",
        f"{paper_sum / 1024:,.1f}K" if paper_sum else "",
        f"both print as 6.8 thousand K (K = 1024); in units of 10^6: ours {ours_sum / 1e6:.2f}M weights,"
        f" the column {paper_sum / 1e6:.2f}M"
        if paper_sum
        else f"no params column in the spec; its weights: {weights:,}",
    )

    # The often-quoted ~5M parameters.
    no_fc = weights - sum(rc.weights for rc in rows if graph.nodes[rc.row.output]["op"] == "linear")
    add(
        "~5M parameters (often quoted)",
        _verdict(params, 5e6, text=PAPER_OFTEN_QUOTED),
        params,
        5_000_000,
        f"{params / 1e6:.2f}M",
        PAPER_OFTEN_QUOTED,
        f"no counting of Table 1's layers gives 5M: params {params / 1e6:.2f}M, weights {weights / 1e6:.2f}M,"
        f" without the final linear {no_fc / 1e6:.2f}M, with aux heads {(params + totals['params_aux']) / 1e6:.1f}M",
    )

    # 12x fewer parameters than AlexNet.
    alex, where = _alexnet_params(spec.file)
    if alex is None:
        out.append(Claim("12x fewer params than AlexNet", NA, None, PAPER_RATIO, "", "12x", where))
    else:
        ratio = alex / params
        variants = {
            "weights only": alex / weights,
            "without GoogLeNet's final linear": alex / max(no_fc, 1),
            "with aux heads": alex / (params + totals["params_aux"]),
        }
        shown = ", ".join(f"{k} {v:.1f}x" for k, v in variants.items())
        add(
            "12x fewer params than AlexNet",
            _verdict(ratio, PAPER_RATIO, text="12"),
            round(ratio, 2),
            PAPER_RATIO,
            f"{ratio:.2f}x",
            "12x",
            f"AlexNet {alex:,} / ours {params:,}; {shown}; 12x would hold only for a GoogLeNet of"
            f" {alex / 12.5 / 1e6:.2f}-{alex / 11.5 / 1e6:.2f}M params (the often-quoted 5M)",
        )

    # 22 layers with parameters / 27 with pooling, along the longest path.
    d, _ = depth(graph)
    add(
        "22 layers deep (with parameters)",
        _verdict(d, PAPER_DEPTH, exact=True),
        d,
        PAPER_DEPTH,
        str(d),
        str(PAPER_DEPTH),
        "conv and linear layers on the longest input->output path; a depthwise+pointwise pair counts as one",
    )
    dp, _ = depth(graph, pools=True)
    add(
        "27 layers deep (with pooling)",
        _verdict(dp, PAPER_DEPTH_POOL, exact=True),
        dp,
        PAPER_DEPTH_POOL,
        str(dp),
        str(PAPER_DEPTH_POOL),
        f"the same path plus its pooling layers ({dp - d}); LRN, dropout and concat not counted",
    )

    # About 100 building blocks.
    b, b_aux = blocks(graph), blocks(graph, aux=True)
    add(
        "about 100 building blocks",
        _verdict(b, PAPER_BLOCKS, about=True),
        b,
        PAPER_BLOCKS,
        str(b),
        f"~{PAPER_BLOCKS}",
        f"IR nodes of the inference net (convs, pools, LRNs, dropout, linear, concats; ReLU fused); {b_aux} with"
        " the aux heads; the paper: 'depends on the infrastructure'",
    )

    # The training-time cost of the aux heads.
    heads = graph.graph["aux"]
    p_aux, m_aux = totals["params_aux"], totals["macs_aux"]
    if not heads:
        add("aux classifiers: training-time cost", FAILS, 0, 2, "no aux heads", "2 heads", "the spec declares none")
    else:
        taps = tuple(h.at for h in heads)
        as_paper = taps == PAPER_AUX["heads"] and all(h.weight == PAPER_AUX["weight"] for h in heads)
        add(
            "aux classifiers: training-time cost",
            HOLDS if as_paper else FAILS,
            p_aux,
            None,
            f"+{p_aux / 1e6:.2f}M params",
            "2 heads, w 0.3",
            f"{len(heads)} heads at {', '.join(taps)} (weight {', '.join(f'{h.weight:g}' for h in heads)}):"
            f" +{p_aux:,} params (+{p_aux / max(params, 1):.0%}) and +{m_aux:,} MACs (+{m_aux / max(macs, 1):.2%}),"
            " in training only",
        )
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
