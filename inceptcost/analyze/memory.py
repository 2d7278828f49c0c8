"""Activation and training memory, read off the IR's shapes. Estimates, with the rules stated:

- A tensor's bytes = batch x numel(shape) x bytes of the dtype. ReLU runs in place inside its conv unit (as
  torch does), so a conv row owns one output tensor; dropout at inference returns its input (no new tensor).
- Inference peak: walk the main net's nodes in topological order (the order the compiler added them: branch
  by branch, then the concat). Running a node allocates its output while its inputs are still alive; a tensor
  is freed once its last consumer has run, so a module's input stays alive until its last branch has read it
  and every branch output stays alive until the concat. The peak is the largest sum of live tensors at any
  step (the input image included). Weights are not in it (see `weights_bytes`).
- Training: weights + gradients + optimizer state, all fp32 (mixed precision keeps fp32 master weights; SGD
  with momentum keeps 1 extra copy, the paper's optimizer), plus saved activations: every node's output in
  the training graph (main net and aux heads, the input image included) kept for backward in the chosen
  dtype. Workspace, the allocator's slack and max-pool indices are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod as numel
from typing import Any

import networkx as nx

from ..errors import InceptcostError, SettingError, literal

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "fp64": 8}
_ALIASES = {
    "float32": "fp32",
    "float": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "float64": "fp64",
}
PARAM_BYTES = 4  # fp32 master weights, gradients and momentum
OPTIMIZER_COPIES = 1  # SGD with momentum: one momentum buffer per parameter


def dtype_bytes(dtype: str) -> tuple[str, int]:
    name = _ALIASES.get(dtype.lower(), dtype.lower())
    if name not in DTYPE_BYTES:
        raise InceptcostError(f"unknown dtype '{dtype}'", hint=f"one of: {', '.join(DTYPE_BYTES)}")
    return name, DTYPE_BYTES[name]


@dataclass(frozen=True)
class Memory:
    batch: int
    dtype: str
    rows: dict[str, dict[str, int]]  # row -> {"output": bytes of its output, "saved": bytes of all its tensors}
    peak_bytes: int
    peak_at: str
    weights_bytes: int  # main-net parameters in fp32 (what inference keeps beside the activations)
    training: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "dtype": self.dtype,
            "peak_inference_bytes": self.peak_bytes,
            "peak_at": self.peak_at,
            "weights_bytes": self.weights_bytes,
            "training": dict(self.training),
            "rows": {k: dict(v) for k, v in self.rows.items()},
        }


def _main_nodes(graph: nx.DiGraph) -> list[str]:
    return [n for n in graph.nodes if graph.nodes[n]["aux"] is None]


def _aliases_input(attrs: dict) -> bool:
    return attrs["op"] == "dropout"  # identity at inference


def inference_peak(graph: nx.DiGraph, batch: int, per: int) -> tuple[int, str]:
    """The largest sum of live tensors while running the main net in topological order (rules above)."""
    order = _main_nodes(graph)
    main = set(order)
    left = {n: sum(1 for s in graph.successors(n) if s in main) for n in order}
    size: dict[str, int] = {}
    live = 0
    peak, peak_at = 0, order[0] if order else ""
    for n in order:
        attrs = graph.nodes[n]
        preds = list(graph.predecessors(n))
        if _aliases_input(attrs) and len(preds) == 1 and left[preds[0]] == 1:
            size[n], size[preds[0]] = size[preds[0]], 0  # hands its input's buffer on
        else:
            size[n] = batch * numel(attrs["out_shape"]) * per
            live += size[n]
        if live > peak:
            peak, peak_at = live, n
        for p in preds:
            left[p] -= 1
            if left[p] == 0 and p != graph.graph["output"]:
                live -= size[p]
        if left[n] == 0 and n != graph.graph["output"]:
            live -= size[n]  # a tensor nobody reads (should not happen in a valid net)
    return peak, peak_at


def memory(graph: nx.DiGraph, batch: int = 1, dtype: str = "fp32") -> Memory:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SettingError(f"{{batch}} must be a whole number >= 1, got {literal(repr(batch))}")
    name, per = dtype_bytes(dtype)
    rows: dict[str, dict[str, int]] = {}
    for row in (*graph.graph["rows"], *graph.graph["aux"]):
        out = graph.nodes[row.output]
        saved = sum(numel(graph.nodes[n]["out_shape"]) for n in row.nodes)
        rows[row.name] = {"output": batch * numel(out["out_shape"]) * per, "saved": batch * saved * per}
    peak, peak_at = inference_peak(graph, batch, per)
    main_params = sum(graph.nodes[n]["params"] for n in _main_nodes(graph))
    all_params = sum(a["params"] for _, a in graph.nodes(data=True))
    saved = batch * per * sum(numel(a["out_shape"]) for _, a in graph.nodes(data=True))
    weights = all_params * PARAM_BYTES
    training = {
        "params": all_params,
        "weights_bytes": weights,
        "grads_bytes": weights,
        "optimizer_bytes": OPTIMIZER_COPIES * weights,
        "activations_bytes": saved,
    }
    training["total_bytes"] = sum(v for k, v in training.items() if k.endswith("_bytes"))
    return Memory(batch, name, rows, peak, peak_at, main_params * PARAM_BYTES, training)
