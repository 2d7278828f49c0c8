"""The specs shipped with the package, found by name from any folder (`inceptcost analyze googlenet`).

`specs/` at the top of the source tree is the one copy; the wheel installs it as `inceptcost/specs/`
(pyproject.toml maps the package `inceptcost.specs` onto that folder).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # the inceptcost package (this module is in spec/)


def shipped_dir() -> Path:
    """The folder of shipped specs: the installed copy, else the source tree's `specs/`."""
    installed = _PACKAGE / "specs"
    return installed if installed.is_dir() else _PACKAGE.parent / "specs"


def shipped_names() -> list[str]:
    """Names of the shipped specs (file names without `.yaml`), sorted."""
    return sorted(p.stem for p in shipped_dir().glob("*.yaml"))


def find_spec(spec: str | Path) -> Path:
    """A spec argument as a file: an existing path wins, else a shipped spec's name (`googlenet`,
    `googlenet.yaml`); anything else comes back unchanged so that the reader reports it as missing."""
    path = Path(spec)
    try:
        if path.exists() or path.parent != Path("."):
            return path
    except (OSError, ValueError):  # a name too long, or with a NUL: the reader reports it
        return path
    shipped = shipped_dir() / (path.name if path.suffix == ".yaml" else f"{path.name}.yaml")
    return shipped if shipped.is_file() else path
