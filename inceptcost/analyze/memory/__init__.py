"""The memory model: what it is asked and what it answers (setup.py), the walk over forward and backward to the
training peak (walk.py), running each kind's memory rule (what its forward saves and allocates, in
inceptcost/kinds), and `--fits` and the preflight check (capacity.py)."""

from .setup import MAX_BATCH, PARAM_BYTES, Memory, Setup, dtype_bytes
from .walk import memory

__all__ = ["MAX_BATCH", "PARAM_BYTES", "Memory", "Setup", "dtype_bytes", "memory"]
