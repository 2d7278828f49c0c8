"""The predictor against a hand computation, the shipped profiles, the `predict` command and its bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import ROOT

from inceptcost import compile_graph, load_spec
from inceptcost.analyze.timing.predict import predict
from inceptcost.analyze.timing.profile import KINDS, ProfileError, load_profile, parse_profile

TINY = """
name: tiny
input: 8x8x3
classes: 5
defaults: {activation: relu, bias: false, norm: bn}
layers:
  - {name: conv1, type: conv, kernel: 3, out: 4}
  - {name: gap, type: gap}
  - {name: linear, type: linear, bias: true}
"""


def simple_profile(**change):
    data = {
        "name": "simple",
        "device": "cpu",
        "device_name": "test",
        "source": "calibrated",
        "peak_tflops": {"fp32": 1.0},
        "bandwidth_gbs": 1.0,
        "efficiency": {k: 0.5 for k in KINDS},
        "overhead_us": {"forward": 10.0, "backward": 20.0},
    }
    data.update(change)
    return data


def test_roofline_per_kernel_plus_overhead_by_hand(write_spec):
    graph = compile_graph(load_spec(write_spec(TINY)))
    p = predict(graph, parse_profile(simple_profile(), "simple"), batch=2, mode="infer")
    row = next(r for r in p.rows if r.name == "conv1")
    # conv: 2 x 13,824 MACs / 0.5 TFLOP/s = 0.055 us < (1968 + 2048) B / 0.5 GB/s = 8.032 us -> memory
    # bn: 4128 B -> 8.256 us; relu: 4096 B -> 8.192 us; 3 kernels x 10 us overhead
    assert row.memory_ms == pytest.approx((8.032 + 8.256 + 8.192) / 1e3)
    assert row.compute_ms == 0 and row.overhead_ms == pytest.approx(0.030)
    assert row.bound == "overhead" and row.ms == pytest.approx(0.05448)
    assert p.step_ms == pytest.approx(sum(r.ms for r in p.rows))
    fast = predict(graph, parse_profile(simple_profile(bandwidth_gbs=1e9), "fast"), batch=2, mode="infer")
    conv = next(r for r in fast.rows if r.name == "conv1")
    assert conv.compute_ms == pytest.approx(2 * 13824 / 0.5e12 * 1e3)


def test_a_training_step_adds_backward_loss_and_optimizer(write_spec):
    graph = compile_graph(load_spec(write_spec(TINY)))
    prof = parse_profile(simple_profile(), "simple")
    infer = predict(graph, prof, 2, mode="infer")
    train = predict(graph, prof, 2, mode="train")
    assert [r.name for r in train.rows][-2:] == ["loss", "optimizer"]
    assert train.step_ms > 2 * infer.step_ms
    opt = train.rows[-1]
    assert opt.kernels == 3 * 5  # conv1 weight, bn weight, bn bias, linear weight, bias


def test_shipped_datasheet_profiles_load_and_order_by_bandwidth():
    graph = compile_graph(load_spec(ROOT / "specs/googlenet.yaml"))
    times = {}
    for name in ("a100", "h100", "h200"):
        prof = load_profile(ROOT / f"profiles/{name}.yaml")
        assert prof.source == "datasheet" and prof.device == "cuda"
        times[name] = predict(graph, prof, 64).step_ms
    assert times["a100"] > times["h100"] > times["h200"]  # same efficiencies; more FLOP/s, more bandwidth


def test_shipped_cpu_profile_is_calibrated():
    prof = load_profile(ROOT / "profiles/cpu.yaml")
    assert prof.source == "calibrated" and prof.device == "cpu" and prof.versions.get("torch")


def test_predict_json_keys(cli):
    r = cli("predict", ROOT / "specs/googlenet.yaml", "--profile", "h100", "--batch", "32", "--format", "json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["step_ms"] == pytest.approx(sum(row["ms"] for row in d["rows"]))
    assert {row["bound"] for row in d["rows"]} <= {"compute", "memory", "overhead"}
    assert sum(row["share"] for row in d["rows"]) == pytest.approx(1.0)


@pytest.mark.parametrize("fmt", ["table", "csv", "md"])
def test_predict_other_formats(cli, fmt):
    r = cli("predict", ROOT / "specs/variant.yaml", "--profile", "a100", "--batch", "8", "--format", fmt)
    assert r.exit_code == 0, r.stderr
    assert "inception_3a.concat" in r.stdout


def test_predict_never_imports_torch():
    code = (
        "import sys; from typer.testing import CliRunner; from inceptcost.cli import app;"
        f"r = CliRunner().invoke(app, ['predict', {str(ROOT / 'specs/googlenet.yaml')!r}, '--profile', 'h200']);"
        "assert r.exit_code == 0, r.output; assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
)


@pytest.mark.parametrize(
    "text, extra, expect",
    [
        (None, [], "no such file"),
        ("name: [unclosed\n", [], "YAML syntax error"),
        (BOMB, [], "nodes"),
        ("- just\n- a list\n", [], "not a device profile"),
        ("<h100>", ["--device", "cpu"], "is a cuda profile, but this run is on cpu"),
        ("<h100>", ["--batch", "0"], "--batch must be a whole number >= 1"),
        ("<h100>", ["--dtype", "int3"], "unknown dtype 'int3'"),
        ("<h100>", ["--dtype", "fp64"], "has no peak for fp64"),
        ("<eff>", [], "efficiency.conv must be a number above 0 and at most 1"),
        ("<kind>", [], "device kind 'tpu'"),
        ("<missing>", [], "efficiency: no entry for 'copy'"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, tmp_path, text, extra, expect):
    import yaml

    path = tmp_path / "p.yaml"
    if text == "<h100>":
        path = ROOT / "profiles/h100.yaml"
    elif text == "<eff>":
        path.write_text(yaml.safe_dump(simple_profile(efficiency={**{k: 0.5 for k in KINDS}, "conv": 1.5})))
    elif text == "<kind>":
        path.write_text(yaml.safe_dump(simple_profile(device="tpu")))
    elif text == "<missing>":
        path.write_text(yaml.safe_dump(simple_profile(efficiency={k: 0.5 for k in KINDS if k != "copy"})))
    elif text is not None:
        path.write_text(text)
    r = cli("predict", ROOT / "specs/variant.yaml", "--profile", path, *extra)
    assert r.exit_code == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    if "--batch" not in extra and "--dtype" not in extra:
        assert str(path) in lines[0]


def test_a_profile_name_that_is_not_shipped(cli):
    r = cli("predict", ROOT / "specs/variant.yaml", "--profile", "h999")
    assert r.exit_code == 2 and "no such profile" in r.stderr and "h100" in r.stderr


def test_parse_profile_raises_typed_errors():
    with pytest.raises(ProfileError, match="unknown key 'bogus'"):
        parse_profile(simple_profile(bogus=1), "x.yaml")


def test_a_kind_with_its_own_fixed_cost(write_spec):
    graph = compile_graph(load_spec(write_spec(TINY)))
    plain = predict(graph, parse_profile(simple_profile(), "p"), 2, mode="infer")
    over = {"forward": 10.0, "backward": 20.0, "conv": 110.0}
    own = predict(graph, parse_profile(simple_profile(overhead_us=over), "p"), 2, mode="infer")
    # conv1's conv kernel (kind "conv": a 3x3) pays 110 us instead of 10; its bn and relu are unchanged
    assert own.rows[0].overhead_ms - plain.rows[0].overhead_ms == pytest.approx(0.100)
    with pytest.raises(ProfileError, match="overhead_us: unknown key 'convv'"):
        parse_profile(simple_profile(overhead_us={**over, "convv": 1.0}), "p")


def test_a_kind_whose_bytes_follow_its_arithmetic(write_spec):
    """A `serial_gbs` kind adds its bytes' time to its arithmetic's (a CPU's oneDNN reorders), not the max."""
    graph = compile_graph(load_spec(write_spec(TINY)))
    p = predict(graph, parse_profile(simple_profile(serial_gbs={"conv": 0.25}), "p"), batch=2, mode="infer")
    row = next(r for r in p.rows if r.name == "conv1")
    # conv: 0.055296 us of arithmetic + (1968 + 2048) B / 0.25 GB/s = 16.064 us; bn and relu as in the roofline
    assert row.compute_ms == pytest.approx(2 * 13824 / 0.5e12 * 1e3)
    assert row.memory_ms == pytest.approx((16.064 + 8.256 + 8.192) / 1e3)
    assert row.ms == pytest.approx(row.compute_ms + row.memory_ms + 0.030)
    with pytest.raises(ProfileError, match="serial_gbs: 'bn' is not a compute kernel kind"):
        parse_profile(simple_profile(serial_gbs={"bn": 1.0}), "p")
    with pytest.raises(ProfileError, match="serial_gbs.conv must be a number above 0"):
        parse_profile(simple_profile(serial_gbs={"conv": 0}), "p")
    no_gemm = {k: 0.5 for k in KINDS if not k.startswith("conv1x1_gemm")}  # a GPU's file: no CPU GEMM path
    prof = parse_profile(simple_profile(efficiency=no_gemm, serial_gbs={"conv1x1": 2.0}), "p")
    assert prof.serial_gbs["conv1x1_gemm"] == 2.0 and "conv1x1_gemm_bwd" not in prof.serial_gbs
    own = parse_profile(simple_profile(serial_gbs={"conv1x1": 2.0}), "p")  # its own GEMM figures: not inherited
    assert "conv1x1_gemm" not in own.serial_gbs


def test_new_tensors_at_or_above_the_threshold_pay_for_their_fresh_pages(write_spec):
    graph = compile_graph(load_spec(write_spec(TINY)))

    def conv1(**change):
        p = predict(graph, parse_profile(simple_profile(**change), "p"), batch=2, mode="infer")
        return next(r for r in p.rows if r.name == "conv1")

    plain = conv1()
    # conv1's new tensors at batch 2: the conv's and the bn's outputs, 2048 B each (the ReLU is in place);
    # from 2000 B on, at 1 GB/s: 2 x 2.048 us more, all of it memory time
    low = conv1(first_touch={"gbs": 1.0, "above_mib": 2000 / 2**20})
    assert low.memory_ms - plain.memory_ms == pytest.approx(2 * 2.048e-3)
    assert low.compute_ms == plain.compute_ms and low.overhead_ms == plain.overhead_ms
    assert conv1(first_touch={"gbs": 1.0, "above_mib": 2100 / 2**20}).ms == pytest.approx(plain.ms)
    with pytest.raises(ProfileError, match="first_touch needs 'gbs' and 'above_mib'"):
        parse_profile(simple_profile(first_touch={"gbs": 1.0}), "p")
    with pytest.raises(ProfileError, match="first_touch.gbs must be a number above 0"):
        parse_profile(simple_profile(first_touch={"gbs": -1, "above_mib": 32}), "p")


ONE_BY_ONE = """
name: pointwise
input: 8x8x64
classes: 5
defaults: {activation: none, bias: false, norm: none}
layers:
  - {name: pw, type: conv, kernel: 1, out: 64}
  - {name: down, type: conv, kernel: 1, stride: 2, out: 64}
  - {name: gap, type: gap}
  - {name: linear, type: linear}
"""


def test_a_one_thread_cpu_runs_small_batch_1x1_convs_as_a_plain_gemm(write_spec):
    """ATen runs an unstrided 1x1 conv on one CPU thread as a GEMM below batch 16 and through oneDNN from 16 on;
    a strided 1x1 conv is a conv kernel at any batch."""
    graph = compile_graph(load_spec(write_spec(ONE_BY_ONE)))
    eff = {k: 0.5 for k in KINDS} | {"conv1x1_gemm": 1e-4}  # the GEMM path made 5000x slower, to be seen
    slow_gemm = simple_profile(efficiency=eff, peak_tflops={"fp32": 1e-3}, bandwidth_gbs=1e6, threads=1)

    def per_image(name, batch, **change):
        p = predict(graph, parse_profile(slow_gemm | change, "p"), batch=batch, mode="infer")
        return next(r for r in p.rows if r.name == name).compute_ms / batch

    # the pw conv: 64 x 64 x 8 x 8 = 262,144 MACs an image; down: 64 x 64 x 4 x 4 = 65,536
    gemm = 2 * 262144 / (1e9 * 1e-4) * 1e3
    dnn = 2 * 262144 / (1e9 * 0.5) * 1e3
    assert per_image("pw", 15) == pytest.approx(gemm) and per_image("pw", 16) == pytest.approx(dnn)
    assert per_image("pw", 4, threads=2) == pytest.approx(dnn)  # more threads: oneDNN at any batch
    assert per_image("pw", 4, device="cuda", threads=None) == pytest.approx(dnn)
    assert per_image("down", 4) == pytest.approx(2 * 65536 / (1e9 * 0.5) * 1e3)  # strided: a conv kernel


def test_a_profile_without_the_cpu_gemm_path_uses_its_1x1_conv_figures():
    prof = load_profile(ROOT / "profiles/h100.yaml")  # a GPU has no such path; its file does not name it
    assert prof.efficiency["conv1x1_gemm"] == prof.efficiency["conv1x1"]
    assert prof.efficiency["conv1x1_gemm_bwd"] == prof.efficiency["conv1x1_bwd"]
