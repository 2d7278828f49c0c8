"""Bad input: exit code 2 and one line that names the file, the YAML line, the layer and the fix."""

from __future__ import annotations

import re

import pytest

GOOD_ROW = (
    "{name: inception_3a, type: inception, 1x1: 64, 3x3reduce: 96, 3x3: 128, 5x5reduce: 16, 5x5: 32, poolproj: 32}"
)


def spec_with(*rows: str, head: str = "input: 28x28x192\n", tail: str = "") -> str:
    body = "".join(f"  - {r}\n" for r in rows)
    return f"{head}layers:\n{body}  - {{name: gap, type: gap}}\n  - {{name: fc, type: linear}}\n{tail}"


# (id, YAML text, expected line or None, regex the message must match)
CASES = [
    (
        "unknown-key",
        spec_with(GOOD_ROW.replace("poolproj", "poolprj")),
        3,
        r"unknown key 'poolprj'.*did you mean 'poolproj'",
    ),
    (
        "unknown-type",
        spec_with("{name: c, type: convolve, kernel: 3, out: 8}"),
        3,
        r"unknown layer type 'convolve'.*did you mean",
    ),
    ("missing-out", spec_with("{name: c, type: conv, kernel: 3}"), 3, r"missing 'out'"),
    ("negative-width", spec_with("{name: c, type: conv, kernel: 3, out: -8}"), 3, r"'out'.*positive whole number"),
    ("float-width", spec_with("{name: c, type: conv, kernel: 3, out: 8.5}"), 3, r"'out'.*whole number"),
    ("bool-width", spec_with("{name: c, type: conv, kernel: 3, out: true}"), 3, r"'out'.*whole number"),
    # counts written as floats (2.0) are refused, not truncated: stride, groups, kernel
    ("float-stride", spec_with("{name: c, type: conv, kernel: 3, out: 8, stride: 2.0}"), 3, r"'stride'.*size like 3x3"),
    ("float-groups", spec_with("{name: c, type: conv, kernel: 3, out: 8, groups: 1.0}"), 3, r"'groups'.*whole number"),
    ("float-kernel", spec_with("{name: c, type: conv, kernel: [3, 3.0], out: 8}"), 3, r"'kernel'.*size like 3x3"),
    ("bad-kernel", spec_with("{name: c, type: conv, kernel: 3x3x3, out: 8}"), 3, r"'kernel'"),
    ("bad-padding", spec_with("{name: c, type: conv, kernel: 3, out: 8, padding: wide}"), 3, r"'padding'.*same"),
    ("dropout-range", spec_with("{name: d, type: dropout, p: 1.5}"), 3, r"probability"),
    (
        "duplicate-name",
        spec_with("{name: c, type: conv, kernel: 3, out: 8}", "{name: c, type: conv, kernel: 3, out: 8}"),
        4,
        r"duplicate layer name 'c'",
    ),
    ("duplicate-key", spec_with("{name: c, type: conv, kernel: 3, out: 8, out: 9}"), 3, r"duplicate key 'out'"),
    ("missing-column", spec_with(GOOD_ROW.replace(", poolproj: 32", "")), 3, r"missing column poolproj"),
    (
        "spatial-collapse",
        spec_with(
            "{name: c, type: conv, patch: 7x7/2, out: 8, padding: 0}",
            "{name: p, type: maxpool, patch: 9x9/1}",
            head="input: 12x12x3\n",
        ),
        4,
        r"spatial size collapses",
    ),
    (
        "concat-mismatch",
        spec_with(
            "{name: m, type: parallel, branches: {a: [{type: conv, kernel: 1, out: 4}], b: [{type: conv, patch: 3x3/2, out: 4}]}}"
        ),
        3,
        r"different spatial sizes.*a 28x28, b 14x14",
    ),
    ("groups", spec_with("{name: c, type: conv, kernel: 3, out: 10, groups: 4}"), 3, r"groups=4 must divide"),
    (
        "aux-unknown-layer",
        spec_with(GOOD_ROW, tail="aux:\n  - {name: aux1, at: inception_4a, layers: [{type: linear}]}\n"),
        7,
        r"'at' names no layer: 'inception_4a'.*inception_3a",
    ),
    (
        "no-classifier",
        "input: 28x28x3\nlayers:\n  - {name: c, type: conv, kernel: 3, out: 8}\n",
        3,
        r"ends in a 28x28x8 feature map.*linear",
    ),
    (
        "classes-mismatch",
        spec_with("{name: c, type: conv, kernel: 3, out: 8}", head="input: 8x8x3\nclasses: 10\n").replace(
            "{name: fc, type: linear}", "{name: fc, type: linear, out: 7}"
        ),
        6,
        r"ends in 7 outputs but the spec has 10 classes",
    ),
    (
        "groups-and-multiplier",
        spec_with("{name: c, type: conv, kernel: 3, out: 8, multiplier: 2, groups: 3}"),
        3,
        r"'groups' with 'multiplier'",
    ),
    ("missing-input", "layers:\n  - {name: fc, type: linear}\n", 1, r"missing 'input'"),
    ("bad-input", "input: 224x224\nlayers:\n  - {name: fc, type: linear}\n", 1, r"'input' must be HxWxC"),
    (
        "top-level-typo",
        "input: 8x8x3\nclases: 10\nlayers:\n  - {name: fc, type: linear}\n",
        2,
        r"unknown key 'clases'.*did you mean 'classes'",
    ),
    ("yaml-syntax", "input: 8x8x3\nlayers:\n  - {name: fc, type: linear\n", 4, r"YAML syntax error"),
    (
        "unquoted-hash",
        "input: 8x8x3\nlayers:\n  - {name: m, type: inception, #1x1: 64}\n",
        3,
        r"YAML syntax error.*quote keys",
    ),
    (
        "python-tag",
        "input: !!python/object/apply:os.system ['echo hi']\nlayers: []\n",
        1,
        r"explicit YAML tag .!!python/object/apply:os.system. is not allowed",
    ),
    (
        "alias-bomb",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        None,
        r"expands to more than",
    ),
    ("deep-nesting", "x: " + "[" * 100 + "]" * 100 + "\n", 1, r"nesting"),
    ("empty", "", None, r"empty file"),
    ("comments-only", "\n# input: 224x224x3\n", 2, r"no YAML content"),
    ("not-a-mapping", "- just\n- a list\n", 1, r"must be a mapping"),
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
    message = lines[0]
    assert "Traceback" not in result.output
    place = f"{path}:{line}" if line else str(path)
    assert message.startswith(f"error: {place}"), message
    assert re.search(pattern, message), message
    assert not out.exists()


def test_binary_non_utf8_directory_and_missing_files(cli, tmp_path):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x7fELF\x00\x01\x02")
    latin = tmp_path / "l.yaml"
    latin.write_bytes(b"input: 8x8x3\nname: caf\xe9\n")
    for path, pattern in [
        (binary, "binary file"),
        (latin, r"l\.yaml:2: not UTF-8"),
        (tmp_path, "is a directory"),
        (tmp_path / "missing.yaml", "no such file"),
    ]:
        result = cli("analyze", path)
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert re.search(pattern, result.stderr), result.stderr
