"""Claims are declared per spec: `verify` judges a spec against its own published figures only."""

from __future__ import annotations

import json

SPEC = """
input: 16x16x3
classes: 10
claims:
  - {claim: "under 1M MACs", measure: macs, value: 1M, compare: at_most, source: "a test"}
  - {claim: "about 2K params", measure: params, value: 2K, compare: about, source: "a test"}
  - {claim: "as many MACs as a missing net", measure: macs_vs, value: 1, versus: missing.yaml, source: "a test"}
layers:
  - {name: c, type: conv, kernel: 3, out: 8}
  - {type: gap}
  - {type: linear}
"""
# conv 3x3, 3 -> 8 on 16x16: 216 weights + 8 biases, 216 * 256 = 55,296 MACs; linear 8 -> 10: 80 + 10
MACS, PARAMS = 216 * 256 + 80, 216 + 8 + 80 + 10


def claims_of(run, path) -> dict[str, dict]:
    result = run("verify", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {c["claim"]: c for c in json.loads(result.stdout)["claims"]}


def test_a_spec_is_judged_on_its_own_claims(run, spec_file):
    claims = claims_of(run, spec_file(SPEC))
    assert list(claims) == ["under 1M MACs", "about 2K params", "as many MACs as a missing net"]
    assert (claims["under 1M MACs"]["ours"], claims["under 1M MACs"]["verdict"]) == (MACS, "holds")
    assert (claims["about 2K params"]["ours"], claims["about 2K params"]["verdict"]) == (PARAMS, "does not hold")
    assert claims["as many MACs as a missing net"]["verdict"] == "n/a"
    assert all(c["source"] == "a test" for c in claims.values())


def test_bn_inception_prints_its_claims_not_googlenets(run, root):
    claims = claims_of(run, root / "specs/bn-inception.yaml")
    assert list(claims) == ["the double 3x3 raises the computational cost by about 30%"]


def test_a_spec_without_claims_has_none(run, root):
    assert claims_of(run, root / "specs/variant.yaml") == {}
