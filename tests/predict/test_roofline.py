"""The one roofline (analyze/timing/predict.Roofline), which bench's per-layer table and the predictor's kernel
time both use: the per-layer table's figures as its own formula gave them, whatever rates are known."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inceptcost.analyze.timing.predict import Roofline


def per_layer_before(flops, moved, peak_tf, peak_bw):  # the per-layer table's own roofline, in ms
    t_compute = flops / (peak_tf * 1e12) * 1e3 if peak_tf else None
    t_memory = moved / (peak_bw * 1e9) * 1e3 if peak_bw else None
    estimate = max(t for t in (t_compute, t_memory) if t is not None) if (t_compute or t_memory) else None
    bound = None
    if t_compute is not None and t_memory is not None:
        bound = "compute" if t_compute >= t_memory else "memory"
    return estimate, bound


def per_layer_now(flops, moved, peak_tf, peak_bw):
    arms = Roofline.of(flops, moved, peak_tf * 1e12 if peak_tf else None, peak_bw * 1e9 if peak_bw else None)
    return (arms.seconds * 1e3 if arms.seconds is not None else None), arms.bound


rate = st.none() | st.floats(min_value=1e-6, max_value=1e5)


@given(st.integers(0, 1 << 50), st.integers(0, 1 << 40), rate, rate)
def test_per_layer_figures_unchanged(flops, moved, peak_tf, peak_bw):
    assert per_layer_now(flops, moved, peak_tf, peak_bw) == per_layer_before(flops, moved, peak_tf, peak_bw)


@pytest.mark.parametrize(
    "flops, moved, tf, bw, expected",
    [
        (2e12, 1e9, 1.0, 100.0, (2000.0, "compute")),  # 2 s of arithmetic, 10 ms of bytes
        (2e9, 1e11, 1.0, 100.0, (1000.0, "memory")),
        (0, 0, 1.0, 100.0, (None, "compute")),  # nothing to do: no estimate
        (2e12, 1e9, None, None, (None, None)),
        (2e12, 1e9, 1.0, None, (2000.0, None)),
    ],
)
def test_hand_computed(flops, moved, tf, bw, expected):
    assert per_layer_now(flops, moved, tf, bw) == expected
