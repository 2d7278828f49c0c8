"""Terminal output: report Views laid out with rich (the only place that uses rich).

On a terminal a table is laid out for its width: columns are left out, highest rank first, until every number
and name fits whole on its line (only free-text columns wrap, between words). A pipe or a file (a redirection or
`--out`) is laid out for PIPE_WIDTH columns, so that `less` and an editor show it whole; COLUMNS=0 gets every
column at its full width and lines that are never wrapped (`--format md|csv|json` are for programs).
A column's legend is printed only when the column is shown.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..analyze.view import View
from ..io import write_atomic

FULL = 100_000  # the width of "no width": COLUMNS=0
PIPE_WIDTH = 160  # a pipe or a file: wide enough for every shipped table, narrow enough to read
FREE_TEXT_LEAST = 24  # a wrapped column is at least this wide (or its longest word) when its text is longer


def console(file=None, width: int | None = None):
    """stdout's console (or `file`'s): a terminal's width (rich reads COLUMNS, TTY_COMPATIBLE and FORCE_COLOR),
    else PIPE_WIDTH; COLUMNS=0 is full width everywhere."""
    from rich.console import Console

    if width is None:
        if os.environ.get("COLUMNS") == "0":
            width = FULL
        else:
            con = Console(file=file)
            if file is None and con.is_terminal:
                return con
            width = PIPE_WIDTH
    return Console(file=file, width=width)


def table(title: str, heads: list[str], right: tuple[str, ...] = (), ranks=None, wrap: tuple[str, ...] = ()) -> View:
    """An empty View (rows are appended to `.rows`, captions to `.notes`); the columns in `right` right-aligned."""
    return View(title, [(h, "r" if h in right else "l") for h in heads], [], ranks=ranks, wrap=wrap)


def _need(view: View, i: int) -> int:
    """The least width column `i` takes: its longest cell, or for free text its longest word (at least
    FREE_TEXT_LEAST when its text is longer)."""
    from rich.cells import cell_len

    head = view.columns[i][0]
    cells = [head, *(row[i] for row in view.rows)]
    longest = max(cell_len(c) for c in cells)
    if head not in view.wrap:
        return longest
    word = max((cell_len(w) for c in cells for w in c.split()), default=1)
    return max(word, min(longest, FREE_TEXT_LEAST))


def fitted_columns(view: View, width: int) -> list[int]:
    """The columns shown at `width`: all of them if they fit, else the highest ranks left out, a rank at a time
    (rank 0 is always shown, even when it does not fit)."""
    n = len(view.columns)
    ranks = view.ranks or list(range(n))  # none given: from the right, never the first
    keep = list(range(n))
    needs = [_need(view, i) for i in range(n)]
    while sum(needs[i] for i in keep) + len(keep) + 1 > width:  # the box: an edge each side, one between columns
        top = max(ranks[i] for i in keep)
        if top == 0:
            break
        keep = [i for i in keep if ranks[i] < top]
    return keep


def rich_view(view: View, width: int = FULL):
    """A View as a compact rich table that fits `width`, and its notes: the legends of the columns shown, then
    one naming the columns left out (if any)."""
    from rich import box
    from rich.table import Table

    keep = fitted_columns(view, width)
    t = Table(
        title=view.title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 0),
        header_style="bold",
    )
    for i in keep:
        head, align = view.columns[i]
        free = head in view.wrap
        t.add_column(
            head,
            justify="right" if align == "r" else "left",
            no_wrap=not free,
            overflow="fold",
            min_width=_need(view, i) if free else None,
        )
    last = len(view.rows) - 1
    for i, row in enumerate(view.rows):
        totals = i == last - 1 and row and view.rows[last][0] in ("total", "aux heads")
        t.add_row(*(row[j] for j in keep), end_section=totals)
    left_out = [view.columns[i][0] for i in range(len(view.columns)) if i not in keep]
    notes = [legend] if (legend := view.legend([view.columns[i][0] for i in keep])) else []
    if left_out:
        notes.append(
            f"left out to fit {width} columns: {', '.join(dict.fromkeys(left_out))}"
            " (a wider terminal, COLUMNS=0 or --format md shows every column)"
        )
    return t, notes


def print_views(items: list, out: Path | None = None) -> None:
    """Print report Views (as rich tables with their notes) and plain lines, to stdout (laid out for the
    terminal's width, or PIPE_WIDTH) or atomically to `out` (PIPE_WIDTH; COLUMNS=0: full width)."""
    import io

    buf = io.StringIO() if out is not None else None
    con = console(buf)
    for item in items:
        if isinstance(item, str):
            con.print(item, highlight=False)
            continue
        t, fitted = rich_view(item, con.width)
        con.print(t)
        for note in [*item.notes, *fitted]:
            con.print(note, style="dim", highlight=False)
        con.print()
    if buf is not None:
        write_atomic(out, buf.getvalue())
