"""The tradeoff plot: mean best top-1 (error bar: sample standard deviation over seeds) against a cost, the
Pareto frontier as a staircase, color = measured training images/s, and a footer that says on what device and
when the runs were made. matplotlib with the Agg backend; PNG and SVG bytes (the SVG without a date stamp, so
that a re-run gives the same file)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ..errors import ToolMissing, printable

if TYPE_CHECKING:  # the points come from bench/tradeoff.py, which imports this module when it plots
    from .tradeoff import Point


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
        placed: list[tuple[float, float]] = []  # label anchors in points, so that close points do not overprint
        for p in sorted(pts, key=lambda p: (p.x, -p.top1)):
            right = p.x == max(xs)  # labels of the right-most points go to their left, clear of the colorbar
            px, py = ax.transData.transform((p.x, p.top1)) * 72 / fig.dpi
            dy = 6
            while any(abs(px - qx) < 60 and abs(py + dy - qy) < 9 for qx, qy in placed):
                dy -= 11
            placed.append((px, py + dy))
            ax.annotate(
                printable(p.label).replace("$", r"\$"),  # two '$' would start matplotlib's math mode
                (p.x, p.top1),
                textcoords="offset points",
                xytext=(-8 if right else 8, dy),
                ha="right" if right else "left",
                fontsize=8,
            )

        def tick(v: float, _=None) -> str:
            return human(v) if macs_axis else f"{v:g}"

        def minor(v: float, _=None) -> str:  # on a log axis of less than two decades, 2x and 5x are labelled too
            lo, hi = ax.get_xlim()
            leading = f"{v:.0e}"[0]
            return tick(v) if ax.get_xscale() == "log" and hi / lo < 100 and leading in "25" else ""

        ax.xaxis.set_major_formatter(FuncFormatter(tick))
        ax.xaxis.set_minor_formatter(FuncFormatter(minor))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("best validation top-1 (%)")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        if front:
            ax.legend(loc="lower right")
        fig.text(0.01, 0.005, printable(footer(pts)), fontsize=7, color="0.3", ha="left", va="bottom")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        out = {}
        for fmt in ("png", "svg"):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
            out[fmt] = buf.getvalue()
        return out
    finally:
        plt.close(fig)
