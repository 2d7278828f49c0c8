"""The IR graph -> a torch nn.Module with the IR's dotted names: build.py (the network), fast.py (the fused
build of the same model), blocks.py (the modules it is made of), builders.py (each layer kind's module).
Torch starts here; nothing in analyze imports this package."""

from .build import MAX_MODEL_BYTES, build_model

__all__ = ["MAX_MODEL_BYTES", "build_model"]
