"""Numbers written the paper's way: `2.7K`, `34M`, `1.5G`, `28x28x256`, `7x7/2`."""

from __future__ import annotations

import math
import re

from .errors import BadValue

_SUFFIX = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGT]?)\s*$", re.IGNORECASE)


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
