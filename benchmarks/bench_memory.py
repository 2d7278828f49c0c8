"""Predicted memory (`inceptcost memory`) against torch's own measurements, per spec.

    python benchmarks/bench_memory.py                 # CPU: every shipped spec, fp32 and bf16
    python benchmarks/bench_memory.py --cuda          # GPU: 4 nets x batch 32/128/256 x fp32/bf16
    python benchmarks/bench_memory.py --torchinfo     # googlenet, batch 8, fp32: ours, torchinfo, measured
    ... [--specs NAME,...] [--dtypes fp32,bf16] [--json FILE]   # only these specs and dtypes; rows also as JSON

CPU, one training step at --batch (default 4): saved bytes from saved-tensor hooks (storages counted once)
must equal the prediction exactly; the peak from the profiler's allocator events must be within 5%.
CUDA: the peak of one steady-state training step (SGD momentum, fp32 cross-entropy per head) from
torch.cuda.max_memory_allocated, against the prediction with the CUDA rules; within 10%.
With --json, every row so far is rewritten to FILE (atomically) after each measurement, so that a run cut short
keeps what it measured. Exit status 1 when a figure is outside its tolerance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPU_SPECS = ("googlenet", "googlenet-torchvision", "bn-inception", "variant")


class Rows:
    """Every measured row, rewritten to `path` (when given) after each one."""

    def __init__(self, path: Path | None, device: str):
        self.path, self.device, self.rows = path, device, []

    def add(self, **row) -> None:
        self.rows.append(row)
        if self.path is None:
            return
        text = json.dumps({"device": self.device, "rows": self.rows}, indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _row(name, dtype, batch, predicted, measured, tol, what, rows: Rows) -> tuple[str, bool]:
    rel = predicted / measured - 1 if measured else float("inf")
    ok = abs(rel) <= tol
    rows.add(
        spec=name, what=what, dtype=dtype, batch=batch, predicted_bytes=predicted, measured_bytes=measured,
        diff=rel if measured else None, tolerance=tol, ok=ok,
    )  # fmt: skip
    return f"{name:<22} {dtype:<5} {batch:>5} {predicted:>16,} {measured:>16,} {rel:>+8.2%} {'ok' if ok else 'OFF'}", ok


def shipped(names: list[str] | None) -> list[Path]:
    """The shipped spec files named (file stems), or all of them."""
    paths = sorted((ROOT / "specs").glob("*.yaml"))
    return paths if names is None else [p for p in paths if p.stem in names]


DTYPES = ("fp32", "bf16")


def cpu(batch: int, names: list[str] | None = None, rows: Rows | None = None, dtypes=DTYPES) -> bool:
    from inceptcost import compile_graph, load_spec
    from inceptcost.analyze.memory import Setup, memory
    from inceptcost.train.bench.memory_check import measured_peak, measured_saved

    rows = rows or Rows(None, "cpu")
    good = True
    print(f"{'spec':<22} {'dtype':<5} {'batch':>5} {'predicted B':>16} {'measured B':>16} {'diff':>8}")
    for what, tol in (("saved", 0.0), ("peak", 0.05)):
        print(f"-- {what} ({'exact' if tol == 0 else f'within {tol:.0%}'}; CPU)")
        for path in shipped(names):
            graph = compile_graph(load_spec(path))
            for dtype in dtypes:
                setup = Setup.checked(batch, dtype, "train", "sgd", "cpu")
                m = memory(graph, setup)
                if what == "saved":
                    got = sum(measured_saved(graph, setup).values())
                    line, ok = _row(path.stem, dtype, batch, m.saved_bytes, got, tol, what, rows)
                else:
                    got = measured_peak(graph, setup)["peak_bytes"]
                    line, ok = _row(path.stem, dtype, batch, m.peak_bytes, got, tol, what, rows)
                print(line, flush=True)
                good &= ok
    return good


def cuda(batches: list[int], names: list[str] | None = None, rows: Rows | None = None, dtypes=DTYPES) -> bool:
    import torch

    from inceptcost import compile_graph, load_spec
    from inceptcost.analyze.memory import Setup, memory
    from inceptcost.train.bench.memory_check import measured_peak

    torch.backends.cudnn.benchmark = False
    rows = rows or Rows(None, "cuda")
    good = True
    print(f"-- peak, CUDA {torch.cuda.get_device_name()} (max_memory_allocated; within 10%)")
    for name in names or GPU_SPECS:
        graph = compile_graph(load_spec(ROOT / "specs" / f"{name}.yaml"))
        for dtype in dtypes:
            for batch in batches:
                setup = Setup.checked(batch, dtype, "train", "sgd", "cuda")
                got = measured_peak(graph, setup, "cuda")["peak_bytes"]
                line, ok = _row(name, dtype, batch, memory(graph, setup).peak_bytes, got, 0.10, "peak", rows)
                print(line, flush=True)
                good &= ok
                torch.cuda.empty_cache()
    return good


def against_torchinfo(batch: int) -> bool:
    """Ours, torchinfo's "Estimated Total Size" and the measurements, same net, same batch (CPU, fp32)."""
    import torchinfo

    from inceptcost import build_model, compile_graph, load_spec
    from inceptcost.analyze.memory import Setup, memory
    from inceptcost.train.bench.memory_check import measured_peak, measured_saved

    spec = load_spec(ROOT / "specs" / "googlenet.yaml")
    graph = compile_graph(spec)
    setup = Setup.checked(batch, "fp32", "train", "sgd", "cpu")
    ours = memory(graph, setup)
    info = torchinfo.summary(
        build_model(graph, aux=True).train(), input_size=(batch, *spec.input), verbose=0, mode="train"
    )
    estimate = info.total_input + info.total_output_bytes + info.total_param_bytes
    print(f"googlenet, batch {batch}, fp32, one training step on CPU (MB = 10^6 bytes)")
    print(f"saved for backward, ours      {ours.saved_bytes / 1e6:10.1f}")
    print(f"saved for backward, measured  {sum(measured_saved(graph, setup).values()) / 1e6:10.1f}")
    print(f"peak, ours                    {ours.peak_bytes / 1e6:10.1f}")
    print(f"peak, measured                {measured_peak(graph, setup)['peak_bytes'] / 1e6:10.1f}")
    print(f"torchinfo {torchinfo.__version__} estimated total  {estimate / 1e6:10.1f}")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4, help="CPU batch")
    parser.add_argument("--cuda", action="store_true", help="measure on the GPU instead")
    parser.add_argument("--cuda-batches", default="32,128,256")
    parser.add_argument("--torchinfo", action="store_true", help="compare with torchinfo at batch 8")
    parser.add_argument("--specs", help="shipped specs, comma-separated file stems (default: all; --cuda: the four)")
    parser.add_argument("--dtypes", default=",".join(DTYPES), help="comma-separated, of fp32, bf16")
    parser.add_argument("--json", type=Path, help="also write every row to this file, rewritten after each row")
    args = parser.parse_args()
    if args.torchinfo:
        return 0 if against_torchinfo(8) else 1
    names = None
    if args.specs is not None:
        names = [n.strip() for n in args.specs.split(",") if n.strip()]
        known = [p.stem for p in shipped(None)]
        unknown = sorted(set(names) - set(known))
        if unknown or not names:
            parser.error(
                f"--specs: no shipped spec {', '.join(unknown) or '(none named)'}; choose from {', '.join(known)}"
            )
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json: no folder {args.json.parent}")
    try:
        batches = [int(b) for b in args.cuda_batches.split(",")]
    except ValueError:
        parser.error(f"--cuda-batches: whole numbers, comma-separated, got {args.cuda_batches!r}")
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    if not dtypes or set(dtypes) - set(DTYPES):
        parser.error(f"--dtypes: comma-separated, of {', '.join(DTYPES)}; got {args.dtypes!r}")
    rows = Rows(args.json, "cuda" if args.cuda else "cpu")
    ok = cuda(batches, names, rows, dtypes) if args.cuda else cpu(args.batch, names, rows, dtypes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
