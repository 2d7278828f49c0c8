"""The built wheel, installed outside the source tree, finds its shipped specs from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]


def test_every_package_is_listed():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "inceptcost").rglob("__init__.py")}
    assert found | {"inceptcost.specs", "inceptcost.profiles"} == set(PACKAGES)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources (the checkout stays clean), unpacked into a target folder."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("inceptcost", "specs", "profiles"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp / "wheel", src], check=True)
    (wheel,) = (tmp / "wheel").glob("inceptcost-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("specs", "profiles"):
        assert sorted(n for n in names if n.startswith(f"inceptcost/{folder}/")) == sorted(
            f"inceptcost/{folder}/{p.name}" for p in (ROOT / folder).glob("*.yaml")
        )
    subprocess.run([*pip, "install", "--no-deps", "--target", tmp / "site", wheel], check=True)
    return tmp / "site"


def inceptcost(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed CLI, run from `cwd` with only the target folder ahead of the dependencies on the path."""
    code = "import sys, inceptcost.cli; print(inceptcost.__file__, file=sys.stderr); inceptcost.cli.main()"
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(str(site)), done.stderr  # the installed copy, not the checkout
    return done


@pytest.mark.slow
@pytest.mark.needs_dot
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_installed_package_runs_from_an_empty_folder(installed, tmp_path):
    analysis = inceptcost(installed, tmp_path, "analyze", "googlenet", "--format", "json")
    assert '"name": "googlenet"' in analysis.stdout
    index = inceptcost(installed, tmp_path, "specs").stdout
    assert all(p.name in index for p in (ROOT / "specs").glob("*.yaml"))
    predicted = inceptcost(installed, tmp_path, "predict", "googlenet", "--profile", "h100", "--format", "json")
    assert '"step_ms"' in predicted.stdout  # the shipped datasheet profile, found by name
    inceptcost(installed, tmp_path, "diagram", "--out", "net.svg")
    assert (tmp_path / "net.svg").read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.svg"]
