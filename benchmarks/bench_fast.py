"""The fast build against the plain model and torchvision's GoogLeNet, in one run, with one row per optimization.

    python benchmarks/bench_fast.py                    # GPU: batch 64 and 256, bf16 + channels_last, eager and compiled
    FB_COMPILE=0 python benchmarks/bench_fast.py       # the same in two parts (compiling takes most of a GPU run)
    FB_COMPILE=1 python benchmarks/bench_fast.py
    FB_DEVICE=cpu python benchmarks/bench_fast.py      # CPU: batch 4, fp32, eager

Subjects: torchvision's GoogLeNet (skipped with a note when torchvision is not importable), our plain model, the
fast model (FastOptions() defaults) and ablations: the fast model without each default optimization, with each
optional one (slice_concat, channels_last on CPU; cuda_graphs on CUDA: the whole step captured by hand in eager
mode, torch.compile(mode="reduce-overhead") when compiled). All subjects of one (compile, mode, batch) group are
built and warmed up first, then timed in interleaved rounds (each round times every subject for FB_STEPS steps),
so that load from other processes falls on all of them alike; ms/step is the median over rounds, with the
fastest and slowest round beside it. FLOPs = 2 x MACs per image (x3 for a train step), each model's own count;
MFU against the device's dense peak for the math in use (inceptcost.train.bench.peaks).

Settings (environment): FB_DEVICE (cuda when available, else cpu), FB_SPEC (specs/googlenet-torchvision.yaml),
FB_BATCHES (64,256 | 4), FB_MODES (train,infer), FB_COMPILE (0,1 | 0), FB_COMPILE_BATCHES (256: compiling
takes most of a GPU run), FB_ABLATION (1), FB_ABLATION_COMPILE (0), FB_TORCHVISION (1), FB_SUBJECTS (every
subject; else the named ones, comma-separated: torchvision,plain,fast,...), FB_STEPS (20 | 2), FB_WARMUP (5 | 1),
FB_REPEATS (5 | 7), FB_JSON (path; default $OUT/bench_fast.json when OUT is set; rewritten after each group, so
that a run cut short keeps the groups it finished).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inceptcost import compile_graph, load_spec, summarize  # noqa: E402
from inceptcost.errors import ToolMissing  # noqa: E402
from inceptcost.graph.model import build_model  # noqa: E402
from inceptcost.graph.model.fast import FastOptions  # noqa: E402
from inceptcost.train.bench import peaks  # noqa: E402
from inceptcost.train.bench.runner import Timer, torchvision_subject  # noqa: E402


def env(name: str, gpu: str, cpu: str | None = None) -> str:
    return os.environ.get(name, gpu if CUDA or cpu is None else cpu)


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def subjects(spec, device: str) -> tuple[list[dict], list[str]]:
    """Every model of the run: name, factory, MACs per image, FastOptions (None: not ours or plain); notes."""
    graph = compile_graph(dataclasses.replace(spec, aux=()))  # torchvision's model has no aux heads either
    macs = summarize(graph)["macs"]
    found, notes = [], []
    if env("FB_TORCHVISION", "1") == "1":
        try:
            tv = torchvision_subject(spec)
            found.append({"name": "torchvision", "make": tv.make, "macs": tv.macs, "options": None})
        except ToolMissing:
            notes.append("torchvision row skipped: torchvision is not importable here")

    def ours(name: str, options: FastOptions | None) -> dict:
        make = (lambda: build_model(graph)) if options is None else (lambda: build_model(graph, fast=options))
        return {"name": name, "make": make, "macs": macs, "options": options}

    found += [ours("plain", None), ours("fast", FastOptions())]
    if env("FB_ABLATION", "1") == "1":
        base = FastOptions()
        for field in ("fuse_1x1", "fold_bn", "fuse_act"):
            found.append(ours(f"fast -{field}", dataclasses.replace(base, **{field: False})))
        found.append(ours("fast +slice_concat", dataclasses.replace(base, slice_concat=True)))
        if device == "cpu":  # on CUDA the whole run is channels_last already
            found.append(ours("fast +channels_last", dataclasses.replace(base, channels_last=True)))
        else:
            found.append(ours("fast +cuda_graphs", dataclasses.replace(base, cuda_graphs=True)))
    wanted = [n.strip() for n in os.environ.get("FB_SUBJECTS", "").split(",") if n.strip()]
    if wanted:
        unknown = sorted(set(wanted) - {s["name"] for s in found} - {"torchvision"})
        if unknown:
            raise SystemExit(
                f"error: FB_SUBJECTS: no subject {', '.join(unknown)} in this run; choose from "
                + ", ".join(s["name"] for s in found)
            )
        found = [s for s in found if s["name"] in wanted]
    return found, notes


def make_step(torch, model, mode: str, x, y, amp: bool, graphs: bool):
    """One train step (forward, backward, SGD) or one inference forward; with graphs, captured whole."""
    import torch.nn.functional as F

    autocast = torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp, cache_enabled=not graphs)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9) if mode == "train" else None

    def body():
        if opt is None:
            with torch.no_grad(), autocast:
                return model(x)
        with autocast:
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def eager():
        out = body()
        if opt is not None:
            opt.zero_grad(set_to_none=True)
        return out

    if not graphs:
        return eager
    side = torch.cuda.Stream()  # warm up on a side stream (cuDNN picks, optimizer state), then capture
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            eager()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        body()  # the gradients it allocates are the graph's: each replay overwrites them
    return graph.replay


def prepare(torch, subject: dict, spec, mode: str, batch: int, compile_: bool, device) -> dict:
    cuda = device.type == "cuda"
    options = subject["options"]
    graphs = bool(options and options.cuda_graphs and cuda)
    model = subject["make"]().to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    model.train(mode == "train")
    if compile_:
        model = torch.compile(model, mode="reduce-overhead" if graphs else None)
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(batch, *spec.input, device=device, generator=gen)
    if cuda:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, spec.classes, (batch,), device=device, generator=gen)
    t0 = time.perf_counter()
    step = make_step(torch, model, mode, x, y, amp=cuda, graphs=graphs and not compile_)
    if graphs and compile_:  # reduce-overhead: a new step begins each call (outputs of the last are dropped)
        compiled_step = step

        def step():
            torch.compiler.cudagraph_mark_step_begin()
            return compiled_step()

    for _ in range(int(env("FB_WARMUP", "5", "1"))):
        step()
    if cuda:
        torch.cuda.synchronize()
    return {"subject": subject, "step": step, "warmup_s": time.perf_counter() - t0, "times": []}


def run_group(torch, spec, subs: list[dict], mode: str, batch: int, compile_: bool, device) -> list[dict]:
    cuda = device.type == "cuda"
    steps, repeats = int(env("FB_STEPS", "20", "2")), int(env("FB_REPEATS", "5", "7"))
    runs = []
    for s in subs:
        try:
            runs.append(prepare(torch, s, spec, mode, batch, compile_, device))
        except Exception as exc:  # noqa: BLE001 - one failed subject must not lose the others
            runs.append({"subject": s, "error": repr(exc)[:300]})
            print(f"  {s['name']}: {exc!r}"[:300], flush=True)
    for _ in range(repeats):
        for r in runs:
            if "error" in r:
                continue
            try:
                with Timer(torch, device) as timer:
                    for _ in range(steps):
                        r["step"]()
                r["times"].append(timer.ms / steps)
            except Exception as exc:  # noqa: BLE001 - as above
                r["error"] = repr(exc)[:300]
    peak = peaks.detect(torch.cuda.get_device_name(device)) if cuda else None
    math = "bf16" if cuda else "fp32"
    rows = []
    for r in runs:
        s = r["subject"]
        row = {"model": s["name"], "mode": mode, "compile": compile_, "batch": batch, "math": math}
        row["options"] = dataclasses.asdict(s["options"]) if s["options"] else None
        if "error" in r:
            rows.append({**row, "error": r["error"]})
            r.pop("step", None)
            continue
        ms = statistics.median(r["times"])
        tflops = 2 * s["macs"] * batch * (3 if mode == "train" else 1) / (ms / 1e3) / 1e12
        peak_tf = peaks.peak_tflops(peak, math)
        rows.append(
            {
                **row,
                "ms_per_step": ms,
                "ms_min": min(r["times"]),
                "ms_max": max(r["times"]),
                "images_per_s": batch / (ms / 1e3),
                "tflops": tflops,
                "mfu": tflops / peak_tf if peak_tf else None,
                "warmup_s": r["warmup_s"],
                "macs_per_image": s["macs"],
            }
        )
        del r["step"]
    if compile_:
        torch._dynamo.reset()
    return rows


def print_rows(rows: list[dict]) -> None:
    print(f"\n{'model':22s} {'mode':5s} cmp batch  images/s   ms/step  (min-max)        vs plain  vs tv   MFU")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:22s} {r['mode']:5s} {int(r['compile']):3d} {r['batch']:5d}  error: {r['error']}")
            continue
        same = [o for o in rows if (o["mode"], o["compile"], o["batch"]) == (r["mode"], r["compile"], r["batch"])]
        ref = {o["model"]: o.get("ms_per_step") for o in same}
        vs = [f"{ref[k] / r['ms_per_step']:6.2f}x" if ref.get(k) else "     - " for k in ("plain", "torchvision")]
        mfu = f"{r['mfu']:5.1%}" if r.get("mfu") is not None else "    -"
        print(
            f"{r['model']:22s} {r['mode']:5s} {int(r['compile']):3d} {r['batch']:5d} {r['images_per_s']:9.1f}"
            f" {r['ms_per_step']:9.2f}  ({r['ms_min']:.2f}-{r['ms_max']:.2f}) {vs[0]:>12s} {vs[1]} {mfu}"
        )


def write_json(path: str | None, data: dict) -> None:
    """`data` as JSON at `path` (nothing when None), through a temporary file renamed into place."""
    if not path:
        return
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> int:
    import torch

    global CUDA
    CUDA = os.environ.get("FB_DEVICE", "cuda" if torch.cuda.is_available() else "cpu").startswith("cuda")
    if CUDA and not torch.cuda.is_available():
        print("error: FB_DEVICE=cuda but no CUDA device is available; use FB_DEVICE=cpu", file=sys.stderr)
        return 2
    device = torch.device("cuda" if CUDA else "cpu")
    if CUDA:
        torch.backends.cudnn.benchmark = True
    for limit, value in (("cache_size_limit", 64), ("recompile_limit", 64), ("accumulated_cache_size_limit", 1024)):
        if hasattr(torch._dynamo.config, limit):  # one compiled graph per model object; many objects per run
            setattr(torch._dynamo.config, limit, value)
    spec = load_spec(env("FB_SPEC", "specs/googlenet-torchvision.yaml"))
    subs, notes = subjects(spec, device.type)
    if not CUDA:
        notes.append("CUDA graphs rows skipped: no CUDA device")
    compile_batches = ints(env("FB_COMPILE_BATCHES", "256", env("FB_BATCHES", "64,256", "4")))
    name = torch.cuda.get_device_name(device) if CUDA else (platform.processor() or platform.machine())
    versions = {"torch": torch.__version__, "python": platform.python_version()}
    try:
        import torchvision

        versions["torchvision"] = torchvision.__version__
    except ImportError:  # torchvision is optional here: its version is recorded only when present
        pass
    path = os.environ.get("FB_JSON") or (
        os.path.join(os.environ["OUT"], "bench_fast.json") if os.environ.get("OUT") else None
    )
    rows, t0 = [], time.perf_counter()
    for compile_ in [c == "1" for c in env("FB_COMPILE", "0,1", "0").split(",")]:
        chosen = subs
        if compile_ and env("FB_ABLATION_COMPILE", "0") != "1":
            chosen = [s for s in subs if s["name"] in ("torchvision", "plain", "fast", "fast +cuda_graphs")]
        for batch in ints(env("FB_BATCHES", "64,256", "4")):
            if compile_ and batch not in compile_batches:
                continue
            for mode in env("FB_MODES", "train,infer").split(","):
                print(f"[{time.perf_counter() - t0:6.0f}s] compile={int(compile_)} batch={batch} {mode}", flush=True)
                rows += run_group(torch, spec, chosen, mode, batch, compile_, device)
                write_json(path, {"rows": rows, "device": name, "versions": versions, "notes": notes})
    print_rows(rows)
    print(f"device: {name}, {torch.get_num_threads()} threads; " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for n in notes:
        print(n)
    if path:
        write_json(path, {"rows": rows, "device": name, "versions": versions, "notes": notes})
        print(f"wrote {path}")
    return 0 if all("error" not in r for r in rows) else 1


CUDA = False

if __name__ == "__main__":
    raise SystemExit(main())
