"""Bad input in the residual-era keys (residual, separable, bn, activations, claims): exit code 2 and one line
that names the file, the YAML line, the layer and the fix; and the fixes that came with them."""

from __future__ import annotations

import re

import pytest


def spec_with(*rows: str, head: str = "input: 28x28x192\n", tail: str = "") -> str:
    """A spec with `rows` before a gap and a linear (as in test_bad_specs.py)."""
    body = "".join(f"  - {r}\n" for r in rows)
    return f"{head}layers:\n{body}  - {{name: gap, type: gap}}\n  - {{name: fc, type: linear}}\n{tail}"


CONV = "{name: c, type: conv, kernel: 3, out: 192}"
RES = "{name: r, type: residual, body: [" + CONV + "]}"
CLAIM = "  - {claim: 'x', measure: macs, value: 1G, source: 'y'}\n"

# (id, YAML text, expected line, regex the message must match)
CASES = [
    ("residual-type", spec_with(RES.replace("residual", "residul")), 3, r"r: unknown layer type 'residul'.*'residual'"),
    ("body-key", spec_with(RES.replace("body", "bdoy")), 3, r"r: unknown key 'bdoy'; did you mean 'body'"),
    ("shortcut-key", spec_with(RES.replace("}]}", "}], shortcat: identity}")), 3, r"did you mean 'shortcut'"),
    ("scale-key", spec_with(RES.replace("}]}", "}], scael: 0.2}")), 3, r"unknown key 'scael'; did you mean 'scale'"),
    ("activation-key", spec_with(RES.replace("}]}", "}], activaton: relu}")), 3, r"did you mean 'activation'"),
    ("missing-body", spec_with("{name: r, type: residual, scale: 0.2}"), 3, r"r: missing 'body'; give the block's"),
    ("separable-type", spec_with("{name: s, type: seperable, kernel: 3, out: 8}"), 3, r"did you mean 'separable'"),
    ("between-key", spec_with("{name: s, type: separable, kernel: 3, out: 8, betwen: true}"), 3, r"'between'"),
    (
        "between-on-conv",
        spec_with("{name: s, type: conv, kernel: 3, out: 8, between: true}"),
        3,
        r"separable conv only",
    ),
    ("relu-type", spec_with("{name: a, type: rleu}"), 3, r"a: unknown layer type 'rleu'; did you mean 'relu'"),
    ("relu-with-activation", spec_with("{name: a, type: relu, activation: gelu}"), 3, r"unknown key 'activation'"),
    ("bn-key", spec_with("{name: b, type: bn, esp: 0.001}"), 3, r"b: unknown key 'esp'; did you mean 'eps'"),
    ("activation-value", spec_with("{name: a, type: activation, activation: rleu}"), 3, r"expected one of"),
    (
        "identity-shape",
        spec_with(RES.replace("out: 192", "out: 64")),
        3,
        r"r: cannot add: the body ends in 28x28x64 but the identity shortcut \(the block's input\) is 28x28x192;"
        r" make the body's last layer",
    ),
    (
        "projection-shape",
        spec_with(RES.replace("}]}", "}], shortcut: [{name: p, type: conv, patch: 1x1/2, out: 192}]}")),
        3,
        r"r: cannot add: the body ends in 28x28x192 but the projection shortcut is 14x14x192",
    ),
    ("scale-text", spec_with(RES.replace("}]}", "}], scale: big}")), 3, r"'scale'.*positive number.*scale: 0.17"),
    ("scale-zero", spec_with(RES.replace("}]}", "}], scale: 0}")), 3, r"'scale'.*positive number"),
    (
        "shortcut-names-nothing",
        spec_with(RES.replace("}]}", "}], shortcut: proj}")),
        3,
        r"r: 'shortcut' names no layer: 'proj'; write shortcut: identity, or the projection's layers",
    ),
    ("reserved-name", spec_with("{name: r, type: residual, body: [{name: add, type: relu}]}"), 3, r"r.add: .*reserved"),
    (
        "claims-key",
        spec_with(CONV, tail="claims:\n" + CLAIM.replace("measure", "mesure")),
        7,
        r"did you mean 'measure'",
    ),
    ("claims-measure", spec_with(CONV, tail="claims:\n" + CLAIM.replace("macs", "flops")), 7, r"'measure'.*macs"),
    ("claims-value", spec_with(CONV, tail="claims:\n" + CLAIM.replace("1G", "lots")), 7, r"'value'.*1.5G"),
    ("claims-versus", spec_with(CONV, tail="claims:\n" + CLAIM.replace("macs", "macs_vs")), 7, r"needs 'versus'"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_spec_exits_2_with_one_line(cli, write_spec, tmp_path, case):
    _, text, line, pattern = case
    path = write_spec(text)
    out = tmp_path / "out.json"
    result = cli("analyze", path, "--format", "json", "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith(f"error: {path}:{line}: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists()


def test_eps_written_1e_5_is_a_number(write_spec):
    """YAML 1.1 reads `1e-5` (no dot) as text; specs mean the number."""
    from inceptcost import load_spec

    spec = load_spec(write_spec(spec_with(CONV, head="input: 8x8x3\ndefaults: {norm: bn, eps: 1e-5}\n")))
    assert spec.defaults["eps"] == 1e-5
    assert spec.body.children[0].args["eps"] == 1e-5


def test_an_unknown_type_lists_every_kind(cli, write_spec):
    """The list of valid types is not cut short: the structural kinds come last alphabetically."""
    result = cli("analyze", write_spec(spec_with("{name: q, type: zzzzzz}")))
    assert result.exit_code == 2
    for kind in ("conv", "parallel", "residual", "separable", "sequence", "relu", "bn"):
        assert re.search(rf"\b{kind}\b", result.stderr), (kind, result.stderr)
