"""bench on CPU: a row with sane fields, per-layer records, peaks, the GPU script's CPU smoke run."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from inceptcost import compile_graph, load_spec, summarize
from inceptcost.cli import app
from inceptcost.train.bench import peaks

from .conftest import ROOT

pytest.importorskip("torch")

TINY_RUN = ["--device", "cpu", "--batch", "2", "--steps", "2", "--warmup", "1", "--repeats", "2"]


def hand_macs_small():
    # conv1 3x3 3->16 at 16x16; pool -> 8x8; inception: 1x1 16->8; 3x3 reduce 16->8, 3x3 8->16;
    # "5x5" reduce 16->8, 5x5 8->8; pool proj 16->8 (all at 8x8); classifier 40 -> 5.
    convs = 16 * 16 * 16 * 3 * 9 + 64 * (8 * 16 + 8 * 16 + 16 * 8 * 9 + 8 * 16 + 8 * 8 * 25 + 8 * 16)
    return convs + 40 * 5


def test_small_spec_macs_by_hand(small_spec):
    assert summarize(compile_graph(load_spec(small_spec)))["macs"] == hand_macs_small()


def test_bench_row_json(small_spec, tmp_path):
    out = tmp_path / "b.json"
    r = CliRunner().invoke(app, ["bench", str(small_spec), *TINY_RUN, "--mode", "train", "-o", str(out)])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(out.read_text())["rows"]
    assert row["model"] == "inceptcost:small" and row["device"] == "cpu" and row["batch"] == 2
    assert row["macs_per_image"] == hand_macs_small()
    assert row["images_per_s"] > 0 and row["ms_per_step"] > 0
    assert row["images_per_s"] == pytest.approx(2 / (row["ms_per_step"] / 1e3))
    assert row["ms_per_step_min"] <= row["ms_per_step"] <= row["ms_per_step_max"]
    flops = 2 * hand_macs_small() * 2 * 3  # fwd+bwd convention
    assert row["tflops"] == pytest.approx(flops / (row["ms_per_step"] / 1e3) / 1e12)
    assert row["mfu"] is None and row["peak_tflops"] is None  # no known CPU peak
    assert row["peak_mem_kind"] == "cpu_peak_rss_growth" and row["peak_mem_bytes"] >= 0
    assert row["oom_retries"] == 0 and row["error"] is None


def test_bench_csv_infer_with_peak(small_spec, tmp_path):
    out = tmp_path / "b.csv"
    args = ["bench", str(small_spec), *TINY_RUN, "--mode", "infer", "--peak", "0.5", "-o", str(out), "--per-layer"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    header, line = out.read_text().splitlines()[:2]
    row = dict(zip(header.split(","), line.split(","), strict=False))
    assert row["mode"] == "infer" and float(row["mfu"]) == pytest.approx(float(row["tflops"]) / 0.5)
    layers = out.with_suffix(".layers.csv").read_text().splitlines()
    assert layers[0].startswith("name,op,macs")


def test_per_layer_records(small_spec):
    from inceptcost.train.bench.per_layer import per_layer
    from inceptcost.train.bench.runner import BenchConfig

    cfg = BenchConfig(device="cpu", batch=2, steps=2, warmup=1, peak_tflops=1.0, peak_bw_gbs=100.0)
    res = per_layer(load_spec(small_spec), cfg)
    names = [r["name"] for r in res["layers"]]
    assert "inception_3a.concat" in names and "inception_3a.b3x3.reduce" in names and "conv1" in names
    assert sum(r["macs"] for r in res["layers"]) == hand_macs_small()
    conv1 = next(r for r in res["layers"] if r["name"] == "conv1")
    # roofline by hand: 2*MACs*batch / 1 TFLOP/s vs (in + out activations) x batch x 4 B + weights x 4 B at 100 GB/s
    t_c = 2 * 16 * 16 * 16 * 27 * 2 / 1e12 * 1e3
    t_m = ((3 + 16) * 256 * 2 * 4 + (432 + 32) * 4) / 100e9 * 1e3
    assert conv1["roofline_ms"] == pytest.approx(max(t_c, t_m))
    assert conv1["op"] == "conv3x3" and all(r["measured_ms"] is not None for r in res["layers"])
    assert {g["op"] for g in res["by_op"]} >= {"conv1x1", "conv3x3", "conv5x5", "maxpool", "concat", "linear"}


def test_compare_torchvision_message(small_spec):
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed here")
    r = CliRunner().invoke(app, ["bench", str(small_spec), *TINY_RUN, "--compare", "torchvision"])
    assert r.exit_code == 2 and "needs torchvision" in r.output and "inceptcost[interop]" in r.output


def test_bad_inputs(small_spec):
    r = CliRunner().invoke(app, ["bench", str(small_spec), "--device", "cpu", "-o", "x.txt"])
    assert r.exit_code == 2 and ".json or .csv" in r.output
    r = CliRunner().invoke(app, ["bench", str(small_spec), "--device", "tpu"])
    assert r.exit_code == 2 and "unknown device" in r.output


def _tflops(sms: int, flops_per_sm_clock: int, ghz: float) -> float:
    return sms * flops_per_sm_clock * ghz / 1e3


# Dense peaks rebuilt from the chips' units and clocks (NVIDIA's A100 and H100 architecture whitepapers:
# A100 108 SMs at 1.41 GHz, 4 tensor cores x 256 bf16 FMA per clock, 64 fp32 lanes; H100 SXM 132 SMs,
# 4 tensor cores x 512 bf16 FMA per clock at 1.83 GHz, 128 fp32 lanes at 1.98 GHz; tf32 runs at half the bf16
# rate), or for the H100 PCIe from its datasheet's figures "with sparsity" (bf16 1513, tf32 756), halved.
H100_SXM = (_tflops(132, 4 * 512 * 2, 1.83), _tflops(132, 4 * 512 * 2, 1.83) / 2, _tflops(132, 128 * 2, 1.98))
DERIVED = {
    "NVIDIA H100 80GB HBM3": ("H100 SXM", *H100_SXM),
    "NVIDIA H100 PCIe": ("H100 PCIe", 1513 / 2, 756 / 2, 51.0),
    "NVIDIA H200": ("H200", *H100_SXM),  # the same GH100 compute with faster memory
    "NVIDIA A100-SXM4-80GB": (
        "A100 80GB",
        _tflops(108, 4 * 256 * 2, 1.41),
        _tflops(108, 4 * 256 * 2, 1.41) / 2,
        _tflops(108, 64 * 2, 1.41),
    ),
}


@pytest.mark.parametrize("name", DERIVED)
def test_peak_table_against_the_chips_units_and_clocks(name):
    device, bf16, tf32, fp32 = DERIVED[name]
    peak = peaks.detect(name)
    assert peak.device == device
    assert (peak.bf16, peak.tf32, peak.fp32) == pytest.approx((bf16, tf32, fp32), rel=0.005)


def test_unknown_device_has_no_peak():
    assert peaks.detect("Intel Xeon") is None


@pytest.mark.slow
def test_gpu_script_runs_on_cpu(small_spec, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GB_DEVICE": "cpu",
        "GB_BATCH": "2",
        "GB_STEPS": "1",
        "GB_WARMUP": "1",
        "GB_REPEATS": "1",
        "GB_COMPILE": "0",
        "GB_SPECS": str(small_spec),
        "GB_JSON": str(tmp_path / "gb.json"),
        "GB_PER_LAYER": "1",
    }
    env.pop("OUT", None)
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_bench.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "inceptcost:small" in p.stdout, p.stdout + p.stderr
    data = json.loads((tmp_path / "gb.json").read_text())
    ours = [r for r in data["rows"] if r["model"] == "inceptcost:small"]
    assert {r["mode"] for r in ours} == {"train", "infer"} and all(r["images_per_s"] > 0 for r in ours)
    assert all(r["amp"] and r["channels_last"] for r in ours)
    assert data["per_layer"]["layers"]
