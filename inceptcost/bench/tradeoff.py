"""Accuracy against cost over training runs: a table and a plot with the Pareto frontier.

Reads each run's `summary.json` (written by `inceptcost train`: spec, params, macs, best_val_top1,
final_val_top1, total_seconds, images_per_s, device, world_size); a run missing a key that the table needs
is reported by name, never silently dropped. A run is
Pareto-optimal when no other run has MACs as low or lower and a best top-1 as high or higher, one of the two
strictly (two identical points are both kept). No torch; matplotlib (Agg) only for the plot.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InceptcostError, ToolMissing, printable
from ..io import write_atomic
from ..readsafe import read_regular

MAX_SUMMARY_BYTES = 1 << 20  # a summary.json is about 1 KB

# table field -> its key in the summary.json that `inceptcost train` writes
KEYS: dict[str, str] = {
    "spec": "spec",
    "params": "params",
    "macs": "macs",
    "best_top1": "best_val_top1",
    "final_top1": "final_val_top1",
    "images_per_s": "images_per_s",
    "total_seconds": "total_seconds",
    "device": "device",
    "world_size": "world_size",
    "spec_file": "spec_file",
}
REQUIRED = ("spec", "macs", "best_top1")


@dataclass
class Run:
    name: str  # the run folder's name
    path: str
    spec: str
    params: int | None
    macs: float
    best_top1: float
    final_top1: float | None
    images_per_s: float | None
    total_seconds: float | None
    device: str | None
    world_size: int | None
    spec_file: str | None = None
    x: float = 0.0  # the cost on the x axis: MACs (default), or measured / predicted ms per image
    pareto: bool = False


def _summary_path(p: Path) -> Path:
    if p.is_dir():
        return p / "summary.json"
    return p


def read_run(path: str | Path) -> Run:
    p = Path(path)
    summary = _summary_path(p)
    if not summary.is_file():
        raise InceptcostError("no summary.json here", file=str(p), hint="pass run folders (reports/runs/NAME)")
    raw = read_regular(summary, limit=MAX_SUMMARY_BYTES, what="summary.json")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: bad JSON, inf or NaN, a 5000-digit number
        raise InceptcostError(f"cannot read summary.json ({exc})", file=str(summary)) from None
    except RecursionError:
        raise InceptcostError("cannot read summary.json (nested too deeply)", file=str(summary)) from None
    if not isinstance(data, dict):
        raise InceptcostError("summary.json is not a JSON object", file=str(summary))
    values = {f: data.get(key) for f, key in KEYS.items()}
    missing = [f for f in REQUIRED if values[f] is None]
    if missing:
        raise InceptcostError(
            f"summary.json lacks {', '.join(KEYS[f] for f in missing)}",
            file=str(summary),
            hint="an unfinished run has no best top-1 yet; leave it out" if "best_top1" in missing else None,
        )
    name = (summary.parent if summary.name == "summary.json" else summary).name
    try:
        run = Run(
            name=name,
            path=str(summary),
            spec=str(values["spec"]),
            params=int(values["params"]) if values["params"] is not None else None,
            macs=float(values["macs"]),
            best_top1=float(values["best_top1"]),
            final_top1=float(values["final_top1"]) if values["final_top1"] is not None else None,
            images_per_s=float(values["images_per_s"]) if values["images_per_s"] is not None else None,
            total_seconds=float(values["total_seconds"]) if values["total_seconds"] is not None else None,
            device=str(values["device"]) if values["device"] is not None else None,
            world_size=int(values["world_size"]) if values["world_size"] is not None else None,
            spec_file=str(values["spec_file"]) if values["spec_file"] is not None else None,
            x=float(values["macs"]),
        )
        for field in ("macs", "best_top1", "final_top1", "images_per_s", "total_seconds"):
            if getattr(run, field) is not None and not math.isfinite(getattr(run, field)):
                raise ValueError(f"{field} is {getattr(run, field)}")
    except (TypeError, ValueError, OverflowError) as exc:
        raise InceptcostError(f"a value has the wrong type ({exc})", file=str(summary)) from None
    if not run.macs > 0:
        raise InceptcostError(f"MACs must be a positive number, got {run.macs}", file=str(summary))
    if run.params is not None and run.params < 0:
        raise InceptcostError(f"params must be >= 0, got {run.params}", file=str(summary))
    return run


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a run can have")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is beyond a float's range")
    return value


def mark_pareto(runs: list[Run]) -> list[Run]:
    """Pareto-optimal: no other run is at least as good on both (cost on x lower or equal, top-1 higher or equal)
    and better on one. Two identical points are both kept."""

    def dominates(o: Run, r: Run) -> bool:
        return o.x <= r.x and o.best_top1 >= r.best_top1 and (o.x < r.x or o.best_top1 > r.best_top1)

    for r in runs:
        r.pareto = not any(dominates(o, r) for o in runs if o is not r)
    return runs


def frontier(runs: list[Run]) -> list[Run]:
    """The Pareto-optimal runs by cost (a step line: the best top-1 reachable within a given budget)."""
    return sorted((r for r in runs if r.pareto), key=lambda r: (r.x, r.best_top1))


X_AXES = {
    "macs": "multiply-adds per image (MACs)",
    "measured": "measured training time per image (ms)",
    "predicted": "predicted training time per image (ms)",
}


def _run_spec(run: Run):
    """The run's spec as trained: its file, with the input size and classes its config.yaml records."""
    from dataclasses import replace

    from ..spec import load_spec
    from ..yamlsafe import load_yaml

    if run.spec_file is None:
        raise InceptcostError("summary.json has no spec_file", file=run.path, hint="use --x macs or measured")
    spec = load_spec(run.spec_file)
    config = Path(run.path).parent / "config.yaml"
    if config.is_file():
        data, _ = load_yaml(config)
        rec = data.get("spec") if isinstance(data, dict) else None
        if isinstance(rec, dict) and rec.get("input") and rec.get("classes"):
            spec = replace(spec, input=tuple(rec["input"]), classes=int(rec["classes"]))
    return spec


def set_x(runs: list[Run], x: str, time_run=None) -> list[Run]:
    """Put MACs, measured ms per image (1000 / images/s) or predicted ms per image on the x axis; re-mark Pareto."""
    if x not in X_AXES:
        raise InceptcostError(f"unknown x axis '{x}'", hint=", ".join(X_AXES))
    for r in runs:
        if x == "macs":
            r.x = r.macs
        elif x == "measured":
            if not r.images_per_s:
                raise InceptcostError("summary.json has no images/s", file=r.path, hint="use --x macs or predicted")
            r.x = 1000 / r.images_per_s
        else:
            if time_run is None:
                raise InceptcostError("--x predicted needs a device profile", hint="add --profile h100 --batch N")
            r.x = time_run.step_ms(_run_spec(r)) / time_run.batch
    return mark_pareto(runs)


def load_runs(paths: list[str | Path]) -> list[Run]:
    if not paths:
        raise InceptcostError("no runs given", hint="e.g. inceptcost tradeoff reports/runs/*")
    runs = [read_run(p) for p in paths]
    seen: dict[str, str] = {}
    for r in runs:  # two folders named alike would be indistinguishable on the plot
        if r.name in seen and seen[r.name] != r.path:
            r.name = f"{Path(r.path).parent.parent.name}/{r.name}"
        seen[r.name] = r.path
    return mark_pareto(runs)


COLUMNS = ("run", "spec", "params", "macs", "images_per_s", "best_top1", "final_top1", "pareto", "device", "x")


def table_rows(runs: list[Run]) -> list[dict[str, Any]]:
    out = []
    for r in sorted(runs, key=lambda r: (r.x, -r.best_top1)):
        d = asdict(r)
        out.append({"run": r.name, **{c: d[c] for c in COLUMNS if c != "run"}})
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def to_markdown(rows: list[dict[str, Any]]) -> str:
    from ..quantities import human

    head = "| run | spec | params | MACs | images/s | best top-1 | final top-1 | Pareto |"
    lines = [head, "|---|---|---:|---:|---:|---:|---:|:-:|"]
    for r in rows:
        ips = f"{r['images_per_s']:,.0f}" if r["images_per_s"] is not None else "-"
        final = f"{r['final_top1']:.2f}" if r["final_top1"] is not None else "-"
        params = f"{r['params']:,}" if r["params"] is not None else "-"
        lines.append(
            f"| {_md(r['run'])} | {_md(r['spec'])} | {params} | {human(r['macs'])} | {ips} | {r['best_top1']:.2f} | {final} |"
            f" {'yes' if r['pareto'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """A table cell: no pipe ends the cell, no control character reaches the reader's terminal."""
    return printable(text).replace("|", "\\|")


def plot(runs: list[Run], title: str = "best top-1 against MACs", x: str = "macs") -> dict[str, bytes]:
    """PNG and SVG bytes: top-1 vs the cost on x (log x), color = measured images/s, the Pareto frontier drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ToolMissing("the plot needs matplotlib", hint="pip install matplotlib") from None
    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
    try:
        xs = [r.x for r in runs]
        ys = [r.best_top1 for r in runs]
        speeds = [r.images_per_s for r in runs]
        known = [s for s in speeds if s is not None]
        if known:
            colors = [s if s is not None else float("nan") for s in speeds]
            sc = ax.scatter(xs, ys, c=colors, cmap="viridis", s=70, zorder=3, edgecolors="black", plotnonfinite=True)
            fig.colorbar(sc, ax=ax, label="measured training images/s")
        else:
            ax.scatter(xs, ys, s=70, zorder=3, color="tab:blue", edgecolors="black")
        front = frontier(runs)
        if front:
            fx, fy = [], []
            for r in front:  # a staircase: the best top-1 available at or below each MAC count
                if fx:
                    fx.append(r.x)
                    fy.append(fy[-1])
                fx.append(r.x)
                fy.append(r.best_top1)
            ax.plot(fx, fy, color="tab:red", lw=1.5, zorder=2, label="Pareto frontier")
            ax.scatter(
                [r.x for r in front],
                [r.best_top1 for r in front],
                s=160,
                facecolors="none",
                edgecolors="tab:red",
                zorder=4,
            )
        from matplotlib.ticker import FuncFormatter

        from ..quantities import human

        for r in runs:  # labels of the right-most points go to their left, clear of the colorbar
            right = r.x == max(xs)
            ax.annotate(
                printable(r.name).replace("$", r"\$"),  # two '$' would start matplotlib's math mode
                (r.x, r.best_top1),
                textcoords="offset points",
                xytext=(-8 if right else 8, 6),
                ha="right" if right else "left",
                fontsize=8,
            )
        if min(xs) > 0 and max(xs) / min(xs) > 4:
            ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human(v) if x == "macs" else f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.margins(x=0.12, y=0.12)
        ax.set_xlabel(X_AXES[x])
        ax.set_ylabel("best validation top-1")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        if front:
            ax.legend(loc="lower right")
        fig.tight_layout()
        out = {}
        for fmt in ("png", "svg"):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
            out[fmt] = buf.getvalue()
        return out
    finally:
        plt.close(fig)


def write_tradeoff(
    paths: list[str | Path], out_dir: Path, stem: str = "tradeoff", x: str = "macs", time_run=None
) -> dict[str, Any]:
    """Table (md, csv, json) and plot (png, svg) into out_dir, each written atomically;
    returns {'runs': rows, 'files': [...]}. `x`: macs, or measured or predicted (with `time_run`,
    analyze/time_budget.TimeRun) ms per image, on the x axis and for the Pareto set."""
    runs = set_x(load_runs(paths), x, time_run)
    rows = table_rows(runs)
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InceptcostError("output folder does not exist", file=str(out_dir), hint="create it first")
    files = {
        f"{stem}.md": to_markdown(rows),
        f"{stem}.csv": to_csv(rows),
        f"{stem}.json": json.dumps(
            {"runs": rows, "x": x, "pareto_rule": f"no other run has <= {x} and >= best top-1, one of them strictly"},
            indent=2,
        ),
    }
    title = "best top-1 against MACs" if x == "macs" else f"best top-1 against {x} time per image"
    for fmt, data in plot(runs, title, x).items():
        files[f"{stem}.{fmt}"] = data
    written = []
    for name, data in files.items():
        write_atomic(out_dir / name, data)
        written.append(str(out_dir / name))
    return {"runs": rows, "files": written}
