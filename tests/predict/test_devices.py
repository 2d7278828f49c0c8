"""The one device table (the shipped profiles' `devices`): the figures bench's MFU and `--fits` used when each
kept its own table, the choice by device name, and a bad `devices` entry as one error naming its line."""

from __future__ import annotations

import pytest
from support import ROOT

from inceptcost.analyze import devices
from inceptcost.analyze.memory.capacity import parse_capacity
from inceptcost.analyze.timing.profile import ProfileError, load_profile
from inceptcost.errors import SettingError
from inceptcost.train.bench import peaks

# The tables as bench and --fits kept them before they moved into the profiles.
BENCH = {
    "H200": (989.0, 495.0, 67.0, 4800.0),
    "H100 PCIe": (756.0, 378.0, 51.0, 2000.0),
    "H100 SXM": (989.0, 495.0, 67.0, 3350.0),
    "A100 80GB": (312.0, 156.0, 19.5, 2039.0),
    "A100 40GB": (312.0, 156.0, 19.5, 1555.0),
}
FITS = {"A100-40GB": 40 << 30, "A100-80GB": 80 << 30, "H100": 80 << 30, "H200": 141 << 30}

NAMES = {
    "NVIDIA H200": "H200",
    "NVIDIA H100 PCIe": "H100 PCIe",
    "NVIDIA H100 80GB HBM3": "H100 SXM",
    "NVIDIA A100-SXM4-80GB": "A100 80GB",
    "NVIDIA A100-PCIE-40GB": "A100 40GB",
    "NVIDIA A100-SXM4-40GB": "A100 40GB",
}


def test_bench_figures_unchanged():
    table = {d.name: (d.bf16, d.tf32, d.fp32, d.bandwidth_gbs) for d in devices.devices()}
    assert table == BENCH


@pytest.mark.parametrize("name", NAMES)
def test_detect_by_name(name):
    peak = peaks.detect(name)
    assert peak.device == NAMES[name] and (peak.bf16, peak.tf32, peak.fp32, peak.bandwidth_gbs) == BENCH[peak.device]


@pytest.mark.parametrize("name", ["Intel Xeon", "", "NVIDIA GeForce RTX 4090", "cpu"])
def test_unknown_device(name):
    assert peaks.detect(name) is None


def test_fits_names_unchanged():
    assert {k: d.memory_bytes for k, d in devices.memory_devices().items()} == FITS
    assert list(devices.memory_devices()) == list(FITS)  # the order the hint lists them in


@pytest.mark.parametrize(
    "text, label",
    [
        ("H100", "H100 (80 GiB)"),
        (" h100-80gb ", "H100 (80 GiB)"),
        ("H200-141GB", "H200 (141 GiB)"),
        ("a100-40gb", "A100-40GB (40 GiB)"),
        ("A100-80GB", "A100-80GB (80 GiB)"),
    ],
)
def test_fits_by_name(text, label):
    size, shown = parse_capacity(text)
    assert shown == label and size == FITS[label.split(" ")[0]]


def test_unknown_name_lists_the_table():
    with pytest.raises(SettingError) as caught:
        parse_capacity("H300")
    assert "A100-40GB, A100-80GB, H100, H200" in str(caught.value)


SHIPPED = (ROOT / "profiles/h100.yaml").read_text()
BAD = {
    "not a list": ("devices:\n", "devices: 7\n", "'devices' must be a list"),
    "unknown key": ("    match: [h100]\n", "    match: [h100]\n    colour: red\n", "unknown key 'colour'"),
    "missing peaks": ("    peak_tflops: {bf16: 989.0, tf32: 495.0, fp32: 67.0}\n", "", "missing 'peak_tflops'"),
    "infinite peak": ("bf16: 989.0,", "bf16: .inf,", "peak_tflops.bf16 must be a number"),
    "peak beyond a float": ("tf32: 495.0,", "tf32: 1.0e+400,", "peak_tflops.tf32"),
    "uppercase match": ("match: [h100]", "match: [H100]", "lowercase words"),
    "memory without fits": ("    fits: [H100, H100-80GB]\n", "", "'memory' and 'fits' go together"),
    "memory not a size": ("memory: 80GiB", "memory: lots", "memory: expected a size"),
    "memory beyond an exbibyte": ("memory: 80GiB", "memory: 2000000TiB", "memory: expected a size from 1 B"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_devices_entry(tmp_path, case):
    old, new, words = BAD[case]
    text = SHIPPED.replace(old, new, 1) if case != "not a list" else _without_devices(SHIPPED) + new
    assert text != SHIPPED
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=words) as caught:
        load_profile(path)
    assert caught.value.file == str(path) and caught.value.line is not None


def _without_devices(text: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("devices:"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" "))
    return "".join(lines[:start] + lines[end:])
