"""How a diagram looks: the MACs colour scale and its legend, node and title labels, the document defaults.

Every node is filled by its MACs on a sequential palette (ColorBrewer YlOrRd): the most expensive node is the
darkest, each step lighter halves the MACs; a legend under the title gives the steps.
"""

from __future__ import annotations

from typing import Any

from ...kinds import NODE_KINDS
from ...quantities import human
from ...text import op_title, shape_text

# ColorBrewer YlOrRd, 9 classes, light to dark: "hot" reads as "expensive".
PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026")
NO_MACS = "#ffffff"  # pools, norms, concats: no multiply-adds
DARK_FROM = 6  # palette levels from here on get white text
FONT = "Helvetica,Arial,sans-serif"
NODE = {
    "shape": "box",
    "style": "rounded,filled",
    "fontname": FONT,
    "fontsize": 10,
    "height": 0.3,
    "margin": "0.07,0.03",
    "penwidth": 0.7,
    "color": "#5a5a5a",
    "fillcolor": NO_MACS,
}
EDGE = {"fontname": FONT, "fontsize": 8, "fontcolor": "#505050", "color": "#6a6a6a", "arrowsize": 0.5, "penwidth": 0.7}


def html(text: str) -> str:
    """A graphviz HTML-like label (the graphviz package writes a value in < > as one, unquoted)."""
    return f"<{text}>"


# The most characters of one text (a title, a name, a label) a diagram shows: a longer one is cut with an
# ellipsis. A text far wider than the drawing cannot be read in it anyway, the spec keeps the whole text for
# the reports, and dot itself refuses an HTML label of more than about 16 KB with an error of its own.
MAX_SHOWN = 160


def shown(text: Any) -> str:
    """`text` cut to MAX_SHOWN characters, the cut marked with an ellipsis."""
    text = str(text)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "\u2026"


def esc(text: Any) -> str:
    """Escape text for an HTML-like label (cut to MAX_SHOWN characters first)."""
    return shown(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# ---- colours ----


def cost_level(macs: int, top: int) -> int:
    """0 for no MACs; 9 for the most expensive node (`top`), one level less for each halving below it."""
    if macs <= 0 or top <= 0:
        return 0
    halvings = max(0, (top // macs).bit_length() - 1)
    return max(1, len(PALETTE) - halvings)


def fill(macs: int, top: int) -> dict[str, str]:
    level = cost_level(macs, top)
    if level == 0:
        return {"fillcolor": NO_MACS}
    return {"fillcolor": PALETTE[level - 1], "fontcolor": "white" if level >= DARK_FROM else "black"}


def legend(top: int, caption: str) -> str:
    """An HTML table: one swatch per palette level with the MACs at which it starts."""
    cells = [f'<td bgcolor="{NO_MACS}" border="1"><font point-size="8">0</font></td>']
    for level in range(1, len(PALETTE) + 1):
        low = top / 2 ** (len(PALETTE) - level)
        text = f"&ge;{human(low)}" if level > 1 else f"&lt;{human(top / 2 ** (len(PALETTE) - 2))}"
        color = "white" if level >= DARK_FROM else "black"
        cells.append(
            f'<td bgcolor="{PALETTE[level - 1]}" border="1"><font point-size="8" color="{color}">{text}</font></td>'
        )
    return (
        '<table border="0" cellborder="0" cellspacing="1" cellpadding="3"><tr>'
        f'<td align="right"><font point-size="9">{esc(caption)}</font></td>' + "".join(cells) + "</tr></table>"
    )


# ---- labels ----


def lines_label(lines: list[str]) -> str:
    """Left-aligned lines of HTML text (a plain <br/> would center each line on its own)."""
    rows = "".join(f'<tr><td align="left">{line}</td></tr>' for line in lines)
    return html(f'<table border="0" cellpadding="0" cellspacing="1">{rows}</table>')


def title_label(title: str, lines: list[str], top: int, caption: str) -> str:
    rows = [f'<tr><td align="left"><font point-size="15"><b>{esc(title)}</b></font></td></tr>']
    rows += [f'<tr><td align="left"><font point-size="10">{esc(line)}</font></td></tr>' for line in lines]
    rows.append(f'<tr><td align="left">{legend(top, caption)}</td></tr>')
    return html('<table border="0" cellborder="0" cellspacing="2">' + "".join(rows) + "</table>")


def tooltip(a: dict) -> str:
    shapes = f"{shape_text(a['in_shape'])} -> {shape_text(a['out_shape'])}"
    return f"{a['name']}: {op_title(a)}, {shapes}, {a['params']:,} params, {a['macs']:,} MACs"


def node_label(a: dict, detail: bool) -> str:
    """Line 1 the layer, line 2 (smaller) its MACs and, with `detail`, its params."""
    head = esc(op_title(a))
    if a["op"] == "concat":
        head = f"concat {esc(shape_text(a['out_shape']))}"
    facts = []
    if detail and a["params"]:
        facts.append(f"{human(a['params'])} params")
    if a["macs"]:
        facts.append(f"{human(a['macs'])} MACs")
    if not facts:
        return html(head)
    return html(f'{head}<br/><font point-size="8">{" · ".join(facts)}</font>')


def node_attrs(a: dict, top: int, detail: bool = False, aux: bool = False) -> dict[str, Any]:
    """An IR node's drawing: its kind's style from `kinds.NODE_KINDS`, its label, tooltip and MACs fill."""
    kind = NODE_KINDS.get(a["op"])
    style: dict[str, Any] = dict(kind.style) if kind else {"shape": "box", "style": "rounded,filled"}
    style["style"] = ",".join(sorted({*style.get("style", "").split(","), "filled"} - {""}))
    if aux:
        style["style"] += ",dashed"
    if a["op"] == "concat":
        style = {"shape": "box", "style": "filled", "height": 0.22}
    if a["op"] == "add":  # a small "+" with what it does beside it
        return {**style, "label": "+", "xlabel": esc(op_title(a)), "tooltip": tooltip(a), "id": a["name"]}
    return {**style, "label": node_label(a, detail), "tooltip": tooltip(a), "id": a["name"], **fill(a["macs"], top)}


def graph_attrs(label: str, **extra: Any) -> dict[str, Any]:
    return {
        "rankdir": "TB",
        "newrank": "true",
        "fontname": FONT,
        "labelloc": "t",
        "labeljust": "l",
        "label": label,
        "nodesep": 0.12,
        "ranksep": 0.2,
        "pad": 0.25,
        "outputorder": "edgesfirst",
        # Out-edges left to right in the order written: a module's branches as in the paper (1x1, 3x3, 5x5, pool).
        "ordering": "out",
        **extra,
    }
