"""A view: a table of strings with a title and notes, the one shape every report of the tool takes; rendered
as markdown and HTML here, with rich by the CLI (cli/views.py). It imports nothing of the tool, so that every
part of analyze can build views without importing another."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape


@dataclass
class View:
    """A table of strings. On a narrow terminal the columns of the highest rank are left out first (rank 0:
    always shown; no ranks: from the right); the columns named in `wrap` are free text that may wrap between
    words, every other cell is shown whole on one line."""

    title: str
    columns: list[tuple[str, str]]  # (header, "l" | "r")
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    ranks: list[int] | None = None
    wrap: tuple[str, ...] = ()
    legends: dict[str, str] = field(default_factory=dict)  # column header -> what it means, shown with its column

    def legend(self, shown: list[str] | None = None) -> str:
        """The legends of the columns shown (all by default), as one line after the notes ('' when none)."""
        heads = {h for h, _ in self.columns} if shown is None else set(shown)
        return " ".join(text for head, text in self.legends.items() if head in heads)

    def all_notes(self) -> list[str]:
        """The notes, then the legend of every column (markdown and HTML show every column)."""
        return [*self.notes, *([self.legend()] if self.legends else [])]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def view_markdown(v: View) -> str:
    head = "| " + " | ".join(_md_cell(h) for h, _ in v.columns) + " |"
    rule = "|" + "|".join("---:" if al == "r" else ":---" for _, al in v.columns) + "|"
    body = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in v.rows]
    parts = [f"### {v.title}", "", head, rule, *body, ""]
    for n in v.all_notes():
        parts += [n, ""]
    return "\n".join(parts).rstrip() + "\n"


def view_html(v: View) -> str:
    align = {"l": "left", "r": "right"}
    head = "".join(f'<th style="text-align:{align[al]}">{escape(h)}</th>' for h, al in v.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:{align[al]}">{escape(c)}</td>' for c, (_, al) in zip(row, v.columns, strict=True)
        )
        + "</tr>"
        for row in v.rows
    )
    notes = "".join(f"<p>{escape(n)}</p>" for n in v.all_notes())
    return f"<h4>{escape(v.title)}</h4><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"
