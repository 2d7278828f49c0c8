"""Rendering, the side effect: DOT source through graphviz's `dot` into svg, png or pdf."""

from __future__ import annotations

import shutil
from pathlib import Path

from ...errors import InceptcostError, ToolMissing

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL_HINT = "install graphviz: apt-get install graphviz (macOS: brew install graphviz)"


def output_format(path: Path) -> str:
    """svg, png, pdf, or dot (source only), from the file's extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InceptcostError(
            f"unknown diagram format '{Path(path).suffix or '(none)'}'",
            file=str(path),
            hint="end the file name in .svg, .png, .pdf, or .dot/.gv for the source alone",
        )
    return fmt


def render(source: str, fmt: str) -> bytes:
    """Lay out and draw DOT source with graphviz's `dot`; ToolMissing when it is not installed."""
    import graphviz

    if shutil.which("dot") is None:
        raise ToolMissing("graphviz's `dot` program is not on PATH", hint=INSTALL_HINT)
    try:
        return graphviz.pipe("dot", fmt, source.encode(), quiet=True)
    except graphviz.ExecutableNotFound:
        raise ToolMissing("graphviz's `dot` program is not on PATH", hint=INSTALL_HINT) from None
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise InceptcostError(f"dot failed: {detail[-1] if detail else exc}") from None
