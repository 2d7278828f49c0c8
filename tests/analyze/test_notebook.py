"""In a notebook: short reprs, a spec and an analysis as HTML tables, a diagram as SVG."""

from __future__ import annotations

import re
import shutil

import pytest
from support import ROOT, TABLE_1_INCEPTION

from inceptcost import compile_graph, load_spec
from inceptcost.analyze.analysis import analyze_spec

SPEC = ROOT / "specs/googlenet.yaml"


def test_reprs_are_one_short_line():
    spec = load_spec(SPEC)
    assert repr(spec) == f"<Spec googlenet ({SPEC}): input 224x224x3, 1000 classes, 20 rows, 2 aux heads>"
    assert repr(analyze_spec(spec)).startswith("<Analysis googlenet: ") and "\n" not in repr(analyze_spec(spec))


def test_a_spec_shows_its_table_as_html():
    page = load_spec(SPEC)._repr_html_()
    assert page.startswith("<div>") and page.count("<table>") == 1 and page == analyze_spec(SPEC)._repr_html_()
    first_cells = re.findall(r"<tr><td[^>]*>([^<]*)<", page)
    assert set(TABLE_1_INCEPTION) < set(first_cells) and first_cells[-1] == "total"


def test_html_escapes_what_the_spec_says(write_spec):
    path = write_spec(
        "name: a<b\ninput: 8x8x3\nclasses: 2\nlayers:\n  - {name: x, type: gap}\n  - {type: linear}\n", "a&b.yaml"
    )
    page = load_spec(path)._repr_html_()
    assert "a&lt;b" in page and "a&amp;b.yaml" in page and "a<b" not in page


@pytest.mark.needs_dot
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_a_diagram_shows_as_svg():
    graphviz = pytest.importorskip("graphviz")
    from inceptcost.analyze.diagram import diagram_source

    svg = graphviz.Source(diagram_source(compile_graph(load_spec(SPEC))))._repr_image_svg_xml()
    assert "<svg" in svg and "inception_4e" in svg
