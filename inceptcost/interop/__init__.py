"""Interop with the torch world: import a torch model to a spec, export a spec's model (outside weights are
loaded by train/weights.py, which the trainer and the benchmark use too).

Everything here needs torch (and some commands an optional package of the `interop` or `onnx` extra); the
static path never imports this package.
"""
