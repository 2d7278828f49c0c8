"""Known accelerators' peak dense throughput and memory bandwidth, detected by device name.

Figures are the vendors' dense (no sparsity) datasheet numbers: TFLOP/s for bf16, tf32 and fp32 tensor or
vector math, and HBM bandwidth in GB/s. The H200 has the H100 SXM's compute with faster memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Peak:
    device: str  # the table entry that matched
    bf16: float  # TFLOP/s, dense
    tf32: float
    fp32: float
    bandwidth_gbs: float


# Order matters: the first entry whose every word is in the device name wins (PCIe before SXM).
KNOWN: list[tuple[tuple[str, ...], Peak]] = [
    (("h200",), Peak("H200", 989.0, 495.0, 67.0, 4800.0)),
    (("h100", "pcie"), Peak("H100 PCIe", 756.0, 378.0, 51.0, 2000.0)),
    (("h100",), Peak("H100 SXM", 989.0, 495.0, 67.0, 3350.0)),
    (("a100", "80gb"), Peak("A100 80GB", 312.0, 156.0, 19.5, 2039.0)),
    (("a100",), Peak("A100 40GB", 312.0, 156.0, 19.5, 1555.0)),
]


def detect(device_name: str) -> Peak | None:
    name = device_name.lower()
    for words, peak in KNOWN:
        if all(w in name for w in words):
            return peak
    return None


def peak_tflops(peak: Peak | None, math: str) -> float | None:
    """math: 'bf16', 'tf32' or 'fp32'."""
    return None if peak is None else getattr(peak, math)
