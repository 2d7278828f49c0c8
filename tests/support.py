"""Constants the tests share (importable because pyproject puts tests/ on the path)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
