"""BN-Inception's table-row form (double #3x3 columns, 'Pool +proj' cells, stride: 2) is sugar: it expands into
exactly the general `parallel` form written out by hand, and bad rows fail with file:line and a hint."""

from __future__ import annotations

import pytest

from inceptcost import compile_graph
from inceptcost.errors import SpecError

HEAD = """
    name: rows
    input: 28x28x192
    classes: 10
    defaults: {activation: relu, bias: false, norm: bn}
    layers:
"""
TAIL = """
      - {name: gap, type: gap}
      - {name: fc, type: linear}
"""
ROWS = (
    HEAD
    + """
      - {name: m3a, type: inception, "#1x1": 64, "#3x3 reduce": 64, "#3x3": 64, "double #3x3 reduce": 64,
         "double #3x3": 96, "Pool +proj": avg + 32}
      - {name: m3c, type: inception, stride: 2, "#1x1": 0, "#3x3 reduce": 128, "#3x3": 160,
         "double #3x3 reduce": 64, "double #3x3": 96, "Pool +proj": max + pass through}
"""
    + TAIL
)
GENERAL = (
    HEAD
    + """
      - name: m3a
        type: parallel
        branches:
          b1x1: [{name: conv, type: conv, kernel: 1, out: 64}]
          b3x3: [{name: reduce, type: conv, kernel: 1, out: 64}, {name: conv, type: conv, kernel: 3, out: 64}]
          bdouble3x3:
            - {name: reduce, type: conv, kernel: 1, out: 64}
            - {name: conv1, type: conv, kernel: 3, out: 96}
            - {name: conv2, type: conv, kernel: 3, out: 96}
          bpool:
            - {name: pool, type: avgpool, kernel: 3, stride: 1, padding: 1}
            - {name: proj, type: conv, kernel: 1, out: 32}
      - name: m3c
        type: parallel
        branches:
          b3x3: [{name: reduce, type: conv, kernel: 1, out: 128}, {name: conv, type: conv, patch: 3x3/2, out: 160}]
          bdouble3x3:
            - {name: reduce, type: conv, kernel: 1, out: 64}
            - {name: conv1, type: conv, kernel: 3, out: 96}
            - {name: conv2, type: conv, patch: 3x3/2, out: 96}
          bpool: [{name: pool, type: maxpool, patch: 3x3/2, padding: 1}]
"""
    + TAIL
)

FIELDS = ("op", "in_shape", "out_shape", "weights", "biases", "norm_params", "macs", "other_ops")


def test_row_form_expands_into_the_general_form(spec_from_yaml):
    rows = compile_graph(spec_from_yaml(ROWS, "rows.yaml"))
    general = compile_graph(spec_from_yaml(GENERAL, "general.yaml"))
    assert list(rows.nodes) == list(general.nodes)
    for n in rows.nodes:
        assert {f: rows.nodes[n][f] for f in FIELDS} == {f: general.nodes[n][f] for f in FIELDS}, n
        assert rows.nodes[n]["args"].get("stride") == general.nodes[n]["args"].get("stride"), n
    assert rows.nodes["m3a.concat"]["out_shape"] == (64 + 64 + 96 + 32, 28, 28)
    assert rows.nodes["m3c.concat"]["out_shape"] == (160 + 96 + 256, 14, 14)


def test_row_keeps_the_papers_columns(spec_from_yaml):
    g = compile_graph(spec_from_yaml(ROWS))
    by_name = {r.name: r for r in g.graph["rows"]}
    assert by_name["m3a"].columns == {
        "1x1": 64,
        "3x3reduce": 64,
        "3x3": 64,
        "double3x3reduce": 64,
        "double3x3": 96,
        "poolproj": "avg + 32",
    }
    assert by_name["m3c"].columns["poolproj"] == "max + pass through"
    assert by_name["m3c"].label == "inception (3c)"


@pytest.mark.parametrize(
    "row, message",
    [
        (
            '"#1x1": 64, "#3x3 reduce": 64, "#3x3": 64, "double #3x3 reduce": 64, "Pool +proj": avg + 32',
            "missing column double3x3",
        ),
        (
            '"#1x1": 64, "#3x3 reduce": 64, "#3x3": 64, "double #3x3 reduce": 64, "double #3x3": 96, "Pool +proj": min + 32',
            "expected a width, 'avg \\+ 32'",
        ),
        (
            '"#1x1": 64, "#3x3 reduce": 64, "#3x3": 64, "double #3x3 reduce": 64, "double #3x3": 96, "Pool +proj": avg + 32, pool: max',
            "contradicts the pool column",
        ),
        (
            '"#1x1": 64, "#3x3 reduce": 64, "#3x3": 64, "double #3x3 reduce": 0, "double #3x3": 96, "Pool +proj": 32',
            "'double3x3' is 96 but 'double3x3 reduce' is 0",
        ),
        (
            '"#1x1": 64, "#3x3 reduce": 64, "#3x3": 64, "double #3x3 reduce": 64, "double #3x3": 96, "Pool +proj": 32, strde: 2',
            "unknown key 'strde'.*stride",
        ),
    ],
)
def test_bad_rows_name_the_line_and_the_fix(spec_from_yaml, row, message):
    text = HEAD + "      - {name: m, type: inception, " + row + "}\n" + TAIL
    with pytest.raises(SpecError, match=message) as info:
        spec_from_yaml(text)
    assert ".yaml:7:" in str(info.value)  # the row's line (line 1 of the text is empty)


def test_googlenet_rows_still_need_all_six_columns(spec_from_yaml):
    text = (
        HEAD + '      - {name: m, type: inception, "#1x1": 64, "#3x3 reduce": 96, "#3x3": 128, pool proj: 32}\n' + TAIL
    )
    with pytest.raises(SpecError, match="missing columns 5x5reduce, 5x5"):
        spec_from_yaml(text)
