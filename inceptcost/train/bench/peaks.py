"""Known accelerators' peak dense throughput and memory bandwidth, detected by device name.

The figures are the device table's (the shipped profiles' `devices`, read by analyze/devices.py): the vendors'
dense (no sparsity) datasheet numbers, TFLOP/s for bf16, tf32 and fp32 tensor or vector math, and HBM
bandwidth in GB/s.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...analyze import devices


@dataclass(frozen=True)
class Peak:
    device: str  # the table entry that matched
    bf16: float  # TFLOP/s, dense
    tf32: float
    fp32: float
    bandwidth_gbs: float


def detect(device_name: str) -> Peak | None:
    d = devices.detect(device_name)
    return None if d is None else Peak(d.name, d.bf16, d.tf32, d.fp32, d.bandwidth_gbs)


def peak_tflops(peak: Peak | None, math: str) -> float | None:
    """math: 'bf16', 'tf32' or 'fp32'."""
    return None if peak is None else getattr(peak, math)
