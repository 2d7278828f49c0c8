"""The layer-kind registry: every kind an IR node can have holds every static rule (keys, shape, cost, memory,
traffic, diagram style) in its own module, each memory and traffic rule takes the one `RuleContext`, and its
torch builder is registered."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from inceptcost import kinds
from inceptcost.kinds import NODE_KINDS, TRAFFIC, Kind

RULES = ("shape", "cost", "memory", "traffic")


@pytest.mark.parametrize("name", sorted(NODE_KINDS))
def test_every_kind_has_every_rule(name):
    kind = NODE_KINDS[name]
    assert isinstance(kind, Kind)
    assert isinstance(kind.keys, dict)
    for rule in RULES:
        assert callable(getattr(kind, rule)), f"{name}: no {rule} rule"
    assert kind.style, f"{name}: no diagram style"


@pytest.mark.parametrize("name", sorted(NODE_KINDS))
def test_a_kind_s_memory_and_traffic_rules_live_in_one_module(name):
    """Adding a kind is one place: its memory and traffic rules sit beside each other in its family's module."""
    kind = NODE_KINDS[name]
    assert kind.memory.__module__ == kind.traffic.__module__, name
    assert kind.memory.__module__.startswith("inceptcost.kinds."), name


@pytest.mark.parametrize("name", sorted(NODE_KINDS))
def test_memory_and_traffic_rules_take_the_one_context(name):
    kind = NODE_KINDS[name]
    for rule in (kind.memory, kind.traffic):
        hints = inspect.signature(rule).parameters
        assert [p.annotation for p in hints.values()].count("RuleContext") == 1, f"{name}: {rule.__name__}"


def test_a_kind_without_a_rule_cannot_be_declared():
    conv = dataclasses.asdict(kinds.KINDS["conv"])
    for rule in RULES:
        partial = {k: v for k, v in conv.items() if k != rule}
        with pytest.raises(TypeError):
            Kind(**partial)


def test_the_registry_and_its_engines_agree():
    assert set(NODE_KINDS) == set(kinds.KINDS) | {"add"}  # the residual add is the compiler's node
    assert set(TRAFFIC) == set(NODE_KINDS) | {"concat"}  # the compiler's own concat node moves bytes too
    assert all(TRAFFIC[name] is kind.traffic for name, kind in NODE_KINDS.items())


def test_every_kind_has_a_torch_builder():
    pytest.importorskip("torch")
    from inceptcost.graph.model.builders import BUILDERS

    missing = [name for name in NODE_KINDS if not callable(BUILDERS.get(name))]
    assert not missing, f"no torch builder in graph/model/builders.BUILDERS for {missing}"
    assert set(BUILDERS) == set(NODE_KINDS)
