"""The tradeoff's files (`write_tradeoff`: the table of tradeoff.py and this plot) and the plot: mean best
top-1 (error bar: sample standard deviation over seeds) against a cost, the Pareto frontier as a staircase, color = measured training images/s, and a footer that says on what device and
when the runs were made. matplotlib with the Agg backend; PNG and SVG bytes (the SVG without a date stamp, so
that a re-run gives the same file)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from ..errors import ToolMissing, printable
from .results import load_runs
from .tradeoff import X_AXES, Point, frontier, points, set_x, table_rows, to_csv, to_markdown, write_files


def plain(text: str) -> str:
    """`text` drawn as it is: printable, and every '$' escaped (two of them would start matplotlib's math mode,
    whose parser fails on most text: `$x^$`)."""
    return printable(str(text)).replace("$", r"\$")


def footer(pts: list[Point]) -> str:
    runs = [r for p in pts for r in p.runs]
    devices = sorted({r.device or "device not recorded" for r in runs})
    dates = sorted({r.finished[:10] for r in runs if r.finished})
    when = (dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}") if dates else "dates not recorded"
    seeds = max(p.n for p in pts)
    bars = f"; error bars: ±1 sd over up to {seeds} seeds" if seeds > 1 else ""
    return f"{len(runs)} runs on {', '.join(devices)}, finished {when}{bars}"


def plot(pts: list[Point], front: list[Point], xlabel: str, title: str, macs_axis: bool = True) -> dict[str, bytes]:
    """`front`: the Pareto-optimal points sorted by cost (tradeoff.frontier)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        raise ToolMissing("the plot needs matplotlib", hint="pip install matplotlib") from None
    from ..quantities import human

    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=120)
    try:
        xs = [p.x for p in pts]
        ys = [p.top1 for p in pts]
        sds = [p.top1_sd or 0.0 for p in pts]
        if any(sds):
            ax.errorbar(xs, ys, yerr=sds, fmt="none", ecolor="0.35", elinewidth=1, capsize=3, zorder=2)
        speeds = [p.images_per_s for p in pts]
        if any(s is not None for s in speeds):
            colors = [s if s is not None else float("nan") for s in speeds]
            sc = ax.scatter(xs, ys, c=colors, cmap="viridis", s=70, zorder=3, edgecolors="black", plotnonfinite=True)
            fig.colorbar(sc, ax=ax, label="measured training images/s (median over seeds)")
        else:
            ax.scatter(xs, ys, s=70, zorder=3, color="tab:blue", edgecolors="black")
        if front:
            fx, fy = [], []
            for p in front:  # a staircase: the best mean top-1 available at or below each cost
                if fx:
                    fx.append(p.x)
                    fy.append(fy[-1])
                fx.append(p.x)
                fy.append(p.top1)
            ax.plot(fx, fy, color="tab:red", lw=1.5, zorder=2, label="Pareto frontier")
            ax.scatter(
                [p.x for p in front], [p.top1 for p in front], s=160, facecolors="none", edgecolors="tab:red", zorder=4
            )
        if min(xs) > 0 and max(xs) / min(xs) > 4:
            ax.set_xscale("log")
        ax.margins(x=0.12, y=0.12)
        ax.autoscale_view()
        if (
            ax.get_ylim()[1] > 100 >= max(ys)
        ):  # a percentage: an error bar stretches the axis no further than names need
            ax.set_ylim(top=100 + 0.1 * (100 - ax.get_ylim()[0]))
        _label(ax, fig, pts, max(xs))

        def tick(v: float, _=None) -> str:
            return human(v) if macs_axis else f"{v:g}"

        def minor(v: float, _=None) -> str:  # on a log axis of less than two decades, 2x and 5x are labelled too
            lo, hi = ax.get_xlim()
            leading = f"{v:.0e}"[0]
            return tick(v) if ax.get_xscale() == "log" and hi / lo < 100 and leading in "25" else ""

        ax.xaxis.set_major_formatter(FuncFormatter(tick))
        ax.xaxis.set_minor_formatter(FuncFormatter(minor))
        ax.set_xlabel(plain(xlabel))
        ax.set_ylabel("best validation top-1 (%)")
        ax.set_title(plain(title))
        ax.grid(True, alpha=0.3)
        if front:
            ax.legend(loc="lower right")
        fig.text(0.01, 0.005, plain(footer(pts)), fontsize=7, color="0.3", ha="left", va="bottom")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        out = {}
        for fmt in ("png", "svg"):
            buf = io.BytesIO()
            with plt.rc_context({"svg.hashsalt": "inceptcost"}):  # the same ids on every run: the same file
                fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
            out[fmt] = buf.getvalue()
        return out
    finally:
        plt.close(fig)


def _label(ax, fig, pts: list[Point], right_most: float) -> None:
    """Name each point beside it, at the first place (right, then left; above, then below, then further off) where
    the name covers neither another point nor a name already placed. Sizes are in points (1/72 inch)."""

    def box(px: float, py: float, dx: float, dy: float, width: float) -> tuple[float, float, float, float]:
        x0 = px + dx if dx > 0 else px + dx - width
        return (x0, py + dy, x0 + width, py + dy + 8)

    def hits(a, b) -> bool:
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    anchors = [tuple(ax.transData.transform((p.x, p.top1)) * 72 / fig.dpi) for p in pts]
    (ax0, ay0), (ax1, ay1) = ax.get_window_extent().get_points() * 72 / fig.dpi  # the names stay inside the axes
    dots = [(x - 5, y - 5, x + 5, y + 5) for x, y in anchors]
    taken: list[tuple[float, float, float, float]] = []
    for p, (px, py) in sorted(zip(pts, anchors, strict=True), key=lambda t: (t[0].x, -t[0].top1)):
        text = plain(p.label)
        width = 4.6 * len(text)
        sides = (-8, 8) if p.x == right_most else (8, -8)  # the right-most names go left, clear of the colorbar
        tries = [(dx, dy) for dx in sides for dy in (4, -12, 14, -22, 24, -32)]
        for dx, dy in tries:
            b = box(px, py, dx, dy, width)
            own = (px - 5, py - 5, px + 5, py + 5)
            inside = ax0 <= b[0] and b[2] <= ax1 and ay0 <= b[1] and b[3] <= ay1
            if inside and not any(hits(b, d) for d in dots if d != own) and not any(hits(b, t) for t in taken):
                break
        else:
            dx, dy = tries[0]
        taken.append(box(px, py, dx, dy, width))
        ax.annotate(
            text,
            (p.x, p.top1),
            textcoords="offset points",
            xytext=(dx, dy),
            ha="left" if dx > 0 else "right",
            fontsize=8,
        )


def write_tradeoff(
    paths: list[str | Path],
    out_dir: Path,
    stem: str = "tradeoff",
    x: str = "macs",
    time_run=None,
    mix: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Table (md, csv, json) and plot (png, svg) into out_dir, each written atomically;
    returns {'runs': rows, 'files': [...]}. `x`: macs, or measured or predicted (with `time_run`,
    analyze/timing/time_budget.TimeRun) ms per image, on the x axis and for the Pareto set."""
    pts = set_x(points(load_runs(paths), mix), x, time_run)
    rows = table_rows(pts)
    files: dict[str, str | bytes] = {
        f"{stem}.md": to_markdown(rows),
        f"{stem}.csv": to_csv(rows),
        f"{stem}.json": json.dumps(
            {
                "runs": rows,
                "x": x,
                "pareto_rule": f"no other point has <= {x} and >= mean best top-1, one of them strictly",
                "error_bars": "sample standard deviation over the seeds of one spec",
            },
            indent=2,
        ),
    }
    title = "best top-1 against MACs" if x == "macs" else f"best top-1 against {x} time per image"
    for fmt, data in plot(pts, frontier(pts), X_AXES[x], title, x == "macs").items():
        files[f"{stem}.{fmt}"] = data
    return {"runs": rows, "files": write_files(out_dir, files), "table": files[f"{stem}.md"]}
