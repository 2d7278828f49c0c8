"""What a memory prediction is asked and what it answers: the `Setup` of one step (batch, dtype, mode,
optimizer, device, channels-last) with its checked values, and the `Memory` it gives (saved bytes, peak, rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import InceptcostError, SettingError, literal

DTYPES = ("fp32", "bf16", "fp16")
DEVICES = ("cuda", "cpu")
MODES = ("train", "infer")
OPTIMIZER_COPIES = {"sgd": 1, "adamw": 2}  # SGD momentum; AdamW exp_avg and exp_avg_sq
_ALIASES = {"float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16", "float64": "fp64"}
MAX_BATCH = 1 << 32
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "fp64": 8}  # what the traffic and time models accept
PARAM_BYTES = 4  # fp32 master weights, gradients and optimizer state, also under autocast


def dtype_bytes(dtype: str) -> tuple[str, int]:
    """A dtype name (or alias such as bfloat16) -> (its short name, bytes per element)."""
    name = _ALIASES.get(dtype.lower(), dtype.lower())
    if name not in DTYPE_BYTES:
        raise InceptcostError(f"unknown dtype '{dtype}'", hint=f"one of: {', '.join(DTYPE_BYTES)}")
    return name, DTYPE_BYTES[name]


def _choice(value: str, options: tuple[str, ...] | dict, setting: str) -> str:
    name = _ALIASES.get(value.lower(), value.lower()) if isinstance(value, str) else value
    if name not in options:
        raise SettingError(
            f"unknown {{{setting}}} '{literal(value)}'", hint=f"give {{{setting}}} one of: {', '.join(options)}"
        )
    return name


@dataclass(frozen=True)
class Setup:
    batch: int
    dtype: str = "fp32"
    mode: str = "train"
    optimizer: str = "sgd"
    device: str = "cuda"
    channels_last: bool = False

    @classmethod
    def checked(
        cls,
        batch: Any,
        dtype: str = "fp32",
        mode: str = "train",
        optimizer: str = "sgd",
        device: str = "cuda",
        channels_last: bool = False,
    ) -> Setup:
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            raise SettingError(
                f"{{batch}} must be a whole number from 1 to {MAX_BATCH:,}, got {literal(repr(batch))}",
                hint="e.g. {batch} 32",
            )
        return cls(
            batch,
            _choice(dtype, DTYPES, "dtype"),
            _choice(mode, MODES, "mode"),
            _choice(optimizer, OPTIMIZER_COPIES, "optimizer"),
            _choice(device, DEVICES, "device"),
            bool(channels_last),
        )


@dataclass
class Memory:
    setup: Setup
    rows: list[dict[str, Any]]  # one per op (IR node) in run order, then the loss: name, row, saved_bytes, keeps
    saved_bytes: int
    peak_bytes: int
    peak_at: str
    weights_bytes: int
    buffers_bytes: int
    grads_bytes: int
    optimizer_bytes: int
    outputs: dict[str, int] = field(default_factory=dict)  # IR node -> bytes of its output tensor

    def as_dict(self) -> dict[str, Any]:
        s = self.setup
        return {
            "batch": s.batch,
            "dtype": s.dtype,
            "mode": s.mode,
            "optimizer": s.optimizer,
            "device": s.device,
            "channels_last": s.channels_last,
            "saved_bytes": self.saved_bytes,
            "peak_bytes": self.peak_bytes,
            "peak_at": self.peak_at,
            "weights_bytes": self.weights_bytes,
            "buffers_bytes": self.buffers_bytes,
            "grads_bytes": self.grads_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "rows": [dict(r) for r in self.rows],
        }
