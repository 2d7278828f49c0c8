"""Everything that measures torch: `bench` (images/s, step time, memory, TFLOP/s and MFU from our MAC count,
per-layer times against the roofline), the calibration microbenchmarks that fit a device profile, and the
memory measured by hooks (memory_check.py). Torch is imported lazily: the peak table needs none."""
