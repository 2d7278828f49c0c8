"""Every numeric figure of a device profile is checked: a non-finite (`.inf`, `.nan`, `1e400`), a number
too large for a float (400 nines), a denormal or an absurd one is an error naming the file and its line,
never a normal-looking table computed from it."""

from __future__ import annotations

import re

import pytest
from support import ROOT
from typer.testing import CliRunner

from inceptcost.analyze.timing.profile import ProfileError, load_profile

SHIPPED = (ROOT / "profiles/cpu.yaml").read_text()
START = SHIPPED[: SHIPPED.index("\npeak_tflops:")].count("\n") + 1  # above: names, date, versions (text)
HEAD = SHIPPED[: SHIPPED.index("\nfit:")]  # the figures; `fit:` below only records how they were fitted
# every `key: number` line of the figures, as (line number, the line)
FIGURES = [
    (i, line) for i, line in enumerate(HEAD.splitlines(), 1) if i > START and re.fullmatch(r"\s*\w+: [0-9.]+", line)
]
BAD = {"inf": ".inf", "nan": ".nan", "beyond a float": "1.0e+400", "400 nines": "9" * 400, "denormal": "1.0e-320"}


def test_the_figures_are_found() -> None:
    keys = {line.split(":")[0].strip() for _, line in FIGURES}
    assert {"fp32", "bandwidth_gbs", "forward", "conv", "gbs", "above_mib"} <= keys and len(FIGURES) > 50


@pytest.mark.parametrize("bad", list(BAD))
def test_every_figure_refuses_a_value_no_device_has(tmp_path, bad) -> None:
    path = tmp_path / "p.yaml"
    lines = SHIPPED.splitlines()
    for number, line in FIGURES:
        changed = list(lines)
        changed[number - 1] = line.split(":")[0] + ": " + BAD[bad]
        path.write_text("\n".join(changed) + "\n")
        with pytest.raises(ProfileError) as caught:
            load_profile(path)
        assert (caught.value.file, caught.value.line) == (str(path), number), (line, str(caught.value))


@pytest.mark.parametrize(
    "key, value",
    [("fp32", "1.0e+6"), ("bandwidth_gbs", "1.0e+10"), ("forward", "1.0e+12"), ("above_mib", "1.0e+15")],
)
def test_an_absurd_figure(tmp_path, key, value) -> None:
    """Far beyond any device: a million TFLOP/s, a PB/s, a million seconds of overhead per kernel."""
    path = tmp_path / "p.yaml"
    path.write_text(re.sub(rf"(?m)^(\s*{key}): .*$", rf"\1: {value}", SHIPPED, count=1))
    with pytest.raises(ProfileError, match=key):
        load_profile(path)


@pytest.mark.parametrize("value", ["100000", "9" * 400, "0"])
def test_threads(tmp_path, value) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(SHIPPED.replace("\nthreads: 1\n", f"\nthreads: {value}\n"))
    with pytest.raises(ProfileError, match="threads"):
        load_profile(path)


@pytest.mark.parametrize("value", [".inf", "1e400"])
def test_predict_with_an_infinite_peak_is_one_error(tmp_path, value) -> None:
    """The case as a user meets it: `predict --profile P.yaml` with `fp32: .inf` printed a normal table."""
    from inceptcost.cli import app

    path = tmp_path / "p.yaml"
    path.write_text(SHIPPED.replace("  fp32: 0.0656\n", f"  fp32: {value}\n"))
    result = CliRunner().invoke(app, ["predict", str(ROOT / "specs/googlenet.yaml"), "--profile", str(path)])
    assert result.exit_code == 2, result.output
    line = SHIPPED.splitlines().index("  fp32: 0.0656") + 1
    assert result.stderr.startswith(f"error: {path}:{line}: ") and "peak_tflops.fp32" in result.stderr
