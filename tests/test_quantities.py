"""The one parser and formatter of counts, bytes and durations: the texts the three byte formatters it replaced
printed (reports, the size-limit message, the bench table), and the bounds of sizes and durations."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inceptcost.errors import BadValue
from inceptcost.quantities import MAX_BYTES, OutOfRange, format_bytes, parse_bytes, parse_ms


def report_bytes(n: float) -> str:  # the reports' formatter before it moved here
    for suffix, unit in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= unit:
            return f"{n / unit:.3g} {suffix}" if n / unit < 1000 else f"{n / unit:.0f} {suffix}"
    return f"{n:g} B"


def limit_bytes(n: int) -> str:  # the size-limit message's formatter, for limits of 1 KiB and more
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):g} {unit}"
    return f"{n} bytes"


def table_bytes(n: float) -> str:  # the bench table's formatter, for byte counts of 1 and more
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    i = min(int(math.log(n, 1024)), len(units) - 1)
    return f"{n / 1024**i:.1f} {units[i]}"


EDGES = [1, 1000, 1023, 1024, 1025, (1 << 20) - 1, 1 << 20, 999 << 20, 1000 << 20, (1 << 30) - 1, 1 << 30]
EDGES += [1000 << 30, (1 << 40) - 1, 1 << 40, 5000 << 40, 1 << 60]


@pytest.mark.parametrize("n", EDGES + [0, -5, -(3 << 30), 0.5, 123456789.0])
def test_report_bytes_unchanged(n):
    assert format_bytes(n) == report_bytes(n)


@pytest.mark.parametrize("n", [1 << 10, 1 << 20, 1 << 28, 1 << 30, 1 << 36, 3 * 8 * 12345678 + (64 << 20)])
def test_limit_bytes_unchanged(n):
    assert format_bytes(n, 6) == limit_bytes(n)


@pytest.mark.parametrize("n", EDGES)
def test_table_bytes_unchanged(n):
    assert format_bytes(n, decimals=1) == table_bytes(n)


@given(st.integers(1, 1 << 62))
def test_byte_texts_unchanged_for_any_count(n):
    assert format_bytes(n) == report_bytes(n)
    assert format_bytes(n, decimals=1) == table_bytes(n)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30))
def test_report_bytes_unchanged_for_any_float(n):
    assert format_bytes(n) == report_bytes(n)


@pytest.mark.parametrize(
    "text, n",
    [("80GiB", 80 << 30), ("24GB", 24 * 10**9), ("1.5TiB", 3 << 39), (" 512 ", 512), ("1b", 1), ("1", 1)],
)
def test_parse_bytes(text, n):
    assert parse_bytes(text) == n


@pytest.mark.parametrize("text", ["", "GiB", "0GiB", "-1GiB", "80 furlongs", "1e3GiB", "nan", "inf", "H100"])
def test_parse_bytes_unreadable(text):
    with pytest.raises(BadValue) as info:
        parse_bytes(text)
    assert not isinstance(info.value, OutOfRange)


@pytest.mark.parametrize("text", ["0.5B", "0.999", "2000000TiB", "9" * 400, "9" * 400 + "TiB"])
def test_parse_bytes_out_of_range(text):
    with pytest.raises(OutOfRange):
        parse_bytes(text)


def test_parse_bytes_upper_bound_is_inclusive():
    assert parse_bytes(f"{1 << 20}TiB") == MAX_BYTES


@pytest.mark.parametrize(
    "text, ms", [("4ms", 4.0), ("0.5s", 500.0), ("250us", 0.25), ("1E3 MS", 1000.0), ("1us", 1e-3)]
)
def test_parse_ms(text, ms):
    assert parse_ms(text) == pytest.approx(ms)


@pytest.mark.parametrize("text", [None, "", "4", "0ms", "-1ms", "4 hours", "nanms", "infs"])
def test_parse_ms_unreadable(text):
    with pytest.raises(BadValue) as info:
        parse_ms(text)
    assert not isinstance(info.value, OutOfRange)


@pytest.mark.parametrize("text", ["9" * 400 + "ms", "1e400s", "1e-320ms", "0.5us", "1000001s"])
def test_parse_ms_out_of_range(text):
    with pytest.raises(OutOfRange):
        parse_ms(text)
