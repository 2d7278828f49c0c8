"""The least-squares fit that turns microbenchmark times into a kind's fixed cost, rate and serial bytes rate."""

from __future__ import annotations

import pytest

from inceptcost.train.bench.calibrate import _fit_kind, _wls

SHAPES = [(1e9, 1, 1e6), (5e8, 1, 4e6), (2e7, 1, 3e5), (3e9, 2, 2e7), (1e8, 1, 1e5)]  # (work, kernels, bytes)


def timed(o: float, a: float, c: float) -> list[tuple[float, int, float, float]]:
    return [(w, n, b, n * o + w * a + b * c) for w, n, b in SHAPES]


def test_exact_times_give_back_the_three_constants():
    o, a, c = _fit_kind(timed(200e-6, 2e-11, 5e-10), base_overhead=10e-6, serial=True)
    assert (o, a, c) == pytest.approx((200e-6, 2e-11, 5e-10), rel=1e-6)


def test_the_bytes_term_only_where_asked_for_and_only_positive():
    _, _, c = _fit_kind(timed(200e-6, 2e-11, 5e-10), base_overhead=10e-6, serial=False)
    assert c == 0.0
    o, a, c = _fit_kind(timed(200e-6, 2e-11, 0.0), base_overhead=10e-6, serial=True)
    assert c < 1e-15 and (o, a) == pytest.approx((200e-6, 2e-11), rel=1e-6)  # no bytes term to find
    _, _, c = _fit_kind(timed(200e-6, 2e-11, 5e-10)[:3], base_overhead=10e-6, serial=True)
    assert c == 0.0  # three points do not pin three constants


def test_a_fixed_cost_below_a_plain_kernels_is_held_at_it():
    o, a, c = _fit_kind(timed(1e-6, 2e-11, 0.0), base_overhead=10e-6, serial=False)
    assert o == 10e-6 and c == 0.0 and 0 < a < 2e-11  # the rest of the time goes to the rate
    o, a, _ = _fit_kind(timed(1e-6, 2e-11, 0.0)[:1], base_overhead=10e-6, serial=True)
    assert o == 10e-6 and a == pytest.approx((2e-2 + 1e-6 - 10e-6) / 1e9)


def test_weighted_least_squares_by_hand():
    # t = 2 x exactly: c = 2; a singular system (two equal columns) has no answer
    assert _wls([[1.0, 2.0, 3.0]], [2.0, 4.0, 6.0]) == pytest.approx([2.0])
    assert _wls([[1.0, 2.0], [1.0, 2.0]], [1.0, 2.0]) is None
