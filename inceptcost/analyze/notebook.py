"""HTML for Jupyter: a spec or an analysis shows its Table 1 view and totals (`_repr_html_`)."""

from __future__ import annotations

from html import escape

from .analysis import Analysis
from .report_views import View, summary_lines, table_view


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
    notes = "".join(f"<p>{escape(n)}</p>" for n in [*v.notes, *([v.legend()] if v.legends else [])])
    return f"<h4>{escape(v.title)}</h4><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"


def analysis_html(a: Analysis) -> str:
    lines = "".join(f"<li>{escape(line)}</li>" for line in summary_lines(a))
    return f"<div>{view_html(table_view(a))}<ul>{lines}</ul></div>"
