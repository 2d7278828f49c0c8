"""The layer-kind registry: every kind that a spec may name has every rule, and its torch builder is registered."""

from __future__ import annotations

import pytest

from inceptcost import layers

pytest.importorskip("torch")

from inceptcost.layer_builders import BUILDERS  # noqa: E402

ALL = {**layers.KINDS, "add": layers.ADD}


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_kind_has_every_rule(name):
    kind = ALL[name]
    assert isinstance(kind.keys, dict)
    assert callable(kind.shape) and callable(kind.cost)
    assert kind.style, f"{name}: no diagram style"
    assert callable(BUILDERS.get(name)), f"{name}: no torch builder in layer_builders.BUILDERS"


def test_no_builder_without_a_kind():
    assert set(BUILDERS) == set(ALL)
