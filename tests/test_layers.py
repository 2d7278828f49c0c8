"""The layering of docs/architecture.md holds: `lint-imports` checks the contracts in pyproject.toml (layers, the
static side without torch, no circles), and its engine counts the imports written inside functions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import ROOT

pytest.importorskip("importlinter", reason="import-linter is in the test extra")


def test_the_contracts_hold():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_an_import_inside_a_function_is_an_edge(tmp_path, monkeypatch):
    """A lazy import hides a circle from a scan of top-level imports; the checker must see it."""
    import grimp

    pkg = tmp_path / "lazypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from . import high\n\n    return high\n")
    (pkg / "high.py").write_text("from . import low\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("lazypkg", cache_dir=None)
    assert "lazypkg.high" in graph.find_modules_directly_imported_by("lazypkg.low")
    assert graph.find_shortest_chain("lazypkg.low", "lazypkg.high") is not None
    assert graph.find_shortest_chain("lazypkg.high", "lazypkg.low") is not None  # the circle, seen whole


def test_every_module_is_in_a_layer():
    """The contracts are exhaustive: a new top-level module, a new module of graph/ or of kinds/ must be placed in a
    layer."""
    text = (ROOT / "pyproject.toml").read_text()
    assert text.count("exhaustive = true") == 3
