"""Predicted memory (`inceptcost memory`) against torch's own measurements, per spec.

    python benchmarks/bench_memory.py                 # CPU: every shipped spec, fp32 and bf16
    python benchmarks/bench_memory.py --cuda          # GPU: 4 nets x batch 32/128/256 x fp32/bf16
    python benchmarks/bench_memory.py --torchinfo     # googlenet, batch 8, fp32: ours, torchinfo, measured

CPU, one training step at --batch (default 4): saved bytes from saved-tensor hooks (storages counted once)
must equal the prediction exactly; the peak from the profiler's allocator events must be within 5%.
CUDA: the peak of one steady-state training step (SGD momentum, fp32 cross-entropy per head) from
torch.cuda.max_memory_allocated, against the prediction with the CUDA rules; within 10%.
Exit status 1 when a figure is outside its tolerance.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPU_SPECS = ("googlenet", "googlenet-torchvision", "bn-inception", "variant")


def _row(name, dtype, batch, predicted, measured, tol) -> tuple[str, bool]:
    rel = predicted / measured - 1 if measured else float("inf")
    ok = abs(rel) <= tol
    return f"{name:<22} {dtype:<5} {batch:>5} {predicted:>16,} {measured:>16,} {rel:>+8.2%} {'ok' if ok else 'OFF'}", ok


def cpu(batch: int) -> bool:
    from inceptcost import compile_graph, load_spec
    from inceptcost.analyze.memory import Setup, memory
    from inceptcost.train.bench.memory_check import measured_peak, measured_saved

    good = True
    print(f"{'spec':<22} {'dtype':<5} {'batch':>5} {'predicted B':>16} {'measured B':>16} {'diff':>8}")
    for what, tol in (("saved", 0.0), ("peak", 0.05)):
        print(f"-- {what} ({'exact' if tol == 0 else f'within {tol:.0%}'}; CPU)")
        for path in sorted((ROOT / "specs").glob("*.yaml")):
            graph = compile_graph(load_spec(path))
            for dtype in ("fp32", "bf16"):
                setup = Setup.checked(batch, dtype, "train", "sgd", "cpu")
                m = memory(graph, setup)
                if what == "saved":
                    got = sum(measured_saved(graph, setup).values())
                    line, ok = _row(path.stem, dtype, batch, m.saved_bytes, got, tol)
                else:
                    got = measured_peak(graph, setup)["peak_bytes"]
                    line, ok = _row(path.stem, dtype, batch, m.peak_bytes, got, tol)
                print(line, flush=True)
                good &= ok
    return good


def cuda(batches: list[int]) -> bool:
    import torch

    from inceptcost import compile_graph, load_spec
    from inceptcost.analyze.memory import Setup, memory
    from inceptcost.train.bench.memory_check import measured_peak

    torch.backends.cudnn.benchmark = False
    good = True
    print(f"-- peak, CUDA {torch.cuda.get_device_name()} (max_memory_allocated; within 10%)")
    for name in GPU_SPECS:
        graph = compile_graph(load_spec(ROOT / "specs" / f"{name}.yaml"))
        for dtype in ("fp32", "bf16"):
            for batch in batches:
                setup = Setup.checked(batch, dtype, "train", "sgd", "cuda")
                got = measured_peak(graph, setup, "cuda")["peak_bytes"]
                line, ok = _row(name, dtype, batch, memory(graph, setup).peak_bytes, got, 0.10)
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
    args = parser.parse_args()
    if args.torchinfo:
        return 0 if against_torchinfo(8) else 1
    ok = cuda([int(b) for b in args.cuda_batches.split(",")]) if args.cuda else cpu(args.batch)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
