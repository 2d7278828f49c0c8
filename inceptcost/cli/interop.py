"""import and export (issue 17): thin commands over inceptcost.interop."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InceptcostError
from ..io import write_atomic
from .common import SpecArg, check_out, spec_input, user_errors


def import_cmd(
    model: Annotated[
        str,
        typer.Argument(help="a factory: torchvision.models.googlenet, timm:inception_v4 or path/to/file.py:make_net"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="spec file to write (atomically)")],
    input: Annotated[
        str | None, typer.Option(help="HxWxC (default: the source's own, e.g. timm's config; else 224x224x3)")
    ] = None,
    aux: Annotated[
        bool | None, typer.Option("--aux/--no-aux", help="pass aux_logits to the factory (default: its own)")
    ] = None,
) -> None:
    """A torch model (traced with torch.fx, weights not downloaded) as a spec in the general form."""
    with user_errors():
        from ..interop.extras import need

        source = model.partition(":")[0] if model.partition(":")[0].endswith(".py") else None
        check_out(out, Path(source) if source else None)
        need("torch", "import")
        from ..interop.fximport import import_model
        from ..quantities import parse_dims

        chw = None
        if input is not None:
            try:
                h, w, c = parse_dims(input, 3)
            except ValueError:
                raise InceptcostError(f"--input must be HxWxC, got {input!r}", hint="e.g. 299x299x3") from None
            chw = (c, h, w)
        text, summary = import_model(model, aux, chw)
        write_atomic(out, text)
        typer.echo(f"wrote {out}: {summary}")


class ExportFormat(str, Enum):
    onnx = "onnx"
    torchscript = "torchscript"


def export_cmd(
    spec: SpecArg,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="onnx or torchscript")],
    out: Annotated[Path, typer.Option("--out", "-o", help="file to write (atomically)")],
    weights: Annotated[
        Path | None, typer.Option(help="our checkpoint, or a torchvision/timm state dict of the model the spec mirrors")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="batch of the example input (ONNX keeps the batch dynamic)")] = 1,
) -> None:
    """The compiled model (our layer names, aux heads left out) as ONNX or TorchScript."""
    with user_errors():
        from .. import load_spec
        from ..interop.extras import need

        check_out(out, spec_input(spec), weights)
        need("torch", "export")
        if format is ExportFormat.onnx:
            need("onnx", "--format onnx")
        from ..interop.export import export_spec

        data, summary = export_spec(load_spec(spec), format.value, batch, str(weights) if weights else None)
        write_atomic(out, data)
        typer.echo(f"wrote {out} ({len(data) / 2**20:,.1f} MiB): {summary}")
