"""GoogLeNet on one GPU: ours (both shipped specs) against torchvision's, bf16 + channels_last, train and infer,
eager and torch.compile, all in one harness (inceptcost.train.bench.runner). Prints a compact table; writes
$OUT/gpu_bench.json when OUT is set (or GB_JSON=path).

    python benchmarks/gpu_bench.py                      # the full run (~5-8 min on one H100)
    GB_DEVICE=cpu GB_BATCH=2 GB_STEPS=1 GB_WARMUP=1 GB_REPEATS=1 GB_COMPILE=0 python benchmarks/gpu_bench.py

Settings (environment): GB_DEVICE (cuda), GB_BATCH (256), GB_STEPS (20), GB_WARMUP (10), GB_REPEATS (5),
GB_MODES (train,infer), GB_COMPILE (0,1), GB_SPECS (specs/googlenet-torchvision.yaml,specs/googlenet.yaml),
GB_TORCHVISION (1), GB_TORCHVISION_FIRST (0: ours first), GB_PER_LAYER (1 on cuda: per-layer times of the first spec, eager bf16 inference).
Needs torch, torchvision (for the comparison), networkx and pyyaml; nothing else.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inceptcost import load_spec  # noqa: E402
from inceptcost.errors import ToolMissing  # noqa: E402
from inceptcost.train.bench.runner import BenchConfig, bench_subject, spec_subject, torchvision_subject  # noqa: E402


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def main() -> int:
    import torch

    device = env("GB_DEVICE", "cuda")
    base = dict(
        device=device,
        batch=int(env("GB_BATCH", "256")),
        amp=True,
        channels_last=True,
        steps=int(env("GB_STEPS", "20")),
        warmup=int(env("GB_WARMUP", "10")),
        repeats=int(env("GB_REPEATS", "5")),
    )
    modes = env("GB_MODES", "train,infer").split(",")
    compiles = [c.strip() == "1" for c in env("GB_COMPILE", "0,1").split(",")]
    specs = [load_spec(p) for p in env("GB_SPECS", "specs/googlenet-torchvision.yaml,specs/googlenet.yaml").split(",")]
    subjects = [spec_subject(s) for s in specs]
    notes = []
    if env("GB_TORCHVISION", "1") == "1":
        try:
            tv = torchvision_subject(specs[0])
            subjects = [tv, *subjects] if env("GB_TORCHVISION_FIRST", "0") == "1" else [*subjects, tv]
        except ToolMissing as exc:
            notes.append(f"torchvision skipped: {exc}")
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    rows, t0 = [], time.perf_counter()
    for compile_ in compiles:
        for mode in modes:
            cfg = BenchConfig(mode=mode, compile=compile_, **base)
            for subject in subjects:
                t = time.perf_counter()
                try:
                    row = bench_subject(subject, cfg)
                except Exception as exc:  # noqa: BLE001 - one failed config must not lose the others
                    row = {"model": subject.name, "mode": mode, "compile": compile_, "error": repr(exc)[:300]}
                row["wall_s"] = time.perf_counter() - t
                rows.append(row)
                print(
                    f"[{time.perf_counter() - t0:6.1f}s] {row['model']:40s} {mode:5s} compile={int(compile_)} "
                    f"{row.get('images_per_s') or 0:10.1f} img/s  {row.get('error') or ''}",
                    flush=True,
                )
                if compile_:
                    torch._dynamo.reset()
    per_layer = None
    if env("GB_PER_LAYER", "1" if device.startswith("cuda") else "0") == "1":
        from inceptcost.train.bench.per_layer import per_layer as run_per_layer

        per_layer = run_per_layer(specs[0], BenchConfig(mode="infer", **{**base, "steps": 10, "warmup": 3}))

    print(
        "\nmodel                                     mode   compile  batch    images/s   ms/step  TFLOP/s    MFU  mem"
    )
    for r in rows:
        if r.get("images_per_s") is None:
            print(f"{r['model']:41s} {r['mode']:6s} {int(r['compile']):7d}  error: {r.get('error')}")
            continue
        mfu = f"{r['mfu']:6.1%}" if r.get("mfu") is not None else "     -"
        print(
            f"{r['model']:41s} {r['mode']:6s} {int(r['compile']):7d} {r['batch']:6d} {r['images_per_s']:11.1f}"
            f" {r['ms_per_step']:9.2f} {r['tflops']:8.1f} {mfu} {r['peak_mem_bytes'] / 2**30:5.1f}G"
        )
    first = next((r for r in rows if r.get("device_name")), {})
    print(
        f"device: {first.get('device_name')}; math {first.get('math')}; MFU vs {first.get('peak_source')};"
        " FLOPs = 2 x MACs per image (x3 train)"
    )
    if per_layer:
        print(
            f"\nper-layer (eager bf16 inference, batch {per_layer['batch']}): op, MACs share, time share, ms, roofline ms"
        )
        for g in per_layer["by_op"]:
            roof = f"{g['roofline_ms']:.3f}" if g["roofline_ms"] is not None else "-"
            print(f"  {g['op']:18s} {g['macs_share']:6.1%} {g['time_share']:6.1%} {g['measured_ms']:8.3f} {roof:>8s}")
    for n in notes:
        print(n)
    out = {"rows": rows, "per_layer": per_layer, "notes": notes, "torch": torch.__version__}
    path = os.environ.get("GB_JSON") or (
        os.path.join(os.environ["OUT"], "gpu_bench.json") if os.environ.get("OUT") else None
    )
    if path:
        Path(path).write_text(json.dumps(out, indent=2))
        print(f"wrote {path}")
    return 0 if all(r.get("images_per_s") for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
