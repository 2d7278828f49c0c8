"""diagram: the graphviz drawing of a spec, as source or rendered by `dot`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ToolMissing
from ..io import emit, write_atomic
from .common import DEFAULT_SPEC, SpecArg, check_out, spec_input, user_errors


def diagram(
    spec: SpecArg = DEFAULT_SPEC,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="file to write: .svg, .png, .pdf, or .dot/.gv for the source (default: source to stdout)",
        ),
    ] = None,
    module: Annotated[
        str | None, typer.Option("--module", "-m", help="draw one module alone: 4e, inception_4e or the row's name")
    ] = None,
    naive: Annotated[
        bool, typer.Option("--naive", help="with --module: beside its Figure 2(a) version without 1x1 reductions")
    ] = False,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="each module as one node: the whole net on one page")
    ] = False,
) -> None:
    """Graphviz drawing of the network or of one module, every layer filled by its multiply-adds."""
    from .. import compile_graph, load_spec
    from ..analyze.diagram import diagram_source, output_format, render

    with user_errors():
        check_out(out, spec_input(spec))
        fmt = output_format(out) if out is not None else "dot"
        source = diagram_source(compile_graph(load_spec(spec)), module=module, naive=naive, collapse=collapse)
        if out is None or fmt == "dot":
            emit(source, out)
            return
        try:
            data = render(source, fmt)
        except ToolMissing as exc:
            fallback = _free_name(out.with_suffix(".dot"))  # an existing X.dot (hand-edited?) stays as it is
            write_atomic(fallback, source)  # the source is still useful: render it elsewhere
            exc.hint = f"{exc.hint}; the DOT source is in {fallback}"
            raise
        write_atomic(out, data)
        typer.echo(f"wrote {out}", err=True)


def _free_name(path: Path) -> Path:
    """`path`, or `X.1.dot`, `X.2.dot`... when it exists: writing beside a file never replaces it."""
    candidate, n = path, 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
    return candidate
