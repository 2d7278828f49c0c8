"""Optional packages: imported on demand, their absence one line naming the extra that installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import ToolMissing

# package (as imported) -> the pyproject extra that brings it
EXTRA = {
    "torch": "torch",
    "fvcore": "torch",
    "sklearn": "torch",
    "matplotlib": "torch",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "torchvision": "interop",
    "timm": "interop",
    "torchinfo": "interop",
    "tensorboard": "tensorboard",
}


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


def missing(exc: ModuleNotFoundError, why: str) -> ToolMissing | None:
    """The one-line error for an optional package that a command imported and did not find (the package and the
    extra that installs it), or None when the missing module is none of them (a real bug: let it show)."""
    package = (exc.name or "").partition(".")[0]
    if package not in EXTRA:
        return None
    return ToolMissing(
        f"{why} needs the optional package '{package}', which is not installed",
        hint=f"pip install 'inceptcost[{EXTRA[package]}]'",
    )
