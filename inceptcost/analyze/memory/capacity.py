"""Memory against a capacity: `--fits 80GiB | H100`, the largest batch that fits, and the check that bench and
train make before they allocate anything."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import networkx as nx

from ...errors import BadValue, SettingError, literal
from ...quantities import OutOfRange, format_bytes, parse_bytes
from ..devices import fits_device, memory_devices
from .setup import MAX_BATCH, Memory, Setup
from .walk import memory

# The devices --fits knows by name are the device table's (analyze/devices.py: the shipped profiles). Their
# memory is nominal: the driver and the CUDA context take some of it (a few hundred MiB to about 1 GiB), so
# near the limit give the free memory that `torch.cuda.mem_get_info` reports as a size instead.


def parse_capacity(text: str) -> tuple[int, str]:
    """`80GiB`, `80GB`, `1.5TiB`, or a device name -> (bytes, label)."""
    device = fits_device(text)
    if device is not None:
        name, size = device
        return size, f"{name} ({format_bytes(size)})"
    try:
        return parse_bytes(text), text.strip()
    except OutOfRange:  # 400 nines: inf, above the bound
        raise SettingError(
            f"{{fits}} '{literal(text[:40])}' is out of range",
            hint="give a size from 1 B to 1 EiB, like 80GiB",
        ) from None
    except BadValue:
        raise SettingError(
            f"{{fits}} '{literal(text)}' is neither a size nor a known device",
            hint=f"give a size like 80GiB or 24GB, or one of: {', '.join(memory_devices())}",
        ) from None


def largest_batch(graph: nx.DiGraph, setup: Setup, capacity: int) -> tuple[int, Memory | None]:
    """The largest batch whose predicted peak is at most `capacity` (0 and None when not even batch 1 fits)."""

    def peak(b: int) -> Memory:
        return memory(graph, replace(setup, batch=b))

    if peak(1).peak_bytes > capacity:
        return 0, None
    lo, hi = 1, 2
    while hi <= MAX_BATCH and peak(hi).peak_bytes <= capacity:
        lo, hi = hi, hi * 2
    hi = min(hi, MAX_BATCH + 1)
    while hi - lo > 1:  # the peak grows with the batch: bisect between a fit and a miss
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if peak(mid).peak_bytes <= capacity else (lo, mid)
    return lo, peak(lo)


def check_fits(graph: nx.DiGraph, setup: Setup, free: int, where: str, setting: str = "batch") -> Memory:
    """Raise before allocating when the predicted peak exceeds the free memory; the line gives the figures.
    `setting` is the caller's name for the batch (bench: batch, train: batch_size)."""
    m = memory(graph, setup)
    if m.peak_bytes <= free:
        return m
    fits, _ = largest_batch(graph, setup, free)
    advice = f"use {{{setting}}} {fits} or less" if fits else _why_not_one(graph, setup, free)
    raise SettingError(
        f"{{{setting}}} {setup.batch} needs about {format_bytes(m.peak_bytes)} ({setup.mode}, {setup.dtype}) but"
        f" {literal(where)} has {format_bytes(free)} free",
        hint=advice,
    )


def _why_not_one(graph: nx.DiGraph, setup: Setup, free: int) -> str:
    """Why not even batch 1 fits: the weights alone (with grads and optimizer state), the input alone, or the
    activations of one image."""
    one = memory(graph, replace(setup, batch=1))
    fixed = one.weights_bytes + one.buffers_bytes + one.grads_bytes + one.optimizer_bytes
    c, h, w = graph.graph["spec"].input
    image = 4 * c * h * w  # the float32 input of one image
    if fixed > free:
        kept = " with their gradients and optimizer state" if setup.mode == "train" else ""
        why = f"the weights alone{kept} need {format_bytes(fixed)}"
        fix = "narrow the layers (or fewer classes)"
    elif image > free:
        why = f"one {h}x{w}x{c} input image alone needs {format_bytes(image)}"
        fix = "shrink the input size"
    else:
        why = f"batch 1 needs {format_bytes(one.peak_bytes)} ({format_bytes(fixed)} weights, the rest activations)"
        fix = "shrink the input or the widths"
    return f"not even batch 1 fits: {why}; {fix}, or use a device with more memory"


def memory_report(spec_path, setup: Setup, fits: str | None = None) -> dict:
    """The `memory` command's result: totals, one row per op (and the loss), and the `--fits` answer."""
    from ...graph.compile import compile_graph
    from ...spec import load_spec

    graph = compile_graph(load_spec(spec_path))
    result = {"spec": graph.graph["spec"].name, **memory(graph, setup).as_dict()}
    if fits is not None:
        capacity, label = parse_capacity(fits)
        batch, m = largest_batch(graph, setup, capacity)
        result["fits"] = {
            "capacity": label,
            "capacity_bytes": capacity,
            "largest_batch": batch,
            "peak_bytes": m.peak_bytes if m else None,
            "left_bytes": capacity - m.peak_bytes if m else None,
        }
    return result


def totals_lines(r: dict) -> list[str]:
    what = "training step" if r["mode"] == "train" else "inference forward"
    amp = "fp32" if r["dtype"] == "fp32" else f"{r['dtype']} autocast"
    lines = [
        f"{r['spec']}, batch {r['batch']}, {amp}, {what} on {r['device']}"
        + (", channels-last" if r["channels_last"] else ""),
        f"peak {format_bytes(r['peak_bytes'])} ({r['peak_bytes']:,} B) at {r['peak_at']}; weights {format_bytes(r['weights_bytes'])}"
        f" + BN buffers {format_bytes(r['buffers_bytes'])} + grads {format_bytes(r['grads_bytes'])}"
        f" + {r['optimizer']} state {format_bytes(r['optimizer_bytes'])}",
    ]
    if r["mode"] == "train":
        lines.append(f"saved for backward: {format_bytes(r['saved_bytes'])} ({r['saved_bytes']:,} B)")
    if "fits" in r:
        f = r["fits"]
        if f["largest_batch"]:
            lines.append(
                f"fits {f['capacity']}: batch {f['largest_batch']:,} at most (peak {format_bytes(f['peak_bytes'])},"
                f" {format_bytes(f['left_bytes'])} left)"
            )
        else:
            lines.append(f"fits {f['capacity']}: not even batch 1")
    return lines


def rows_view(r: dict):
    """The per-layer table as a report View (rendered by the CLI or as markdown)."""
    from ..view import View

    cols = [("layer", "l"), ("op", "l"), ("saved", "r"), ("what it keeps for backward", "l")]
    rows = [[x["name"], x["op"], format_bytes(x["saved_bytes"]), x["keeps"]] for x in r["rows"]]
    return View(f"{r['spec']}: memory per layer", cols, rows, ranks=[0, 1, 0, 0], wrap=(cols[3][0],))


def rows_csv(r: dict) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["name", "row", "op", "saved_bytes", "keeps"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(r["rows"])
    return buf.getvalue()
