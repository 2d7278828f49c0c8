"""Measured speed: `bench` (images/s, step time, memory, TFLOP/s and MFU from our MAC count, per-layer times
against a roofline) and `tradeoff` (accuracy against MACs over training runs). Torch is imported lazily:
`tradeoff` and the peak table need none."""
