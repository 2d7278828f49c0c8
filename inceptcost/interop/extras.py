"""Optional packages: imported on demand, their absence one line naming the extra that installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import ToolMissing

# package -> the pyproject extra that brings it
EXTRA = {"onnx": "onnx", "onnxruntime": "onnx", "torchvision": "interop", "timm": "interop", "torch": "torch"}


def need(package: str, why: str) -> ModuleType:
    """Import `package` or raise ToolMissing saying which extra installs it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        extra = EXTRA.get(package, "interop")
        raise ToolMissing(
            f"{why} needs the optional package '{package}', which is not installed",
            hint=f"pip install 'inceptcost[{extra}]'",
        ) from None
