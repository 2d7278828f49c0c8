"""Checkpoint files: a magic header and a SHA-256 of the payload before torch.save's bytes.

The checksum turns any truncation or bit flip into a one-line CheckpointError instead of an
unpickling traceback (or, worse, a silently wrong tensor). Payloads are loaded with
weights_only=True, so a checkpoint cannot run code; RNG states are stored as tensors and plain
Python values for that reason.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
from pathlib import Path

import numpy as np
import torch

from inceptcost.readsafe import read_regular
from inceptcost.train.errors import CheckpointError
from inceptcost.train.files import write_bytes

MAGIC = b"INCEPTCOST-CKPT\x01"
MAX_BYTES = 1 << 36  # 64 GiB: far beyond any Inception-style net's weights and optimizer state
SLACK_BYTES = 64 << 20  # RNG states, metric history and pickle framing, with room to spare
DIGEST = 32
FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, state: dict) -> None:
    buf = io.BytesIO()
    torch.save({"format_version": FORMAT_VERSION, **state}, buf)
    payload = buf.getvalue()
    write_bytes(path, MAGIC + hashlib.sha256(payload).digest() + payload)


def size_limit(model: torch.nn.Module) -> int:
    """The most a checkpoint or weights file of `model` can legitimately hold: each of its tensors' elements at
    up to 8 bytes (float64), three times over (the weights, and an optimizer's two state tensors per weight, as
    AdamW keeps), plus SLACK_BYTES. A larger file is not this model's, and is refused before it is read."""
    elements = sum(t.numel() for t in model.state_dict().values())
    return 3 * 8 * elements + SLACK_BYTES


def load_checkpoint(path: str | Path, map_location="cpu", limit: int = MAX_BYTES) -> dict:
    """The state saved by save_checkpoint; `limit` (see size_limit) bounds the bytes read."""
    path = Path(path)
    if not os.path.lexists(path):
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # read_regular says what is wrong with it
    if size > limit:
        raise CheckpointError(
            f"{size:,} bytes, more than a checkpoint of this model can hold ({limit:,} bytes at most)",
            file=str(path),
            hint="give the checkpoint of this spec's model",
        )
    blob = read_regular(path, limit=limit, what="checkpoint", error=CheckpointError)
    head = len(MAGIC) + DIGEST
    if len(blob) < head or not blob.startswith(MAGIC):
        raise CheckpointError(f"{path} is not an inceptcost checkpoint (bad header; truncated or another format)")
    payload = blob[head:]
    if hashlib.sha256(payload).digest() != blob[len(MAGIC) : head]:
        raise CheckpointError(
            f"checkpoint {path} is corrupted or truncated (checksum mismatch, "
            f"{len(blob)} bytes); resume from an intact copy or start a new run"
        )
    try:
        state = torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except Exception as exc:  # checksum matched, so this is a format problem, not damage
        raise CheckpointError(f"checkpoint {path} cannot be loaded: {str(exc).splitlines()[0]}") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has an unsupported format version "
            f"{state.get('format_version') if isinstance(state, dict) else '?'}"
        )
    return state


# --- RNG states as weights_only-loadable values -------------------------------------------------------------


def tensor_problem(t: torch.Tensor, like: torch.Tensor) -> str | None:
    """What keeps a tensor read from a file from loading into `like` (a model's parameter or buffer) as values of
    the same meaning, or None: a sparse or other non-strided layout, a meta tensor (a shape without values), a
    quantized one, a dtype of another kind (complex or bool or integer for a float, a float for a counter), or
    NaN/inf among the values. A view (non-contiguous, a zero-stride expansion) is copied as its values."""
    if t.layout != torch.strided:
        return f"is a {str(t.layout).removeprefix('torch.')} tensor, not a dense one"
    if t.device.type == "meta":
        return "is a meta tensor (a shape without values)"
    if t.is_quantized:
        return f"is a quantized tensor ({str(t.dtype).removeprefix('torch.')})"
    dtype = str(t.dtype).removeprefix("torch.")
    if like.is_floating_point():
        if not t.is_floating_point():  # complex, bool and integer dtypes: not a real number per weight
            return f"has dtype {dtype}, not a real floating-point type"
        if t.numel() and not bool(torch.isfinite(t).all()):
            return "holds NaN or infinite values"
    elif t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        return f"has dtype {dtype}, not a whole-number type (the model keeps a count here)"
    return None


def rng_state() -> dict:
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [
            np_state[0],
            torch.from_numpy(np_state[1].astype(np.int64)),
            int(np_state[2]),
            int(np_state[3]),
            float(np_state[4]),
        ],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(_tuples(state["python"]))
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"].cpu())


def _tuples(value):
    """random.setstate wants the nested tuples back (a round trip may give lists)."""
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value
