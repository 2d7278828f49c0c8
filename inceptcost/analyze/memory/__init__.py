"""The memory model: what each kind's forward saves and allocates (rules.py), the walk over forward and backward
to the training peak (walk.py), and `--fits` and the preflight check (capacity.py)."""

from .walk import MAX_BATCH, PARAM_BYTES, Memory, Setup, dtype_bytes, memory

__all__ = ["MAX_BATCH", "PARAM_BYTES", "Memory", "Setup", "dtype_bytes", "memory"]
