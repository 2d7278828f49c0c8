"""Quantities read and written in one place: counts the paper's way (`2.7K`, `34M`, `1.5G`), sizes (`28x28x256`,
`7x7/2`), bytes (`80GiB`, `24GB`; printed `12.3 MiB`) and durations (`4ms`, `0.5s`, `250us`)."""

from __future__ import annotations

import math
import re

from .errors import BadValue

_SUFFIX = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGT]?)\s*$", re.IGNORECASE)

# Bytes: decimal and binary units, a bare number is bytes. A size is written without an exponent.
BYTE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
BYTE_UNITS |= {"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
MIN_BYTES, MAX_BYTES = 1, 1 << 60  # 1 B to 1 EiB: more memory than any machine holds, inside an int64 byte count
_BYTES = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*$")
_BINARY = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))

# Durations, in milliseconds: 1 us (below a kernel launch) to 1e6 s (11 days for one step).
MS_PER_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}
MIN_MS, MAX_MS = 1e-3, 1e9
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(us|ms|s)\s*$", re.IGNORECASE)


class OutOfRange(BadValue):
    """A quantity that reads as a number but lies outside its bounds (or is not finite)."""


def parse_count(value: object, base: int = 1000) -> float:
    """`34M` -> 34e6 with base 1000; Table 1's params use base 1024 (`159K` = 159 * 1024 weights)."""
    if isinstance(value, bool):
        raise BadValue(f"expected a number like 34M, got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value) if -1e300 < value < 1e300 else math.inf  # a 400-digit int is not a float
    else:
        match = _COUNT.match(str(value))
        if not match:
            raise BadValue(f"expected a number like 2.7K, 34M or 1.5G, got {value!r}")
        number = float(match.group(1)) * base ** _SUFFIX[match.group(2).upper()]
    if not (0 <= number < math.inf):
        raise BadValue(f"expected a finite number >= 0 like 2.7K, 34M or 1.5G, got {value!r}")
    return number


def parse_dims(value: object, count: int) -> tuple[int, ...]:
    """`28x28x256` or `7x7` -> ints; an int stands for `count` equal dims (kernel 3 -> 3x3)."""
    if isinstance(value, bool):
        raise BadValue(f"expected a size like 3x3, got {value!r}")
    if isinstance(value, int):
        return (value,) * count
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        dims = tuple(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\s*[x×]\s*\d+)*\s*", value):
        dims = tuple(int(v) for v in re.split(r"[x×]", value))
    else:
        raise BadValue(f"expected a size like {'x'.join(['3'] * count)}, got {value!r}")
    if len(dims) == 1:
        dims = dims * count
    if len(dims) != count:
        raise BadValue(f"expected {count} sizes like {'x'.join(['3'] * count)}, got {value!r}")
    return dims


def parse_patch(value: object) -> tuple[tuple[int, int], tuple[int, int]]:
    """Table 1's patch size/stride column: `7x7/2` -> ((7, 7), (2, 2)); `3x3` -> stride 1."""
    if not isinstance(value, str):
        raise BadValue(f"expected a patch like 7x7/2, got {value!r}")
    kernel, _, stride = value.partition("/")
    return parse_dims(kernel, 2), parse_dims(int(stride) if stride.strip().isdigit() else stride or 1, 2)


def human(n: float, base: int = 1000, digits: int = 3) -> str:
    """34019328 -> '34.0M' (base 1000) ; for Table 1's params use base 1024."""
    for suffix in ("T", "G", "M", "K"):
        unit = base ** _SUFFIX[suffix]
        if abs(n) >= unit:
            return f"{n / unit:.{digits}g}{suffix}" if n / unit < 1000 else f"{n / unit:.0f}{suffix}"
    return f"{n:g}"


def parse_bytes(text: str) -> int:
    """`80GiB`, `24GB`, `1.5TiB`, `512` -> bytes. BadValue when it does not read as a positive size, OutOfRange
    when it is below MIN_BYTES or above MAX_BYTES (400 nines read as inf, which is above)."""
    match = _BYTES.match(text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in BYTE_UNITS or float(match.group(1)) <= 0:
        raise BadValue(f"expected a size like 80GiB or 24GB, got {text!r}")
    size = float(match.group(1)) * BYTE_UNITS[unit]
    if not MIN_BYTES <= size <= MAX_BYTES:
        raise OutOfRange(f"expected a size from 1 B to 1 EiB, got {text[:40]!r}")
    return int(size)


def parse_ms(text: str | None) -> float:
    """A duration in milliseconds: '4ms' -> 4.0, '0.5s' -> 500.0, '250us' -> 0.25. BadValue when it does not
    read as a positive duration, OutOfRange outside MIN_MS..MAX_MS (1e400 reads as inf, 1e-320 as a denormal)."""
    match = _DURATION.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise BadValue(f"expected a time like 4ms, 0.5s or 250us, got {text!r}")
    ms = float(match.group(1)) * MS_PER_UNIT[match.group(2).lower()]
    if not MIN_MS <= ms <= MAX_MS:
        raise OutOfRange(f"expected a time from 1us to 1000000s, got {str(text)[:40]!r}")
    return ms


def format_bytes(n: float, digits: int = 3, *, decimals: int | None = None) -> str:
    """Bytes in binary units. By default `digits` significant digits up to GiB, as the reports print them:
    `12.3 MiB`, `4.56 GiB`, `2048 GiB`, `512 B`. With `decimals`, that many decimals up to TiB, as the bench
    table prints them: `12.3 MiB`, `1.5 TiB`, `512.0 B`."""
    units = _BINARY if decimals is not None else _BINARY[1:]
    for suffix, unit in units:
        if abs(n) >= unit:
            x = n / unit
            if decimals is not None:
                return f"{x:.{decimals}f} {suffix}"
            return f"{x:.{digits}g} {suffix}" if x < 10**digits else f"{x:.0f} {suffix}"
    return f"{n:.{decimals}f} B" if decimals is not None else f"{n:g} B"
