"""The layer-kind registry: every kind that a spec may name has every rule (keys, shape, cost, memory, traffic,
diagram style), and its torch builder is registered."""

from __future__ import annotations

import pytest

from inceptcost import kinds
from inceptcost.analyze.memory.rules import MEMORY
from inceptcost.analyze.timing.traffic import RULES as TRAFFIC

pytest.importorskip("torch")

from inceptcost.graph.model.builders import BUILDERS  # noqa: E402

ALL = {**kinds.KINDS, "add": kinds.ADD}


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_kind_has_every_rule(name):
    kind = ALL[name]
    assert isinstance(kind.keys, dict)
    assert callable(kind.shape) and callable(kind.cost)
    assert kind.style, f"{name}: no diagram style"
    assert callable(MEMORY.get(name)), f"{name}: no memory rule in analyze/memory/rules.py MEMORY"
    assert callable(TRAFFIC.get(name)), f"{name}: no traffic rule in analyze/timing/traffic.py RULES"
    assert callable(BUILDERS.get(name)), f"{name}: no torch builder in graph/model/builders.BUILDERS"


def test_no_rule_without_a_kind():
    assert set(BUILDERS) == set(ALL)
    assert set(MEMORY) == set(ALL)
    assert set(TRAFFIC) == set(ALL) | {"concat"}  # the compiler's own concat node moves bytes too
