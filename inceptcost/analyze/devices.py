"""The one device table: the shipped profiles (`profiles/*.yaml`) and the device models each stands for. No torch.

A profile may list under `devices` the models of its chip, each with:
- `name`: how reports call it (`H100 SXM`);
- `match`: the words of torch's device name that pick it, lowercase (`[h100, pcie]`); where several entries
  match a name, the one with the most words wins (PCIe before the plain H100), then the first listed;
- `peak_tflops`: the vendor's dense (no sparsity) datasheet figures for bf16, tf32 and fp32, TFLOP/s, which
  bench and per-layer timing divide by for MFU; `bandwidth_gbs`: its memory bandwidth, GB/s;
- `memory` and `fits` (together, optional): its nominal memory (`80GiB`) and the names `--fits` accepts for it,
  the first one shown (`[H100, H100-80GB]`).

The profile's own figures (its `peak_tflops`, `efficiency`, ...) drive the time predictor; this table serves
the commands that need to know a device by name. Also here: the profile error and the bounds of its figures,
which the profile reader (analyze/timing/profile.py) and this table share.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadValue, InceptcostError, SpecError
from ..quantities import parse_bytes
from ..spec.yamlsafe import load_yaml

FIX = "fix the file, or make a new one with `inceptcost calibrate --out FILE`"

# The largest value each kind of profile figure may take: far beyond any device (an H200 has 989 dense bf16
# TFLOP/s and 4.8 TB/s), so that only a typo or a hostile file (`.inf`, `1e400`, 400 nines) is refused.
MAX_TFLOPS = 1e5
MAX_GBS = 1e9  # 1 EB/s: a hand-computed profile may use it to make the memory time vanish
MAX_US = 1e6
MAX_MIB = 1e9
MAX_THREADS = 4096
MIN_FIGURE = 1e-9  # below it a figure divides a step into an overflow; a denormal is a typo, not a device

_PACKAGE = Path(__file__).resolve().parents[1]  # the inceptcost package (this module is in analyze/)
# The installed copy (pyproject.toml maps the package `inceptcost.profiles` onto profiles/), else the source tree's.
SHIPPED = _PACKAGE / "profiles" if (_PACKAGE / "profiles").is_dir() else _PACKAGE.parent / "profiles"

DEVICE_KEYS = ("name", "match", "peak_tflops", "bandwidth_gbs", "memory", "fits")
DEVICE_MATH = ("bf16", "tf32", "fp32")


class ProfileError(InceptcostError):
    """A device profile that cannot be read, is incomplete, or is for another device kind."""


def line_of(m: Any, key: Any = None) -> int | None:
    """The line of `key` in a mapping read from a file (None for a plain dict, e.g. a fresh calibration)."""
    if key is None:
        return getattr(m, "line", None)
    return m.line_of(key) if hasattr(m, "line_of") else None


def figure(value: Any, what: str, file: str, line: int | None, upper: float) -> float:
    """A figure of a profile: a finite number from MIN_FIGURE to `upper` (every numeric field has one)."""
    number = math.nan
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a float's range
            number = math.inf
    if not MIN_FIGURE <= number <= upper:  # NaN and inf fail here too
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ProfileError(
            f"{what} must be a number above 0 and at most {upper:g}, got {shown}", file=file, line=line, hint=FIX
        )
    return number


@dataclass(frozen=True)
class Device:
    """One device model of the table."""

    name: str
    match: tuple[str, ...]
    bf16: float  # TFLOP/s, dense
    tf32: float
    fp32: float
    bandwidth_gbs: float
    memory_bytes: int | None = None
    fits: tuple[str, ...] = ()  # the names --fits accepts, the first one shown


def _words(value: Any, what: str, file: str, line: int | None, lower: bool) -> tuple[str, ...]:
    ok = isinstance(value, list) and value and all(isinstance(w, str) and w.strip() for w in value)
    if not ok or (lower and any(w != w.lower() for w in value)):
        case = "lowercase " if lower else ""
        raise ProfileError(f"{what} must be a list of {case}words", file=file, line=line, hint=FIX)
    return tuple(w.strip() for w in value)


def _device(entry: Any, file: str, line: int | None) -> Device:
    if not isinstance(entry, dict):
        raise ProfileError("devices: each entry must be a mapping", file=file, line=line, hint=FIX)
    odd = [k for k in entry if k not in DEVICE_KEYS]
    absent = [k for k in DEVICE_KEYS[:4] if k not in entry]
    if odd or absent:
        what = f"unknown key '{odd[0]}'" if odd else f"missing '{absent[0]}'"
        raise ProfileError(f"devices: {what}", file=file, line=line_of(entry, odd[0] if odd else None), hint=FIX)
    if not isinstance(entry["name"], str) or not entry["name"].strip():
        raise ProfileError("devices: 'name' must be text", file=file, line=line_of(entry, "name"), hint=FIX)
    name = entry["name"]
    peaks = entry["peak_tflops"]
    if not isinstance(peaks, dict) or set(peaks) != set(DEVICE_MATH):
        raise ProfileError(
            f"devices: {name}: peak_tflops needs {', '.join(DEVICE_MATH)} (and nothing else)",
            file=file,
            line=line_of(entry, "peak_tflops"),
            hint=FIX,
        )
    peak = {
        k: figure(peaks[k], f"devices: {name}: peak_tflops.{k}", file, line_of(peaks, k), MAX_TFLOPS) for k in peaks
    }
    bandwidth = figure(
        entry["bandwidth_gbs"], f"devices: {name}: bandwidth_gbs", file, line_of(entry, "bandwidth_gbs"), MAX_GBS
    )
    if ("memory" in entry) != ("fits" in entry):
        raise ProfileError(
            f"devices: {name}: 'memory' and 'fits' go together", file=file, line=line_of(entry), hint=FIX
        )
    memory = None
    if "memory" in entry:
        try:
            memory = parse_bytes(str(entry["memory"]))
        except BadValue as exc:
            raise ProfileError(
                f"devices: {name}: memory: {exc.message}", file=file, line=line_of(entry, "memory"), hint=FIX
            ) from None
    return Device(
        name=name,
        match=_words(entry["match"], f"devices: {name}: match", file, line_of(entry, "match"), lower=True),
        bf16=peak["bf16"],
        tf32=peak["tf32"],
        fp32=peak["fp32"],
        bandwidth_gbs=bandwidth,
        memory_bytes=memory,
        fits=_words(entry["fits"], f"devices: {name}: fits", file, line_of(entry, "fits"), lower=False)
        if "fits" in entry
        else (),
    )


def parse_devices(value: Any, file: str, line: int | None) -> tuple[Device, ...]:
    """A profile's `devices` list, checked; each error names the file and the line."""
    if not isinstance(value, list):
        raise ProfileError("'devices' must be a list of device models", file=file, line=line, hint=FIX)
    return tuple(_device(entry, file, getattr(entry, "line", line)) for entry in value)


@functools.lru_cache(maxsize=1)
def devices() -> tuple[Device, ...]:
    """Every device model of the shipped profiles, in the order of their files and entries."""
    found: list[Device] = []
    for path in sorted(SHIPPED.glob("*.yaml")) if SHIPPED.is_dir() else []:
        try:
            data, shown = load_yaml(path)
        except SpecError as exc:
            raise ProfileError(exc.message, file=exc.file or str(path), line=exc.line, hint=FIX) from None
        if isinstance(data, dict) and "devices" in data:
            found += parse_devices(data["devices"], shown, line_of(data, "devices"))
    return tuple(found)


def detect(device_name: str) -> Device | None:
    """The model whose every `match` word is in torch's device name (the most words win), or None."""
    name = device_name.lower()
    hits = [d for d in devices() if all(w in name for w in d.match)]
    return max(hits, key=lambda d: len(d.match), default=None)


def memory_devices() -> dict[str, Device]:
    """The devices `--fits` knows, under the name it shows, sorted by that name."""
    named = {d.fits[0]: d for d in devices() if d.fits}
    return dict(sorted(named.items()))


def fits_device(text: str) -> tuple[str, int] | None:
    """`H100`, `h100-80gb`, ... -> (the name shown, its memory in bytes); None for a name no device has."""
    key = text.strip().upper()
    for shown, d in memory_devices().items():
        if key in (n.upper() for n in d.fits):
            return shown, d.memory_bytes or 0
    return None
