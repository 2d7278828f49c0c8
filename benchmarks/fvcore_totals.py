"""Totals of a spec the usual way: build the torch model, count parameters with numel() and multiply-adds
with fvcore's FlopCountAnalysis (conv and linear handles only, as inceptcost counts MACs).

    python benchmarks/fvcore_totals.py specs/googlenet.yaml   ->   {"params": ..., "macs": ...}

The baseline that benchmarks/bench_analyze.py times against `inceptcost analyze --format json`.
"""

from __future__ import annotations

import json
import sys

# fvcore names its per-operator counts after the handle: conv for aten::_convolution, linear / addmm / matmul
# for the linear layers. Everything else (batch norm, adaptive pooling, ...) is not a multiply-add of ours.
MAC_OPERATORS = ("conv", "linear", "addmm", "matmul", "mm", "bmm")


def fvcore_totals(spec_path: str) -> dict[str, int]:
    import torch
    from fvcore.nn import FlopCountAnalysis

    from inceptcost import build_model, load_spec

    spec = load_spec(spec_path)
    model = build_model(spec).eval()
    aux = tuple(f"{name}." for name in model.aux_names)
    params = sum(p.numel() for n, p in model.named_parameters() if not n.startswith(aux))
    x = torch.zeros(1, *spec.input)  # (C, H, W)
    with torch.no_grad():
        flops = FlopCountAnalysis(model, x)
        flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        by_op = flops.by_operator()
    return {"params": params, "macs": int(sum(v for k, v in by_op.items() if k in MAC_OPERATORS))}


if __name__ == "__main__":
    print(json.dumps(fvcore_totals(sys.argv[1] if len(sys.argv) > 1 else "specs/googlenet.yaml")))
