"""Terminal output: report Views and other tables laid out with rich (the only place that uses rich)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..io import write_atomic


def console(file=None, width: int | None = None):
    from rich.console import Console

    # Table 1 is wide: when piped (no terminal width to respect), lay it out for 120 columns.
    if width is None and (file is not None or not sys.stdout.isatty()):
        width = 120
    if width is None and not os.environ.get("COLUMNS", "1").isdigit() or os.environ.get("COLUMNS") == "0":
        width = shutil.get_terminal_size((120, 24)).columns  # COLUMNS=0 or junk: rich would print nothing
    return Console(file=file, width=width)


def table(title: str, heads: list[str], right: tuple[str, ...] = ()):
    """An empty rich table with a bold header; the columns in `right` are right-aligned."""
    from rich.table import Table

    t = Table(title=title, title_justify="left", header_style="bold")
    for head in heads:
        t.add_column(head, justify="right" if head in right else "left")
    return t


def rich_view(view):
    """A report View (plain strings) as a compact rich table that fits 100-120 columns."""
    from rich import box
    from rich.table import Table

    t = Table(
        title=view.title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 0),
        header_style="bold",
    )
    for i, (head, align) in enumerate(view.columns):
        wide = head in ("why", "ours vs paper")  # the free-text column takes what is left
        t.add_column(
            head,
            justify="right" if align == "r" else "left",
            overflow="fold",
            ratio=1 if wide else None,
            no_wrap=i == 0,
        )
    last = len(view.rows) - 1
    for i, row in enumerate(view.rows):
        t.add_row(*row, end_section=i == last - 1 and row and view.rows[last][0] in ("total", "aux heads"))
    return t


def print_views(items: list, out: Path | None) -> None:
    """Print report Views (as rich tables with their notes), rich tables and plain lines, to stdout or
    atomically to `out`."""
    import io

    buf = io.StringIO() if out is not None else None
    con = console(buf)
    for item in items:
        if isinstance(item, str):
            con.print(item, highlight=False)
            continue
        if not hasattr(item, "notes"):  # an already built rich renderable
            con.print(item)
            continue
        con.print(rich_view(item))
        for note in item.notes:
            con.print(note, style="dim", highlight=False)
        con.print()
    if buf is not None:
        write_atomic(out, buf.getvalue())
