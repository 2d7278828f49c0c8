"""A spec's compiled model (aux heads left out, eval mode) as ONNX or TorchScript bytes.

ONNX goes through torch's TorchScript-based exporter (`dynamo=False`), chosen over the torch.export-based
one on purpose: its node names are the module paths (`/inception3a/b1x1/conv/conv/Conv`), so the file
carries our layer names; it needs no onnxscript; and it exports GoogLeNet in seconds where the other takes
about a minute on two cores. The batch dimension is dynamic. TorchScript is `torch.jit.trace`: the rows are
fixed in eval mode, and the traced module keeps our submodule names.
"""

from __future__ import annotations

import io
import warnings

import torch

from ..graph.model.blocks import InceptionNet, main_net

INPUT, OUTPUT = "images", "logits"
OPSET = 17


def example_input(spec, batch: int) -> torch.Tensor:
    c, h, w = spec.input
    return torch.randn(batch, c, h, w, generator=torch.Generator().manual_seed(0))


def to_onnx(model: InceptionNet, example: torch.Tensor) -> bytes:
    net = main_net(model)
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # the exporter is chosen deliberately (see the module's docstring): its deprecation notices are noise
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning, torch.jit.TracerWarning))
        torch.onnx.export(
            net,
            (example,),
            buf,
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
        )
    return buf.getvalue()


def to_torchscript(model: InceptionNet, example: torch.Tensor) -> bytes:
    net = main_net(model)
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, torch.jit.TracerWarning))
        traced = torch.jit.trace(net, (example,), check_trace=False)  # the tests compare outputs
        torch.jit.save(traced, buf)
    return buf.getvalue()


def check_onnx(data: bytes) -> None:
    """The ONNX checker's verdict on an exported file (raises onnx's own error when it is invalid)."""
    from .extras import need

    onnx = need("onnx", "checking an ONNX file")
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)


def export_spec(spec, fmt: str, batch: int = 1, weights: str | None = None) -> tuple[bytes, str]:
    """The file's bytes and a one-line summary of what it holds."""
    from ..analyze.memory import Setup
    from ..graph.compile import compile_graph
    from ..graph.model import build_model
    from ..train.bench.memory_check import check_memory
    from ..train.weights import load_weights

    graph = compile_graph(spec)
    check_memory(graph, Setup.checked(batch, "fp32", "infer", "sgd", "cpu"), torch.device("cpu"))
    model = build_model(graph, aux=True)
    loaded = f"weights {weights} (by {load_weights(model, weights)})" if weights else "torch's initial weights"
    example = example_input(spec, batch)
    params = sum(p.numel() for p in main_net(model).parameters())
    c, h, w = spec.input
    shapes = f"'{INPUT}' Nx{c}x{h}x{w} -> '{OUTPUT}' Nx{spec.classes}"
    if fmt == "onnx":
        data = to_onnx(model, example)
        check_onnx(data)
        what = f"ONNX opset {OPSET}, dynamic batch, passes onnx.checker"
    else:
        data = to_torchscript(model, example)
        what = "TorchScript (traced in eval mode)"
    return data, f"{spec.name}: {params:,} params, aux heads left out, {loaded}; {what}; {shapes}"
