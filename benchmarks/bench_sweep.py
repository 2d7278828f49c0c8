"""Variants per second of `inceptcost sweep` (static costs of width-scaled variants), median of repeats.

    PYTHONPATH=. python benchmarks/bench_sweep.py [SPEC] [--width 0.25:2.0:0.25] [--repeats 7] [--rounds 20]

Also times the slow path (scale_spec + compile_graph + summarize) that the fast walk must equal.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inceptcost import compile_graph, load_spec, summarize  # noqa: E402
from inceptcost.analyze.costs.sweep import Sweep, parse_widths  # noqa: E402


def rate(fn, widths: list[float], rounds: int) -> float:
    t = time.perf_counter()
    for _ in range(rounds):
        for w in widths:
            fn(w)
    return rounds * len(widths) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default="specs/googlenet.yaml")
    ap.add_argument("--width", default="0.25:2.0:0.25")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    spec = load_spec(a.spec)
    widths = parse_widths(a.width)
    t = time.perf_counter()
    s = Sweep(spec)
    fast = [rate(s.costs, widths, a.rounds) for _ in range(a.repeats)]
    slow = [rate(lambda w: summarize(compile_graph(s.spec(w))), widths, max(1, a.rounds // 10)) for _ in range(3)]
    print(f"spec {spec.name}, {len(widths)} widths x {a.rounds} rounds, {a.repeats} repeats")
    print(f"sweep (fast walk):            median {statistics.median(fast):8.0f} variants/s (min {min(fast):.0f})")
    print(f"scale + compile_graph + sum:  median {statistics.median(slow):8.0f} variants/s")
    print(f"total {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
