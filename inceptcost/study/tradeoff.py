"""Accuracy against cost over training runs: points, the Pareto frontier, a table and a plot.

Runs (study/results.py) are first checked to be comparable: runs on other data, for other epochs, at another image
size or on another device are refused in one line that lists what differs, unless the user names the settings
to mix. The runs of one spec in one setting (its seeds) make one point: the mean best top-1 with the sample
standard deviation as its error bar. A point is Pareto-optimal when no other point has a cost as low or lower
and a mean top-1 as high or higher, one of the two strictly (two identical points are both kept).
No torch; matplotlib (Agg) only for the plot (tradeoff_plot.py).
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InceptcostError, printable
from ..io import write_atomic
from .results import Run, read_config

# What makes two runs comparable: Run field -> how it is named to the user.
SETTINGS = {"data": "data", "epochs": "epochs", "input": "image size", "device": "device"}


@dataclass
class Point:
    """One spec in one setting: its runs (seeds) and what they average to."""

    runs: list[Run]
    label: str = ""
    x: float = 0.0  # the cost on the x axis
    pareto: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # columns a caller adds (the study's predictions)

    @property
    def first(self) -> Run:
        return self.runs[0]

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def top1(self) -> float:
        return statistics.fmean(r.best_top1 for r in self.runs)

    @property
    def top1_sd(self) -> float | None:
        """Sample standard deviation over the seeds (n - 1 in the denominator); None for one run."""
        return statistics.stdev(r.best_top1 for r in self.runs) if self.n > 1 else None

    @property
    def final_top1(self) -> float | None:
        finals = [r.final_top1 for r in self.runs]
        return statistics.fmean(finals) if None not in finals else None

    @property
    def images_per_s(self) -> float | None:
        speeds = [r.images_per_s for r in self.runs if r.images_per_s]
        return statistics.median(speeds) if speeds else None

    @property
    def ms_per_image(self) -> float | None:
        return 1000 / self.images_per_s if self.images_per_s else None

    @property
    def seeds(self) -> list[int | None]:
        return [r.seed for r in self.runs]


def check_comparable(runs: list[Run], mix: tuple[str, ...] = ()) -> None:
    """Refuse runs that differ in a setting the user did not name in `mix`, in one line listing each."""
    unknown = [m for m in mix if m not in SETTINGS]
    if unknown:
        raise InceptcostError(f"--mix: unknown setting '{unknown[0]}'", hint=f"choose from {', '.join(SETTINGS)}")
    differ = []
    for key, said in SETTINGS.items():
        if key in mix:
            continue
        values: dict[str, list[str]] = {}
        for r in runs:
            values.setdefault(str(getattr(r, key)), []).append(r.name)
        if len(values) > 1:
            shown = "; ".join(
                f"{v}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}" for v, names in values.items()
            )
            differ.append((key, f"{said} ({shown})"))
    if differ:
        raise InceptcostError(
            "the runs are not comparable: they differ in " + " and in ".join(printable(d) for _, d in differ),
            hint=f"give runs of one setting, or pass --mix {','.join(k for k, _ in differ)} to plot them together",
        )


def points(runs: list[Run], mix: tuple[str, ...] = ()) -> list[Point]:
    """Group the runs of one spec in one setting (the seeds) into a point; label it by the run's name when alone,
    by the spec (and the mixed settings that tell it apart) otherwise."""
    check_comparable(runs, mix)
    groups: dict[tuple, list[Run]] = {}
    for r in runs:
        groups.setdefault((r.spec, *(getattr(r, k) for k in mix)), []).append(r)
    out = []
    for key, members in groups.items():
        if len(members) == 1:
            label = members[0].name
        else:
            apart = [f"{SETTINGS[k]} {v}" for k, v in zip(mix, key[1:], strict=True)]
            label = key[0] + (f" ({', '.join(apart)})" if apart else "")
        out.append(Point(members, label=label, x=members[0].macs))
    return mark_pareto(out)


def mark_pareto(pts: list[Point]) -> list[Point]:
    def dominates(o: Point, p: Point) -> bool:
        return o.x <= p.x and o.top1 >= p.top1 and (o.x < p.x or o.top1 > p.top1)

    for p in pts:
        p.pareto = not any(dominates(o, p) for o in pts if o is not p)
    return pts


def frontier(pts: list[Point]) -> list[Point]:
    """The Pareto-optimal points by cost (a step line: the best mean top-1 reachable within a given cost)."""
    return sorted((p for p in pts if p.pareto), key=lambda p: (p.x, p.top1))


X_AXES = {
    "macs": "multiply-adds per image (MACs)",
    "measured": "measured training time per image (ms)",
    "predicted": "predicted training time per image (ms)",
}


def run_spec(run: Run, spec_file: str | Path | None = None):
    """The run's spec as trained: its file (the one it recorded, or `spec_file`: where it is now), with the input
    size and classes its config.yaml records."""
    from dataclasses import replace

    from ..spec import load_spec

    spec_file = spec_file or run.spec_file
    if spec_file is None:
        raise InceptcostError("summary.json has no spec_file", file=run.path, hint="use --x macs or measured")
    spec = load_spec(spec_file)
    config = read_config(Path(run.path).parent / "config.yaml")
    if config.input and config.classes:
        spec = replace(spec, input=config.input, classes=config.classes)
    return spec


def set_x(pts: list[Point], x: str, time_run=None) -> list[Point]:
    """Put MACs, measured ms per image (1000 / median images/s) or predicted ms per image on x; re-mark Pareto."""
    if x not in X_AXES:
        raise InceptcostError(f"unknown x axis '{x}'", hint=", ".join(X_AXES))
    for p in pts:
        if x == "macs":
            p.x = p.first.macs
        elif x == "measured":
            if not p.ms_per_image:
                raise InceptcostError(
                    "summary.json has no images/s", file=p.first.path, hint="use --x macs or predicted"
                )
            p.x = p.ms_per_image
        else:
            if time_run is None:
                raise InceptcostError("--x predicted needs a device profile", hint="add --profile h100 --batch N")
            p.x = time_run.step_ms(run_spec(p.first)) / time_run.batch
    return mark_pareto(pts)


def table_rows(pts: list[Point]) -> list[dict[str, Any]]:
    out = []
    for p in sorted(pts, key=lambda p: (p.x, -p.top1)):
        r = p.first
        out.append(
            {
                "run": p.label,
                "spec": r.spec,
                "seeds": p.n,
                "params": r.params,
                "macs": r.macs,
                "images_per_s": p.images_per_s,
                "best_top1": p.top1,
                "best_top1_sd": p.top1_sd,
                "final_top1": p.final_top1,
                "pareto": p.pareto,
                "data": r.data,
                "epochs": r.epochs,
                "input": r.input,
                "device": r.device,
                "x": p.x,
                **p.extra,
            }
        )
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")  # there is always a point
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def top1_text(mean: float, sd: float | None, n: int) -> str:
    return f"{mean:.2f}" if sd is None else f"{mean:.2f} ± {sd:.2f} (n={n})"


def to_markdown(rows: list[dict[str, Any]]) -> str:
    from ..quantities import human

    head = "| run | spec | params | MACs | images/s | best top-1 (%) | final top-1 (%) | Pareto |"
    lines = [head, "|---|---|---:|---:|---:|---:|---:|:-:|"]
    for r in rows:
        ips = f"{r['images_per_s']:,.0f}" if r["images_per_s"] is not None else "-"
        final = f"{r['final_top1']:.2f}" if r["final_top1"] is not None else "-"
        params = f"{r['params']:,}" if r["params"] is not None else "-"
        best = top1_text(r["best_top1"], r["best_top1_sd"], r["seeds"])
        lines.append(
            f"| {md_cell(r['run'])} | {md_cell(r['spec'])} | {params} | {human(r['macs'])} | {ips} | {best} | {final} |"
            f" {'yes' if r['pareto'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def md_cell(text: str) -> str:
    """A table cell: no pipe ends the cell, no control character reaches the reader's terminal."""
    return printable(str(text)).replace("|", "\\|")


OUTPUTS = ("md", "csv", "json", "png", "svg")  # the extensions of the files write_tradeoff writes


def write_files(out_dir: Path, files: dict[str, str | bytes]) -> list[str]:
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InceptcostError("output folder does not exist", file=str(out_dir), hint="create it first")
    written = []
    for name, data in files.items():
        write_atomic(out_dir / name, data)
        written.append(str(out_dir / name))
    return written
