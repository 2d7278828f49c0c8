"""inceptcost: static analysis, cost modeling and training of Inception-style CNNs declared in YAML.

Flow: spec (YAML) -> IR graph (networkx, shapes inferred) -> costs | torch model | diagram | trainer.
`load_spec`, `compile_graph` and the costs never import torch; `build_model` does.
"""

from __future__ import annotations

from typing import Any

from .analyze.costs import costs_table, row_costs, summarize
from .graph.compile import compile_graph
from .spec import Spec, load_spec

__version__ = "0.1.0"


def build_model(spec_or_graph: Any, aux: bool = False, fast: Any = False):
    """Spec or IR graph -> torch nn.Module with the IR's dotted names (imports torch); aux heads only with `aux`;
    `fast`: True or a FastOptions (inceptcost.graph.model.fast) for the fast build of the same model."""
    from .graph.model import build_model as _build

    return _build(spec_or_graph, aux=aux, fast=fast)


def _spec_html(spec: Spec) -> str:
    """A spec in Jupyter shows its analysis (Table 1 view and totals). Registered here, above both, so that the
    spec package never imports analyze."""
    from .analyze.analysis import analyze_spec

    return analyze_spec(spec)._repr_html_()


Spec._repr_html_ = _spec_html  # type: ignore[attr-defined]

__all__ = ["Spec", "build_model", "compile_graph", "costs_table", "load_spec", "row_costs", "summarize"]
