"""analyze, verify, compare, specs: the static analysis commands (no torch)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import CheckFailed, InceptcostError
from ..io import emit
from .common import (
    DEFAULT_SPEC,
    BatchOpt,
    BudgetOpt,
    DtypeOpt,
    Format,
    FormatOpt,
    OutOpt,
    SpecArg,
    StrictOpt,
    check_out,
    parse_budget,
    spec_input,
    user_errors,
)
from .views import print_views, table


def _strict(analysis, strict: bool) -> None:
    if strict and analysis.failed:
        raise CheckFailed("--strict: " + "; ".join(analysis.failed))


def _command(name: str, spec: Path, fmt: Format, budget: str | None, batch: int, dtype: str) -> str:
    """The command line that regenerates a report (without --out, so that it reads the same anywhere)."""
    parts = ["inceptcost", name, str(spec), "--format", fmt.value]
    if budget:
        parts += ["--budget", budget]
    if batch != 1:
        parts += ["--batch", str(batch)]
    if dtype != "fp32":
        parts += ["--dtype", dtype]
    return " ".join(parts)


def analyze(
    spec: SpecArg = DEFAULT_SPEC,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    budget: BudgetOpt = None,
    strict: StrictOpt = False,
    batch: BatchOpt = 1,
    dtype: DtypeOpt = "fp32",
) -> None:
    """Table 1 recomputed (ours beside the paper's values), totals, budget, memory, and the verification summary."""
    from ..analyze.report import analyze_spec, summary_lines, table_view, to_csv, to_json, to_markdown, verify_views

    with user_errors():
        check_out(out, spec_input(spec))
        a = analyze_spec(spec, parse_budget(budget), batch, dtype)
        if format is Format.json:
            emit(json.dumps(to_json(a), indent=2), out)
        elif format is Format.csv:
            emit(to_csv(a), out)
        elif format is Format.md:
            emit(to_markdown(a, _command("analyze", spec, format, budget, batch, dtype)), out)
        else:
            print_views([table_view(a, activations=False), *summary_lines(a), "", *verify_views(a)], out)
        _strict(a, strict)


def verify(
    spec: SpecArg = DEFAULT_SPEC,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    budget: BudgetOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Table 1 row by row, the paper's rows against themselves, and each claim with a verdict."""
    from ..analyze.costs.claims import claims_csv
    from ..analyze.report import analyze_spec, to_json, verify_views, view_markdown

    with user_errors():
        check_out(out, spec_input(spec))
        a = analyze_spec(spec, parse_budget(budget))
        if format is Format.json:
            emit(json.dumps(to_json(a), indent=2), out)
        elif format is Format.csv:
            emit(claims_csv(a.claims), out)
        elif format is Format.md:
            emit("\n".join(view_markdown(v) for v in verify_views(a)), out)
        else:
            print_views(verify_views(a), out)
        _strict(a, strict)


def compare(
    a: Annotated[Path, typer.Argument(help="first spec (A)")],
    b: Annotated[Path, typer.Argument(help="second spec (B)")],
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """Two specs side by side, per row (paired by position, not name) and in total, with the differences B - A."""
    from ..analyze.costs.compare import compare_specs, comparison_csv, comparison_json, comparison_view, unmatched_view
    from ..analyze.report import view_markdown

    with user_errors():
        check_out(out, spec_input(a), spec_input(b))
        c = compare_specs(a, b)
        if format is Format.json:
            emit(json.dumps(comparison_json(c), indent=2), out)
        elif format is Format.csv:
            emit(comparison_csv(c), out)
        else:
            views = [v for v in (comparison_view(c), unmatched_view(c)) if v is not None]
            if format is Format.md:
                emit("\n".join(view_markdown(v) for v in views), out)
            else:
                print_views(views, out)


class IndexFormat(str, Enum):
    table = "table"
    md = "md"
    json = "json"


def specs_index(
    folder: Annotated[
        Path | None, typer.Argument(help="folder of YAML specs; default: the specs shipped with inceptcost")
    ] = None,
    format: Annotated[IndexFormat, typer.Option("--format", "-f", help="output format")] = IndexFormat.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file instead of stdout")] = None,
) -> None:
    """Index of the specs in a folder: what each is, its params, MACs and budget verdict (md: the manual's block)."""
    from ..analyze.costs.index import index_markdown, spec_index
    from ..quantities import human
    from ..spec.shipped import shipped_dir
    from ..text import shape_text

    with user_errors():
        title = f"specs in {folder}" if folder else "shipped specs (use by name: inceptcost analyze googlenet)"
        folder = folder or shipped_dir()
        if not folder.is_dir():
            raise InceptcostError("not a folder", file=str(folder), hint="give the folder that holds the specs")
        check_out(out, *folder.glob("*.yaml"))
        rows = spec_index(folder)
        if format is IndexFormat.md:
            emit(index_markdown(rows), out)
            return
        if format is IndexFormat.json:
            emit(json.dumps([{**r.__dict__, "verdict": r.verdict} for r in rows], indent=2), out)
            return
        heads = ["spec", "what it is", "input", "params", "MACs", "budget"]
        t = table(title, heads, ("params", "MACs"), ranks=[0, 0, 2, 1, 1, 2], wrap=("what it is",))
        for r in rows:
            t.rows.append(
                [Path(r.file).name, r.title, shape_text(r.input), f"{r.params:,}", human(r.macs, digits=4), r.verdict]
            )
        print_views([t], out)


def memory(
    spec: SpecArg = DEFAULT_SPEC,
    batch: Annotated[str, typer.Option("--batch", help="images per step")] = "32",
    dtype: Annotated[str, typer.Option("--dtype", help="fp32, or bf16 / fp16 autocast")] = "fp32",
    mode: Annotated[str, typer.Option("--mode", help="train (one step) or infer (one forward)")] = "train",
    optimizer: Annotated[str, typer.Option("--optimizer", help="sgd (momentum) or adamw")] = "sgd",
    device: Annotated[str, typer.Option("--device", help="cuda or cpu (autocast and dropout differ)")] = "cuda",
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC memory format")] = False,
    fits: Annotated[str | None, typer.Option("--fits", help="a size (80GiB) or device (H100, H200, A100-80GB)")] = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """What torch keeps per layer for backward, the peak of one step, and the largest batch that fits."""
    from ..analyze.memory import Setup
    from ..analyze.memory.capacity import memory_report, rows_csv, rows_view, totals_lines
    from ..analyze.report import view_markdown

    with user_errors():
        check_out(out, spec_input(spec))
        result = memory_report(spec, Setup.checked(_whole(batch), dtype, mode, optimizer, device, channels_last), fits)
        if format is Format.json:
            emit(json.dumps(result, indent=2), out)
        elif format is Format.csv:
            emit(rows_csv(result), out)
        elif format is Format.md:
            emit(view_markdown(rows_view(result)) + "".join(f"\n- {line}" for line in totals_lines(result)) + "\n", out)
        else:
            print_views([rows_view(result), *totals_lines(result)], out)


def _whole(text: str) -> int:
    """--batch read as text, so that `--batch x` gets the same one-line error as `--batch 0`."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise InceptcostError(f"--batch must be a whole number, got '{text}'", hint="e.g. --batch 32") from None
