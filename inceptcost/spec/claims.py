"""Published claims declared in a spec (`claims:`): what is counted, the value, how it is compared, the source.
`analyze/costs/claims.py` recomputes each from the IR; nothing about one paper is written in the package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import kinds
from ..errors import did_you_mean
from ..quantities import parse_count
from .yamlsafe import LineMap

# What a declared claim counts (each fixes its unit): MACs of the inference net, its params or weights, the sum
# of the rows' published params column (weights, K = 1024), params N times fewer than the `versus` spec's, MACs
# N times the `versus` spec's, layers with weights on the longest path (and with pooling), IR op nodes, and the
# aux heads (`at`, `weight`).
MEASURES = (
    "macs",
    "params",
    "weights",
    "table_sum",
    "fewer_params_than",
    "macs_vs",
    "depth",
    "depth_with_pools",
    "blocks",
    "aux_heads",
)
COMPARES = ("printed", "about", "exact", "at_most")


@dataclass(frozen=True)
class ClaimSpec:
    """A published figure the spec is checked against: what is counted, the value and where it is printed."""

    claim: str
    measure: str
    value: float
    value_text: str
    source: str
    compare: str = "printed"  # ours prints as the value | within 10% | equal | not above
    versus: str | None = None  # another spec file, relative to this one (the ratio measures)
    at: tuple[str, ...] = ()  # aux_heads: the rows they tap
    weight: float | None = None  # aux_heads: their loss weight
    line: int | None = None


def read_claims(reader: Any, data: LineMap, rows: set[str]) -> tuple[ClaimSpec, ...]:
    """The spec's `claims:` list; `reader` is the spec reader (its errors name the file and line)."""
    if "claims" not in data:
        return ()
    raw = data["claims"]
    example = "e.g. claims: [{claim: '1.5G multiply-adds', measure: macs, value: 1.5G, source: 'section 1'}]"
    if not isinstance(raw, list):
        raise reader.error("'claims' must be a list", data.line_of("claims"), "claims", example)
    out = []
    for i, item in enumerate(raw, 1):
        m = reader.mapping(item, getattr(item, "line", data.line_of("claims")), f"claim {i}", "a claim")
        where = f"claim {i}"
        reader.check_keys(m, ("claim", "measure", "value", "source", "compare", "versus", "at", "weight"), where)
        for key in ("claim", "measure", "value", "source"):
            if key not in m:
                raise reader.error(f"missing '{key}'", m.line, where, example)
        for key in ("claim", "source", "versus"):
            if key in m and not isinstance(m[key], str):
                raise reader.error(f"'{key}' must be text", m.line_of(key), where, "quote it")
        measure = reader.value(m, "measure", kinds.choice(*MEASURES), where)
        compare = reader.value(m, "compare", kinds.choice(*COMPARES), where) if "compare" in m else "printed"
        value = reader.value(m, "value", parse_count, where, "write a number such as 1.5G, 25M or 22")
        needs_versus = measure in ("fewer_params_than", "macs_vs")
        if needs_versus and "versus" not in m:
            raise reader.error(
                f"measure {measure} needs 'versus'",
                m.line,
                where,
                "name the other spec file, e.g. versus: alexnet.yaml",
            )
        if "versus" in m and not needs_versus:
            raise reader.error(
                "'versus' applies to fewer_params_than and macs_vs only", m.line_of("versus"), where, "drop 'versus'"
            )
        at: tuple[str, ...] = ()
        if "at" in m:
            if measure != "aux_heads" or not isinstance(m["at"], list):
                raise reader.error("'at' is a list of rows, for measure aux_heads only", m.line_of("at"), where)
            for name in m["at"]:
                if name not in rows:
                    raise reader.error(
                        f"'at' names no layer: '{name}'", m.line_of("at"), where, did_you_mean(str(name), rows)
                    )
            at = tuple(m["at"])
        weight = reader.value(m, "weight", kinds.pos_float, where) if "weight" in m else None
        out.append(
            ClaimSpec(
                claim=m["claim"],
                measure=measure,
                value=value,
                value_text=str(m["value"]),
                source=m["source"],
                compare=compare,
                versus=m.get("versus"),
                at=at,
                weight=weight,
                line=m.line,
            )
        )
    return tuple(out)
