"""Wall time of `inceptcost analyze SPEC --format json` (a whole process) against the usual way of getting the
same totals (a whole process that builds the torch model and runs fvcore's FlopCountAnalysis + numel()).

    python benchmarks/bench_analyze.py [SPEC] [--reps 7]

Both run in the same session, alternating, `--reps` times each; the medians are reported with the speedup,
and the two sets of totals are checked to be equal (exit 1 if not). Goal: analyze >= 10x faster, < 0.5 s.
Both run with Python's bytecode caches, as an installed package has them: PYTHONDONTWRITEBYTECODE is dropped
from their environment so that the untimed first run of each writes the caches of the checkout's modules
(with it set, every run of either would compile the package's sources again).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str]) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr.strip()}")
    return wall, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default="specs/googlenet.yaml")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    ours_cmd = [sys.executable, "-m", "inceptcost", "analyze", args.spec, "--format", "json"]
    base_cmd = [sys.executable, str(ROOT / "benchmarks" / "fvcore_totals.py"), args.spec]
    timed(ours_cmd)  # warm the file and bytecode caches for both before timing
    timed(base_cmd)
    ours, base = [], []
    for _ in range(args.reps):
        wall, out_ours = timed(ours_cmd)
        ours.append(wall)
        wall, out_base = timed(base_cmd)
        base.append(wall)
    totals = json.loads(out_ours)["totals"]
    counted = json.loads(out_base)
    same = totals["params"] == counted["params"] and totals["macs"] == counted["macs"]
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    print(f"spec: {args.spec}   reps: {args.reps} each, alternating; cpus: {os.cpu_count()}")
    print(f"inceptcost analyze --format json : median {m_ours:.3f} s  (min {min(ours):.3f}, max {max(ours):.3f})")
    print(f"torch + fvcore + numel()         : median {m_base:.3f} s  (min {min(base):.3f}, max {max(base):.3f})")
    print(f"speedup: {m_base / m_ours:.1f}x   analyze under 0.5 s: {'yes' if m_ours < 0.5 else 'NO'}")
    print(
        f"totals: analyze params {totals['params']:,} MACs {totals['macs']:,}; fvcore params {counted['params']:,}"
        f" MACs {counted['macs']:,}: {'equal' if same else 'DIFFERENT'}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
