"""`inceptcost import MODEL`: a torch model (a factory, called without downloading weights) -> a spec.

The model is traced with torch.fx in training mode, so that aux classifiers (torchvision's GoogLeNet and
Inception-v3 run theirs only when training; their `if self.training` is plain Python that the tracer takes
as it stands) become `aux` heads; the first output is the logits. Batch norms are leaf modules (timm's
BatchNormAct2d carries its activation inside). The spec is then checked against the source before it is
written: its parameter count must equal the source's numel(), and our compiled model, given the source's
weights by name (its batch norms first given distinct statistics), must give the source's logits.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import ImportFailed
from ..spec.writer import spec_text
from .factory import make_model
from .tospec import to_spec, trace

__all__ = ["check_input_fits", "default_input", "import_model", "make_model", "to_spec", "trace"]


def default_input(factory: str, model: nn.Module) -> tuple[int, int, int]:
    """The input the source was made for: timm's pretrained config, torchvision's weights metadata, or 224."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    if isinstance(cfg.get("input_size"), (tuple, list)) and len(cfg["input_size"]) == 3:
        return tuple(int(v) for v in cfg["input_size"])  # type: ignore[return-value]
    if factory.startswith("torchvision.models."):
        import torchvision

        try:
            weights = torchvision.models.get_model_weights(factory.rsplit(".", 1)[1])
            crop = next(iter(weights)).transforms.keywords["crop_size"]
            return (3, int(crop), int(crop))
        except (ValueError, StopIteration, AttributeError, KeyError):  # no published crop: the default below
            pass
    return (3, 224, 224)


def _distinct_norms(model: nn.Module) -> nn.Module:
    """Fresh batch norms all compute the identity, so a norm's tensors loaded into another norm would still
    give the source's logits: give each its own statistics and affine terms before the check."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d) and m.affine and m.track_running_stats:
                for t in (m.weight, m.running_var):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                for t in (m.bias, m.running_mean):
                    t.copy_(torch.randn(t.shape, generator=g) * 0.1)
    return model


# Checking an import runs the source and our model on one image; their first layers hold feature maps of many
# times the image's bytes (GoogLeNet's conv1 output alone is 5x its input, and two models are alive at once).
IMAGE_TIMES = 32


def check_input_fits(chw: tuple[int, int, int]) -> None:
    """Refuse an input whose forward pass cannot fit in this machine's free memory, before allocating it."""
    from ..train.bench.memory_check import check_allocation

    c, h, w = chw
    check_allocation(
        IMAGE_TIMES * 4 * c * h * w,
        f"a {h}x{w}x{c} float32 input",
        torch.device("cpu"),
        f"give a smaller --input HxWxC (running the models on one image holds about {IMAGE_TIMES}x its bytes)",
    )


def import_model(factory: str, aux: bool | None = None, input_chw: tuple[int, int, int] | None = None):
    """The spec's YAML text and a summary line; raises ImportFailed on anything the spec cannot say."""
    import tempfile

    from ..analyze.costs import summarize
    from ..graph.compile import compile_graph
    from ..graph.model import build_model
    from ..spec import load_spec
    from ..train.weights import load_state

    if input_chw is not None:  # before the factory runs
        check_input_fits(input_chw)
    source = _distinct_norms(make_model(factory, aux))
    label = factory.split(":")[-1].rsplit(".", 1)[-1]
    chw = input_chw or default_input(factory, source)
    check_input_fits(chw)
    x = torch.randn(1, *chw, generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            theirs = source.eval()(x)
    except Exception as exc:  # a wrong --input: channels, or a size too small for the model's strides
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        c, h, w = chw
        raise ImportFailed(
            f"the model does not run on a {h}x{w}x{c} input ({first})", file=label, hint="give --input HxWxC"
        ) from None
    text = spec_text(to_spec(source, label, chw), factory)
    with tempfile.TemporaryDirectory() as folder:  # read back the way a user's file is read
        (Path(folder) / f"{label}.yaml").write_text(text)
        spec = load_spec(Path(folder) / f"{label}.yaml")
    graph = compile_graph(spec)
    totals = summarize(graph)
    numel = sum(p.numel() for p in source.parameters())
    if totals["params"] + totals["params_aux"] != numel:
        raise ImportFailed(
            f"the spec has {totals['params'] + totals['params_aux']:,} params but the source {numel:,}",
            file=label,
            hint="a module's parameters are not used by the traced forward pass",
        )
    ours = build_model(graph, aux=True).eval()
    load_state(ours, source.state_dict(), label)
    with torch.no_grad():
        mine = ours(x)
    diff = float((theirs - mine).abs().max())
    if not torch.allclose(theirs, mine, atol=1e-4, rtol=1e-4):
        raise ImportFailed(
            f"the spec's model gives other logits than the source (max difference {diff:.3g})", file=label
        )
    c, h, w = chw
    heads = f" (+{totals['params_aux']:,} in {len(spec.aux)} aux heads)" if spec.aux else ""
    summary = (
        f"{label}: {len(graph) - 1 - sum(1 for n in graph if graph.nodes[n]['op'] in ('concat', 'add'))} layers, "
        f"{totals['params']:,} params{heads}, {totals['macs']:,} MACs at {h}x{w}x{c}; "
        f"checked: params equal the source's numel(), logits equal the source's with its weights (max diff {diff:.1e})"
    )
    return text, summary
