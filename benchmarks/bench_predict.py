"""How well `inceptcost predict` foretells measured step time, against a MACs-only baseline.

    python benchmarks/bench_predict.py [--quick] [--device cpu|cuda] [--threads N] [--profile FILE]
        [--specs NAME,...] [--generated N] [--rounds N]

1. Calibrates a device profile on microbenchmarks only (those of `inceptcost calibrate`; or reads --profile). The
   MACs-only baseline (step time = step MACs / one rate) is fitted by the same least squares on the same
   microbenchmark data. Neither sees a network below. Each measurement round below starts with one
   calibration round, so that the profile and the nets are timed in the same minutes: on a machine whose
   speed drifts by tens of per cent over minutes (a shared host), a profile fitted at another time is off by
   that drift for every net alike.
2. Nets: the shipped specs (specs/*.yaml) and generated ones (widths, depths, stem kernels, 3x3/5x5 branch
   kernels, input sizes, naive vs reduced modules, batch norm or not, LRN or not), each at 3 batch sizes
   (nets over 8 GMACs an image at 2).
3. Measures the step (train: forward + backward + SGD with momentum; infer: forward) of each case: threads
   pinned, warm-up steps, then rounds that visit every case in turn (a burst of load on a shared machine hits
   all cases alike); each visit runs one untimed step, then steps filling 0.25 s (at least one): a training
   loop's steady state; the median over rounds is kept and its spread ((max - min) / median) reported.
4. Prints, for the predictor and the baseline: MAPE of the step time, the share of cases within 10%, and
   Spearman's rank correlation, and the same three for the measurement against itself (the median of the odd
   rounds against that of the even ones: the floor under any predictor's score on this machine); writes
   reports/predict-DEVICE.md (and .json with every case).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from inceptcost import compile_graph, load_spec, summarize  # noqa: E402
from inceptcost.analyze.timing.predict import predict, step_macs  # noqa: E402
from inceptcost.analyze.timing.profile import load_profile, parse_profile  # noqa: E402
from inceptcost.io import write_atomic  # noqa: E402

SHIPPED_BATCHES = (1, 2, 4)
GENERATED_BATCHES = (2, 8, 32)  # 32: past the batch (16) where a CPU changes its 1x1 conv kernel
HEAVY_MACS = 8e9  # per image: googlenet-naive, inception-v4, inception-resnet-v2, xception take batches 1 and 2
HEAVY_BATCHES = (1, 2)


def generated_specs(n: int, seed: int = 0) -> list[dict]:
    """`n` GoogLeNet-style nets that differ in the ways the predictor must follow."""
    rng = random.Random(seed)
    specs, seen = [], set()
    i = 0
    while len(specs) < n:
        size = rng.choice((32, 48, 64, 96))
        width = rng.choice((0.25, 0.5, 0.75, 1.0))
        depth = rng.choice((1, 2, 3, 4))
        naive = i % 4 == 3
        norm = rng.choice(("bn", "none"))
        stem_k, stem_s = rng.choice(((3, 1), (5, 2), (7, 2)))
        k3, k5 = rng.choice(((3, 5), (3, 3), (5, 7), (1, 3)))

        def w(c: float, width: float = width) -> int:
            return max(4, int(round(c * width / 4)) * 4)

        layers = [{"name": "conv1", "type": "conv", "kernel": stem_k, "stride": stem_s, "out": w(64)}]
        if size >= 64:
            layers.append({"name": "pool1", "type": "maxpool", "patch": "3x3/2", "ceil": True})
        if rng.random() < 0.3:
            layers.append({"name": "norm1", "type": "lrn", "size": 5})
        layers.append({"name": "conv2", "type": "conv", "kernel": 3, "out": w(96)})
        for m in range(depth):
            grow = 1 + m * 0.5
            mod = {"name": f"inception_{m}", "type": "inception", "kernel_3x3": k3, "kernel_5x5": k5}
            if naive:
                mod.update({"naive": True, "1x1": w(32 * grow), "3x3": w(48 * grow), "5x5": w(16 * grow)})
            else:
                mod.update(
                    {
                        "1x1": w(64 * grow),
                        "3x3reduce": w(48 * grow),
                        "3x3": w(96 * grow),
                        "5x5reduce": w(12 * grow),
                        "5x5": w(32 * grow),
                        "poolproj": w(32 * grow),
                    }
                )
            layers.append(mod)
            if m == 1 and depth > 2:
                layers.append({"name": "pool_mid", "type": "maxpool", "patch": "3x3/2", "ceil": True})
        layers += [{"name": "gap", "type": "gap"}, {"name": "dropout", "type": "dropout", "p": 0.4}]
        layers.append({"name": "linear", "type": "linear"})
        i += 1
        key = (size, width, depth, naive, norm, stem_k, k3, k5, len(layers))
        if key in seen:  # the same net twice says nothing new
            continue
        seen.add(key)
        specs.append(
            {
                "name": f"gen{len(specs):02d}-{'naive' if naive else 'reduced'}-{size}px-s{stem_k}-d{depth}-w{width:g}"
                f"-k{k3}{k5}-{norm}{'-lrn' if any(x['type'] == 'lrn' for x in layers) else ''}",
                "input": f"{size}x{size}x3",
                "classes": 100,
                "defaults": {"activation": "relu", "bias": norm == "none", "norm": norm},
                "layers": layers,
            }
        )
    return specs


QUICK_SPECS = ("variant", "googlenet")


def shipped_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "specs").glob("*.yaml"))


def load_nets(
    quick: bool, tmp: Path, specs: list[str] | None = None, generated: int | None = None
) -> list[tuple[str, object, tuple[int, ...]]]:
    """The shipped specs named in `specs` (default: all; --quick: QUICK_SPECS) and `generated` generated nets
    (default 24; --quick: 8)."""
    if specs is None:
        specs = list(QUICK_SPECS) if quick else shipped_names()
    if generated is None:
        generated = 8 if quick else 24
    nets = []
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        if path.stem not in specs:
            continue
        spec = replace(load_spec(path), aux=())
        heavy = summarize(compile_graph(spec))["macs"] > HEAVY_MACS
        nets.append((spec.name, spec, HEAVY_BATCHES if heavy else SHIPPED_BATCHES))
    for data in generated_specs(generated):
        path = tmp / f"{data['name']}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        nets.append((data["name"], load_spec(path), GENERATED_BATCHES))
    return nets


def measure(
    cases, device: str, rounds: int, warmup: int, log, clock=time.perf_counter, min_s: float = 0.25, between=None
) -> None:
    """Time every case's step, round-robin: each round runs one untimed step, then enough steps to fill `min_s`
    (at most 8); sets case['median_ms'] and case['spread'] over the rounds. `between()` runs before each round
    (a calibration round: then the profile and the nets sample the same minutes of a machine whose speed drifts)."""
    import torch

    from inceptcost.graph.model import build_model
    from inceptcost.train.bench.runner import BenchConfig, _step_fn

    dev = torch.device(device)
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    models = {}
    for c in cases:
        if c["net"] not in models:
            models[c["net"]] = build_model(c["graph"]).to(dev)
        model = models[c["net"]]
        model.train(c["mode"] == "train")
        spec = c["graph"].graph["spec"]
        x = torch.randn(c["batch"], *spec.input, device=dev)
        y = torch.randint(0, spec.classes, (c["batch"],), device=dev)
        c["step"] = _step_fn(torch, model, BenchConfig(device=device, mode=c["mode"]), x, y)
        c["times"] = []
        for _ in range(warmup):
            c["step"]()
        sync()
        t0 = time.perf_counter()
        c["step"]()
        sync()
        c["calls"] = max(1, min(8, round(min_s / (time.perf_counter() - t0))))
    for r in range(rounds):
        t_round = time.perf_counter()
        if between:
            between()
        for c in cases:
            models[c["net"]].train(c["mode"] == "train")
            c["step"]()  # back in the caches and the allocator: the steady state a training loop runs in
            sync()
            t0 = clock()
            for _ in range(c["calls"]):
                c["step"]()
            sync()
            c["times"].append((clock() - t0) * 1e3 / c["calls"])
        log(f"round {r + 1}/{rounds}: {time.perf_counter() - t_round:.1f} s")
    for c in cases:
        c["median_ms"] = statistics.median(c["times"])
        c["spread"] = (max(c["times"]) - min(c["times"])) / c["median_ms"]
        del c["step"], c["calls"]


def spearman(a: list[float], b: list[float]) -> float:
    def ranks(v):
        order = sorted(range(len(v)), key=v.__getitem__)
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return cov / var if var else 0.0


def scores(pred: list[float], meas: list[float]) -> dict[str, float]:
    errs = [abs(p - m) / m for p, m in zip(pred, meas, strict=True)]
    return {
        "mape": statistics.fmean(errs),
        "within_10": sum(e <= 0.10 for e in errs) / len(errs),
        "spearman": spearman(pred, meas),
    }


def versions(device: str) -> dict[str, str]:
    import torch

    out = {
        "torch": str(torch.__version__),
        "python": platform.python_version(),
        "threads": str(torch.get_num_threads()),
    }
    if device == "cuda":
        out["cuda"] = str(torch.version.cuda)
    return out


def report(result: dict) -> str:
    s, b, m = result["predictor"], result["baseline"], result["self"]
    goals = {"mape": s["mape"] <= 0.10, "within_10": s["within_10"] >= 0.80, "spearman": s["spearman"] >= 0.95}
    beats = {
        "mape": s["mape"] < b["mape"],
        "within_10": s["within_10"] > b["within_10"],
        "spearman": s["spearman"] > b["spearman"],
    }
    lines = [
        f"# Predicted against measured step time ({result['device_name']})",
        "",
        f"Generated by `{result['command']}` on {result['date']}; do not edit by hand.",
        "",
        f"- device: {result['device_name']} ({result['device']}), versions: "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        f"- profile: {result['profile']['name']} ({result['profile']['source']}, {result['profile']['date']}),"
        f" fitted on microbenchmarks only; MACs-only baseline: {result['macs_rate_gmacs']:.2f} GMAC/s, the same fit",
        f"- {len(result['cases'])} cases ({result['nets']} nets x 2-3 batch sizes, mode {result['mode']}),"
        f" {result['rounds']} interleaved rounds after {result['warmup']} warm-up steps, median kept"
        + (", each round after one calibration round" if result["calibrated_between"] else "")
        + f" ({result['clock']} clock);"
        f" median spread of the rounds {result['median_spread']:.0%}, worst {result['max_spread']:.0%}",
        "",
        "| | MAPE | within 10% | Spearman |",
        "|:---|---:|---:|---:|",
        f"| predictor | {s['mape']:.1%} | {s['within_10']:.0%} | {s['spearman']:.3f} |",
        f"| MACs only | {b['mape']:.1%} | {b['within_10']:.0%} | {b['spearman']:.3f} |",
        "| goal | <= 10% | >= 80% | >= 0.95 |",
        f"| the measurement against itself (odd rounds' median against even rounds') | {m['mape']:.1%} |"
        f" {m['within_10']:.0%} | {m['spearman']:.3f} |",
        "",
        "Goals met: "
        + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in goals.items())
        + "; better than MACs only: "
        + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in beats.items()),
        "",
        "| net | batch | measured ms | spread | predicted ms | error | MACs-only ms | error |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in result["cases"]:
        lines.append(
            f"| {c['net']} | {c['batch']} | {c['measured_ms']:.2f} | {c['spread']:.0%} | {c['predicted_ms']:.2f} |"
            f" {c['predicted_ms'] / c['measured_ms'] - 1:+.0%} | {c['baseline_ms']:.2f} |"
            f" {c['baseline_ms'] / c['measured_ms'] - 1:+.0%} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer nets and rounds (a few minutes)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=1, help="CPU threads, pinned for calibration and nets")
    ap.add_argument("--profile", type=Path, help="use this profile instead of calibrating now")
    ap.add_argument("--mode", default="train", choices=("train", "infer"))
    ap.add_argument("--rounds", type=int, help="measurement rounds, at least 2 (default 3 quick, 7 full)")
    ap.add_argument(
        "--specs", help="shipped specs to time, comma-separated file stems (default: all; --quick: variant,googlenet)"
    )
    ap.add_argument("--generated", type=int, help="generated nets to time (default 24; --quick: 8)")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "reports")
    ap.add_argument(
        "--clock",
        default="wall",
        choices=("wall", "cpu"),
        help="cpu: the thread's CPU time, for calibration and nets alike (1 CPU thread on a machine shared with other jobs)",
    )
    args = ap.parse_args(argv)
    if args.rounds is not None and args.rounds < 2:  # the measurement's self-agreement compares two halves
        raise SystemExit(f"error: --rounds must be at least 2, got {args.rounds}")
    if args.generated is not None and args.generated < 0:
        raise SystemExit(f"error: --generated must be 0 or more, got {args.generated}")
    specs = None
    if args.specs is not None:
        specs = [s.strip() for s in args.specs.split(",") if s.strip()]
        unknown = sorted(set(specs) - set(shipped_names()))
        if unknown:
            raise SystemExit(
                f"error: --specs: no shipped spec {', '.join(unknown)}; choose from {', '.join(shipped_names())}"
            )
    if specs == [] and args.generated == 0:
        raise SystemExit("error: --specs names none and --generated is 0: there is nothing to time")
    try:  # before the minutes of timing, not after
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SystemExit(f"error: --out-dir {args.out_dir}: {e.strerror}; give a folder you can write") from None
    import torch

    from inceptcost.train.bench.calibrate import CLOCKS, Calibration, check_clock

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.perf_counter()
    rounds = args.rounds or (3 if args.quick else 7)
    cal = None
    if args.profile:
        profile = load_profile(args.profile)
        profile.check_device(args.device)
        if "fit" not in profile.extra:
            raise SystemExit(f"error: {args.profile}: has no 'fit' (the MACs-only rate); calibrate a profile")
    else:
        threads = args.threads if args.device == "cpu" else None
        cal = Calibration(args.device, quick=args.quick, threads=threads, clock=args.clock)
    with tempfile.TemporaryDirectory() as tmp:
        nets = load_nets(args.quick, Path(tmp), specs, args.generated)
    cases = [
        {"net": name, "graph": compile_graph(spec), "batch": b, "mode": args.mode}
        for name, spec, batches in nets
        for b in batches
    ]
    log(f"measuring {len(cases)} cases ({len(nets)} nets)" + (", a calibration round before each round" if cal else ""))
    check_clock(args.clock, args.device, args.threads if args.device == "cpu" else None)
    clock = CLOCKS[args.clock]
    measure(cases, args.device, rounds, 1 if args.quick else 2, log, clock, between=cal and cal.run_round)
    if cal:
        data = cal.fit()
        profile = parse_profile(data, f"calibrated now ({args.device})")
        stem_name = f"predict-{args.device}{'-quick' if args.quick else ''}-profile.yaml"
        write_atomic(args.out_dir / stem_name, yaml.safe_dump(data, sort_keys=False))
    macs_rate = profile.extra["fit"]["macs_only_gmacs_per_s"] * 1e9
    for c in cases:  # predicted only now: the profile is fitted after the rounds that also timed the nets
        c["predicted_ms"] = predict(c["graph"], profile, c["batch"], "fp32", args.mode).step_ms
        c["step_macs"] = step_macs(c["graph"], c["batch"], args.mode)
        c["baseline_ms"] = c["step_macs"] / macs_rate * 1e3
        c["measured_ms"] = c["median_ms"]
    meas = [c["measured_ms"] for c in cases]
    for c in cases:
        del c["graph"]
    cmd = "python benchmarks/bench_predict.py" + (" --quick" if args.quick else "")
    cmd += f" --device {args.device}" + (f" --threads {args.threads}" if args.device == "cpu" else "")
    cmd += f" --clock {args.clock}" if args.clock != "wall" else ""
    cmd += f" --profile {args.profile}" if args.profile else ""
    cmd += f" --specs {','.join(specs)}" if specs is not None else ""
    cmd += f" --generated {args.generated}" if args.generated is not None else ""
    cmd += f" --rounds {args.rounds}" if args.rounds is not None else ""
    spreads = sorted(c["spread"] for c in cases)
    result = {
        "command": cmd,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "device": args.device,
        "device_name": profile.device_name,
        "versions": versions(args.device),
        "profile": {"name": profile.name, "source": profile.source, "date": profile.date},
        "macs_rate_gmacs": macs_rate / 1e9,
        "mode": args.mode,
        "nets": len(nets),
        "calibrated_between": cal is not None,
        "rounds": rounds,
        "clock": args.clock,
        "warmup": 1 if args.quick else 2,
        "median_spread": statistics.median(spreads),
        "max_spread": spreads[-1],
        # how far the measurement is from itself: the median of the odd rounds against that of the even rounds
        "self": scores(
            [statistics.median(c["times"][1::2]) for c in cases], [statistics.median(c["times"][::2]) for c in cases]
        ),
        "predictor": scores([c["predicted_ms"] for c in cases], meas),
        "baseline": scores([c["baseline_ms"] for c in cases], meas),
        "seconds": time.perf_counter() - t0,
        "cases": cases,
    }
    stem = args.out_dir / f"predict-{args.device}{'-quick' if args.quick else ''}"
    write_atomic(stem.with_suffix(".json"), json.dumps(result, indent=2))
    text = report(result)
    write_atomic(stem.with_suffix(".md"), text)
    print("\n".join(text.splitlines()[:17]))
    print(f"({len(cases)} cases in {result['seconds']:.0f} s; all rows in {stem}.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
