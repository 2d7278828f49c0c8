"""The README's and the manual's promises: the test command is the one CI runs, the quick start puts `inceptcost`
on the PATH, the README stays short, the example specs compile as shown, and the manual's layer-kind reference is
generated from the registry."""

from __future__ import annotations

import re
import sys

import pytest
from support import ROOT

from inceptcost import compile_graph, load_spec, summarize
from inceptcost.kinds import KIND_ALIASES, KINDS, kinds_reference

README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
SPEC_PAGE = (DOCS / "spec-language.md").read_text()


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", text, re.DOTALL)


def test_ci_runs_the_readme_test_command_last():
    test_command = next(b for b in bash_blocks(README) if "pytest" in b)
    ci = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines() if line.strip()]
    assert test_command.strip() == ci[-1]


def test_the_test_command_shows_it_is_alive():
    """Per-file progress lines (not -q's dots) and the slowest tests named at the end; a duration stated beside."""
    test_command = next(b for b in bash_blocks(README) if "pytest" in b)
    pytest_args = test_command.split("-m pytest", 1)[1].split()
    assert "-q" not in pytest_args and "--durations=10" in pytest_args
    assert re.search(r"\d+ minutes on a quiet 2-core machine, [\d-]+ minutes at a load average of \d", README)


def test_ci_builds_the_manual_strictly_before_the_tests():
    ci = (ROOT / ".ci/run").read_text()
    build = ci.find("mkdocs build --strict")
    assert 0 < build < ci.rfind("-m pytest --durations=10")
    assert "docs]" in ci[:build]  # the docs extra is installed first
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^docs = \[.*"mkdocs.*mkdocs-material.*mkdocstrings\[python\]', pyproject, re.MULTILINE)


def test_quick_start_puts_inceptcost_on_the_path():
    first = bash_blocks(README)[0]
    assert ". .venv/bin/activate" in first and first.rstrip().endswith("inceptcost analyze specs/googlenet.yaml")
    assert "`.venv/bin/inceptcost`" in README  # how, in a new shell


def test_the_manual_repeats_the_quick_start_word_for_word():
    getting_started = (DOCS / "getting-started.md").read_text()
    assert bash_blocks(README)[:2] == bash_blocks(getting_started)[:2]


def test_readme_is_short_and_links_into_the_manual():
    assert len(README.splitlines()) <= 150
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", README))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert pages <= linked, f"pages the README does not link: {sorted(pages - linked)}"
    assert README.count("![") == 1  # one picture


def test_manual_example_spec_compiles(tmp_path):
    example = re.search(r"```yaml\n(input:.*?)\n```", SPEC_PAGE, re.DOTALL).group(1)
    path = tmp_path / "example.yaml"
    path.write_text(example)
    totals = summarize(compile_graph(load_spec(path)))
    assert totals["macs"] < 1.5e9 and totals["within_budget"]


def test_manual_residual_example_compiles(tmp_path):
    """The residual blocks shown in the manual, on the 35x35x320 grid that block35 runs at in Inception-ResNet-v2."""
    rows = re.search(r"```yaml\n(  - name: block35_1\n.*?)\n```", SPEC_PAGE, re.DOTALL).group(1)
    path = tmp_path / "residual.yaml"
    path.write_text(
        f"input: 35x35x320\nclasses: 10\nlayers:\n{rows}\n  - {{name: gap, type: gap}}\n  - {{name: fc, type: linear}}\n"
    )
    graph = compile_graph(load_spec(path))
    assert graph.nodes["block35_1.add"]["out_shape"] == (320, 35, 35)
    assert graph.nodes["block1.add"]["out_shape"] == (128, 18, 18)


def test_kinds_reference_has_every_kind_key_and_alias():
    table = kinds_reference()
    shown: dict[str, list[str]] = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("| "):
            break
        kind, key = (cell.strip() for cell in line.split("|")[1:3])
        if kind:
            current = shown.setdefault(kind.strip("`"), [])
        current.append(key.strip("`"))
    assert shown == {name: list(kind.keys) or ["(none)"] for name, kind in KINDS.items()}
    assert all(f"`{alias}` = `{kind}`" in table for alias, (kind, _) in KIND_ALIASES.items())
    assert "**required**" in table and "expected" not in table  # what a key takes, in words, never the error


def test_the_manual_build_fills_in_the_reference():
    """docs/hooks.py replaces the marker of the spec language's page with the registry's table."""
    pytest.importorskip("mkdocs")
    assert "<!-- layer-kinds -->" in SPEC_PAGE
    sys.path.insert(0, str(DOCS))
    try:
        import hooks
    finally:
        sys.path.remove(str(DOCS))
    assert hooks.on_page_markdown(SPEC_PAGE, None, None, None) == SPEC_PAGE.replace(
        "<!-- layer-kinds -->", kinds_reference()
    )
