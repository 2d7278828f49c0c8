"""Unnamed layers get a default name (their kind and rank: flatten1, flatten2); the same kind twice, or a layer
named like another's default, is still a spec every command reads, its torch model has one module per name."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from inceptcost import compile_graph, load_spec
from inceptcost.kinds import KINDS

# the fewest keys each kind needs; a kind added to the registry must be added here
ARGS = {
    "conv": "kernel: 1, out: 4",
    "maxpool": "kernel: 1",
    "avgpool": "kernel: 1",
    "adaptive_avgpool": "output: 2x2",
    "bn": "",
    "activation": "activation: relu",
    "lrn": "",
    "dropout": "p: 0.5",
    "flatten": "",
    "linear": "out: 6",
}


def test_every_kind_is_covered() -> None:
    assert set(ARGS) == set(KINDS)


def _spec(tmp_path: Path, kind: str) -> Path:
    one = "{type: " + kind + (f", {ARGS[kind]}" if ARGS[kind] else "") + "}"
    text = f"""name: twice
input: 8x8x3
classes: 5
layers:
  - {{name: conv1, type: conv, kernel: 3, out: 4}}
  - {one}
  - {one}
  - {{name: {kind}2, type: relu}}
  - {one}
  - {{type: flatten}}
  - {{type: linear}}
"""
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("kind", sorted(ARGS))
def test_the_same_kind_unnamed_three_times_beside_a_layer_named_like_its_default(tmp_path: Path, kind: str) -> None:
    import torch

    from inceptcost.cli import app
    from inceptcost.graph.model import build_model

    path = _spec(tmp_path, kind)
    names = [n.name for n in load_spec(path).body.children]
    assert len(set(names)) == len(names) == 7 and f"{kind}2" in names
    for command in (["analyze"], ["memory"], ["predict"], ["diagram", "--out", str(tmp_path / "d.dot")]):
        result = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
        assert result.exit_code == 0, result.output + repr(result.exception)
    model = build_model(compile_graph(load_spec(path))).eval()
    assert model(torch.zeros(2, 3, 8, 8)).shape == (2, 5)
