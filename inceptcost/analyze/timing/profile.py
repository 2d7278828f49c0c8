"""Device profiles (`profiles/*.yaml`): the few constants that turn MACs and bytes into time. No torch.

A profile names its device kind (cpu or cuda) and device, says where its figures come from (`datasheet`:
vendor peaks with assumed efficiencies; `calibrated`: fitted by `inceptcost calibrate` on microbenchmarks,
with the software versions and date), and gives:
- `peak_tflops`: dense peak per math kind (fp32, tf32, bf16, fp16, fp64; at least fp32);
- `bandwidth_gbs`: memory bandwidth;
- `efficiency`: per kernel kind (analyze/timing/traffic.py's KINDS) the share of peak FLOP/s (convs and GEMMs; pools
  in their window loop, of the fp32 peak) or of bandwidth (memory kinds) that kind reaches;
- `overhead_us`: fixed cost of one forward kernel (dispatch or launch) and of one backward kernel, and
  optionally a kernel kind's own (e.g. `conv: 180`) where it is well above a plain kernel's;
- `serial_gbs` (optional): per compute kind, the rate at which it moves bytes that its arithmetic does not
  hide (on a CPU: oneDNN's layout reorders around a convolution, cache misses). A kind listed here takes
  arithmetic + bytes / rate, not the roofline's max of the two;
- `devices` (optional): the device models of the chip, the one device table (see analyze/devices.py);
- `first_touch` (optional): `{gbs: R, above_mib: M}`: a new tensor of M MiB or more costs its bytes / R on
  top of its kernel (glibc's allocator maps such blocks fresh from the OS on each allocation and unmaps them
  on free; the first write faults every page in, which the OS zeroes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import SpecError
from ...spec.yamlsafe import load_yaml
from ..devices import (
    FIX,
    MAX_GBS,
    MAX_MIB,
    MAX_TFLOPS,
    MAX_THREADS,
    MAX_US,
    SHIPPED,
    ProfileError,
    parse_devices,
)
from ..devices import figure as _number
from ..devices import line_of as _line
from .traffic import COMPUTE_KINDS, FALLBACK, KINDS, WINDOW_KINDS

DEVICES = ("cpu", "cuda")
SOURCES = ("datasheet", "calibrated")
MATH = ("fp32", "tf32", "bf16", "fp16", "fp64")
REQUIRED = ("name", "device", "device_name", "source", "peak_tflops", "bandwidth_gbs", "efficiency", "overhead_us")
OPTIONAL = ("date", "versions", "threads", "serial_gbs", "first_touch", "notes", "assumptions", "fit", "devices")


@dataclass(frozen=True)
class Profile:
    file: str
    name: str
    device: str  # cpu | cuda
    device_name: str
    source: str  # datasheet | calibrated
    peak_tflops: dict[str, float]
    bandwidth_gbs: float
    efficiency: dict[str, float]
    overhead_us: dict[str, float]  # forward, backward, and optionally per kernel kind
    serial_gbs: dict[str, float] = field(default_factory=dict)  # compute kinds whose bytes are not overlapped
    first_touch: tuple[float, float] | None = None  # (GB/s, MiB and above)
    threads: int | None = None
    date: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def peak_flops(self, kind: str, dtype: str) -> float:
        """FLOP/s peak for a compute kernel: fp32 convs use tf32 where the profile has it (cuDNN's default);
        pools run on the vector units, whose peak is the fp32 one."""
        if kind in WINDOW_KINDS:
            return self.peak_tflops["fp32"] * 1e12
        math_kind = "tf32" if dtype == "fp32" and not kind.startswith("gemm") and "tf32" in self.peak_tflops else dtype
        if math_kind not in self.peak_tflops:
            raise ProfileError(
                f"has no peak for {dtype}",
                file=self.file,
                hint=f"use --dtype {' or '.join(k for k in self.peak_tflops if k != 'tf32')}, or add it to peak_tflops",
            )
        return self.peak_tflops[math_kind] * 1e12

    def check_device(self, device: str) -> None:
        kind = "cuda" if device.startswith("cuda") else device
        if kind != self.device:
            raise ProfileError(
                f"is a {self.device} profile, but this run is on {kind}",
                file=self.file,
                hint=f"give a {kind} profile (make one with `inceptcost calibrate --device {kind} --out FILE`)",
            )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "device": self.device,
            "device_name": self.device_name,
            "source": self.source,
            "date": self.date,
            "versions": dict(self.versions),
            "threads": self.threads,
            "peak_tflops": dict(self.peak_tflops),
            "bandwidth_gbs": self.bandwidth_gbs,
            "overhead_us": dict(self.overhead_us),
            "efficiency": dict(self.efficiency),
            "serial_gbs": dict(self.serial_gbs) or None,
            "first_touch": {"gbs": self.first_touch[0], "above_mib": self.first_touch[1]} if self.first_touch else None,
        }
        return {k: v for k, v in {**out, **self.extra}.items() if v is not None}


def _mapping(data: Any, key: str, file: str) -> Any:
    value = data[key]
    if not isinstance(value, dict):
        raise ProfileError(f"'{key}' must be a mapping", file=file, line=_line(data, key), hint=FIX)
    return value


def parse_profile(data: Any, file: str) -> Profile:
    """A profile's mapping, checked key by key; each error names the file and the line."""
    _check_head(data, file)
    peak = _peaks(data, file)
    eff = _efficiency(data, file)
    overhead = _overhead(data, file)
    serial = _serial(data, file)
    first_touch = _first_touch(data, file)
    threads = _threads(data, file)
    if "devices" in data:  # the device table's part of the profile (analyze/devices.py), checked here too
        parse_devices(data["devices"], file, _line(data, "devices"))
    versions = data.get("versions") or {}
    if not isinstance(versions, dict):
        raise ProfileError("'versions' must be a mapping", file=file, line=_line(data, "versions"), hint=FIX)
    return Profile(
        file=file,
        name=data["name"],
        device=data["device"],
        device_name=data["device_name"],
        source=data["source"],
        peak_tflops=peak,
        bandwidth_gbs=_number(data["bandwidth_gbs"], "bandwidth_gbs", file, _line(data, "bandwidth_gbs"), MAX_GBS),
        efficiency=eff,
        overhead_us=overhead,
        serial_gbs=serial,
        first_touch=first_touch,
        threads=threads,
        date=str(data["date"]) if data.get("date") is not None else None,
        versions={str(k): str(v) for k, v in versions.items()},
        extra={k: data[k] for k in ("notes", "assumptions", "fit") if k in data},
    )


def _check_head(data: Any, file: str) -> None:
    """A mapping with the known keys, the required ones present, its names text, its device and source known."""
    if not isinstance(data, dict):
        raise ProfileError("is not a device profile (expected a mapping of keys)", file=file, hint=FIX)
    unknown = [k for k in data if k not in REQUIRED + OPTIONAL]
    if unknown:
        raise ProfileError(f"unknown key '{unknown[0]}'", file=file, line=_line(data, unknown[0]), hint=FIX)
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ProfileError(f"missing '{missing[0]}'", file=file, hint=FIX)
    for key in ("name", "device_name"):
        if not isinstance(data[key], str) or not data[key]:
            raise ProfileError(f"'{key}' must be text", file=file, line=_line(data, key), hint=FIX)
    if data["device"] not in DEVICES:
        raise ProfileError(
            f"device kind {data['device']!r} is not one of {', '.join(DEVICES)}",
            file=file,
            line=_line(data, "device"),
            hint=FIX,
        )
    if data["source"] not in SOURCES:
        raise ProfileError(
            f"source {data['source']!r} is not one of {', '.join(SOURCES)}",
            file=file,
            line=_line(data, "source"),
            hint=FIX,
        )


def _peaks(data: Any, file: str) -> dict[str, float]:
    peaks = _mapping(data, "peak_tflops", file)
    bad = [k for k in peaks if k not in MATH]
    if bad or "fp32" not in peaks:
        what = f"unknown math kind '{bad[0]}'" if bad else "no fp32 entry"
        raise ProfileError(
            f"peak_tflops: {what}", file=file, line=_line(peaks, bad[0]) if bad else _line(peaks), hint=FIX
        )
    return {k: _number(v, f"peak_tflops.{k}", file, _line(peaks, k), MAX_TFLOPS) for k, v in peaks.items()}


def _efficiency(data: Any, file: str) -> dict[str, float]:
    effs = _mapping(data, "efficiency", file)
    extra = [k for k in effs if k not in KINDS]
    absent = [k for k in KINDS if k not in effs and k not in FALLBACK]
    if extra or absent:
        what = f"unknown kernel kind '{extra[0]}'" if extra else f"no entry for '{absent[0]}'"
        raise ProfileError(
            f"efficiency: {what}",
            file=file,
            line=_line(effs, extra[0]) if extra else _line(effs),
            hint=f"kinds: {', '.join(KINDS)}",
        )
    eff = {k: _number(effs[k], f"efficiency.{k}", file, _line(effs, k), 1.0) for k in KINDS if k in effs}
    for k, parent in FALLBACK.items():  # a kind this device does not run (a GPU's CPU-only paths)
        eff.setdefault(k, eff[parent])
    return eff


def _overhead(data: Any, file: str) -> dict[str, float]:
    over = _mapping(data, "overhead_us", file)
    odd = [k for k in over if k not in ("forward", "backward", *KINDS)]
    if "forward" not in over or "backward" not in over or odd:
        raise ProfileError(
            f"overhead_us: unknown key '{odd[0]}'" if odd else "overhead_us needs 'forward' and 'backward'",
            file=file,
            line=_line(over, odd[0]) if odd else _line(over),
            hint="forward, backward, and optionally a kernel kind's own fixed cost",
        )
    return {k: _number(over[k], f"overhead_us.{k}", file, _line(over, k), MAX_US) for k in over}


def _serial(data: Any, file: str) -> dict[str, float]:
    serial = _mapping(data, "serial_gbs", file) if "serial_gbs" in data else {}
    compute = [k for k in KINDS if k.removesuffix("_bwd") in COMPUTE_KINDS]
    odd = [k for k in serial if k not in compute]
    if odd:
        raise ProfileError(
            f"serial_gbs: '{odd[0]}' is not a compute kernel kind",
            file=file,
            line=_line(serial, odd[0]),
            hint=f"kinds: {', '.join(compute)}",
        )
    serial = {k: _number(serial[k], f"serial_gbs.{k}", file, _line(serial, k), MAX_GBS) for k in serial}
    for k, parent in FALLBACK.items():  # a fallen-back kind takes all its parent's figures
        if k not in data["efficiency"] and parent in serial:
            serial[k] = serial[parent]
    return serial


def _first_touch(data: Any, file: str) -> tuple[float, float] | None:
    if "first_touch" not in data:
        return None
    ft = _mapping(data, "first_touch", file)
    if set(ft) != {"gbs", "above_mib"}:
        raise ProfileError(
            "first_touch needs 'gbs' and 'above_mib' (and nothing else)", file=file, line=_line(ft), hint=FIX
        )
    limits = {"gbs": MAX_GBS, "above_mib": MAX_MIB}
    return tuple(_number(ft[k], f"first_touch.{k}", file, _line(ft, k), limits[k]) for k in limits)


def _threads(data: Any, file: str) -> int | None:
    threads = data.get("threads")
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS
    ):
        raise ProfileError(
            f"threads must be a whole number from 1 to {MAX_THREADS}, got {str(threads)[:40]!r}",
            file=file,
            line=_line(data, "threads"),
            hint=FIX,
        )
    return threads


def load_profile(path: str | Path) -> Profile:
    """Read a profile through the hardened YAML loader; every failure is one ProfileError naming the file."""
    try:
        data, shown = load_yaml(path)
    except SpecError as exc:
        raise ProfileError(
            exc.message,
            file=exc.file or str(path),
            line=exc.line,
            hint="shipped profiles are in profiles/; make one with `inceptcost calibrate --out FILE`",
        ) from None
    return parse_profile(data, shown)


def resolve_profile(arg: str | Path) -> Path:
    """A file path, or the name of a shipped profile (`h100` -> profiles/h100.yaml)."""
    p = Path(arg)
    if p.suffix in (".yaml", ".yml") or p.exists() or "/" in str(arg):
        return p
    for folder in (Path("profiles"), SHIPPED):
        if (folder / f"{arg}.yaml").is_file():
            return folder / f"{arg}.yaml"
    names = sorted(q.stem for q in SHIPPED.glob("*.yaml")) if SHIPPED.is_dir() else []
    raise ProfileError(
        "no such profile",
        file=str(arg),
        hint=f"give a profile file or one of: {', '.join(names)}" if names else "give a profile file",
    )
