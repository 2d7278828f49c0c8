"""Every GPU figure the project claims, in one run of at most 9 minutes on one H100 or H200.

    python benchmarks/gpu_evidence.py --out reports/gpu/DATE      # on the GPU machine
    python benchmarks/gpu_evidence.py --dry-run                   # the parts, their commands and minutes; writes nothing
    python benchmarks/gpu_evidence.py --smoke --out /tmp/evidence # every part tiny on the CPU (seconds each)

Parts, each with its own time budget, each step a subprocess of its own (the CLI through `python -m inceptcost`, the
benchmark scripts beside this one), killed with everything it started when it runs past its budget:

1. step time: `inceptcost calibrate --device cuda --quick`, then `bench_predict.py --device cuda --quick` against
   that profile (predicted against measured step times of small nets), and `inceptcost predict` with the datasheet
   profile and the calibrated one for the batch-256 configuration that part 3 measures;
2. memory: `bench_memory.py --cuda`: the predicted training peak against `torch.cuda.max_memory_allocated` for four
   specs at batch 32, 128 and 256, fp32 and bf16;
3. the fast build: `bench_fast.py`, ours (plain and fast) against torchvision's GoogLeNet, batch 256, bf16 +
   channels_last, eager and compiled, train and inference, in interleaved rounds (compiled training: torchvision
   and fast only; compiling one training graph takes about two minutes);
4. a reduced `digits-clutter` study (reports/study/plan-gpu.yaml cut to the specs and seeds that fit the minutes
   left), then `inceptcost tradeoff` on its runs.

It writes OUT/summary.md (rewritten, atomically, after each part: every figure beside its prediction, the device,
torch, CUDA and driver versions, the date and the command), OUT/parts.json (each step's status), each part's raw
JSON under OUT/time, OUT/memory, OUT/fast and OUT/study as soon as that step ends, and each step's stdout and
stderr under OUT/logs. A part that fails or is cut short is recorded as such, with its stderr tail; the other parts
still run. Exit status: 0 when every part measured, 1 when one failed or was cut short, 2 for bad arguments or no
CUDA device (without --smoke).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
MINUTES = 9.0
TAIL_LINES = 20
TAIL_CHARS = 3000
MIN_STEP_S = 5.0  # a step is not started with less than this left before the deadline
KILL_GRACE_S = 10.0
NOT_ASKED = "not in --parts"

# The order in which the reduced study takes the GPU plan's specs: the base, the width sweep's ends, then the
# paper's design choices, then the rest of the sweep.
STUDY_PRIORITY = (
    "spec:variant",
    "width:0.5",
    "width:2",
    "spec:variant-naive",
    "spec:variant-fc",
    "spec:variant-noaux",
    "spec:variant-lrn",
    "width:0.25",
    "width:0.75",
    "width:1.5",
)
STUDY_EPOCHS = 10  # the GPU plan's 20, halved to fit
STUDY_MAX_SEEDS = 5
# One GPU study run: ~6 s to build digits-clutter, ~6 s of first-epoch warm-up, ~1.7 s an epoch (an H100 trained
# the 64 px variant at 1.6-1.8 s an epoch, reports/training/gpu/).
STUDY_RUN_S = (12.0, 1.7)
STUDY_REPORT_S = 15.0  # the study's report: each spec's step timed on its own, the plots
STUDY_REPORT_PER_SPEC_S = 3.0
TRADEOFF_S = 20.0

SMOKE_SPEC = """\
name: tiny
input: 16x16x3
classes: 4
defaults: {activation: relu, bias: false, norm: bn}
layers:
  - {name: conv1, type: conv, patch: 3x3/1, out: 16}
  - {name: pool1, type: maxpool, patch: 3x3/2, ceil: true}
  - {name: inception_3a, type: inception, 1x1: 8, 3x3reduce: 8, 3x3: 16, 5x5reduce: 8, 5x5: 8, poolproj: 8}
  - {name: pool5, type: gap}
  - {name: linear, type: linear, bias: true}
"""

PROBE = r"""
import json, os, platform, sys
out = {"python": platform.python_version(), "executable": sys.executable, "cpus": os.cpu_count()}
try:
    import torch
except ImportError as exc:
    out.update(torch=None, torch_error=str(exc), cuda_available=False)
else:
    out.update(torch=torch.__version__, cuda_build=torch.version.cuda, cuda_available=torch.cuda.is_available())
    if out["cuda_available"]:
        p = torch.cuda.get_device_properties(0)
        out.update(
            device_name=p.name, capability=f"{p.major}.{p.minor}", memory_bytes=p.total_memory,
            multiprocessors=p.multi_processor_count, device_count=torch.cuda.device_count(),
            cudnn=torch.backends.cudnn.version(),
        )
try:
    import torchvision
    out["torchvision"] = torchvision.__version__
except ImportError:
    out["torchvision"] = None
except Exception as exc:  # installed but broken beside this torch
    out["torchvision"] = None
    out["torchvision_error"] = f"{type(exc).__name__}: {exc}"[:300]
print(json.dumps(out))
"""


class UsageError(Exception):
    """Bad arguments or a machine this run cannot use: one line, exit status 2."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT: the step in flight is stopped and the summary written before exiting."""


def write_atomic(path: Path, text: str) -> None:
    """`text` at `path` through a temporary file in the same folder, renamed into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log (its end only: a log can be large)."""
    if not path.is_file():
        return ""
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 64 * 1024))
        text = f.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])[-TAIL_CHARS:]


@dataclass
class Outcome:
    """What one step did: ok | failed | cut short | skipped | dry."""

    part: str
    name: str
    command: str
    status: str
    budget_s: float
    estimate_s: float
    seconds: float = 0.0
    rc: int | None = None
    reason: str = ""
    stderr_tail: str = ""
    stdout_tail: str = ""
    logs: list[str] = field(default_factory=list)


@dataclass
class PartRecord:
    key: str
    number: int
    title: str
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: bool = False
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """measured; partly measured / failed / cut short, naming the step; skipped: why; not run yet."""
        if not self.started:
            return "not run yet"
        ran = [o for o in self.outcomes if o.status != "skipped"]
        bad = [o for o in ran if o.status not in ("ok", "dry")]
        if not ran:
            why = "; ".join(o.reason for o in self.outcomes if o.reason) or "nothing to run"
            return f"skipped: {why}"
        if not bad:
            return "measured"
        first = bad[0]
        what = f"{first.name} {first.status}" + (f" ({first.reason})" if first.reason else "")
        if any(o.status == "ok" for o in ran):
            return f"partly measured: {what}"
        return what


class Runner:
    """Runs each step as a subprocess in its own process group, with the budget left before the deadline."""

    def __init__(self, out: Path | None, smoke: bool, dry: bool, deadline: float, start: float):
        self.out, self.smoke, self.dry = out, smoke, dry
        self.deadline, self.start = deadline, start
        self.clock = 0.0  # dry run: the estimated seconds spent so far
        self.part: PartRecord | None = None
        self.child: subprocess.Popen | None = None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONUNBUFFERED"] = "1"
        if smoke:  # the smoke run is sized for one core
            env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.env = env

    def now(self) -> float:
        return self.start + self.clock if self.dry else time.monotonic()

    def left(self) -> float:
        return self.deadline - self.now()

    def say(self, message: str) -> None:
        elapsed = self.clock if self.dry else time.monotonic() - self.start
        print(f"[{elapsed:5.0f} s] {message}", flush=True)

    def skip(self, name: str, reason: str, estimate_s: float = 0.0) -> Outcome:
        assert self.part is not None
        o = Outcome(self.part.key, name, "", "skipped", 0.0, estimate_s, reason=reason)
        self.part.outcomes.append(o)
        self.say(f"  {name}: skipped: {reason}")
        return o

    def step(
        self,
        name: str,
        argv: list[str],
        budget_s: float,
        estimate_s: float,
        env: dict[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> Outcome:
        """Run `argv` (from the repository root) for at most `budget_s` seconds (less if the deadline is nearer)."""
        assert self.part is not None
        shown = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        shown = (shown + " " if shown else "") + shlex.join(["python", *[short(a) for a in argv[1:]]])
        budget = min(budget_s, self.left())
        if budget < MIN_STEP_S:
            return self.skip(name, f"the {self.minutes_text()} were up", estimate_s)
        o = Outcome(self.part.key, name, shown, "dry", budget, estimate_s)
        self.part.outcomes.append(o)
        if self.dry:
            self.say(f"  {name}: {shown}  (about {estimate_s:.0f} s, at most {budget:.0f} s)")
            self.clock += estimate_s
            return o
        assert self.out is not None
        logs = self.out / "logs"
        logs.mkdir(exist_ok=True)
        stem = f"{self.part.number}-{self.part.key}-{name}".replace(" ", "-")
        out_log, err_log = logs / f"{stem}.out", logs / f"{stem}.err"
        o.logs = [str(out_log.relative_to(self.out)), str(err_log.relative_to(self.out))]
        self.say(f"  {name}: {shown}  (at most {budget:.0f} s)")
        t0 = time.monotonic()
        with out_log.open("wb") as fo, err_log.open("wb") as fe:
            self.child = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=fo,
                stderr=fe,
                start_new_session=True,  # its own process group: a timeout stops what it started too
            )
            try:
                o.rc = self.child.wait(timeout=budget)
                self.stop_child()  # whatever it left running in its group
            except subprocess.TimeoutExpired:
                self.stop_child()
                o.status, o.reason = "cut short", f"ran past its {budget:.0f} s budget"
            except BaseException:
                self.stop_child()
                o.status, o.reason = "cut short", "interrupted"
                raise
            finally:
                o.seconds = time.monotonic() - t0
                self.child = None
                o.stderr_tail, o.stdout_tail = tail(err_log), tail(out_log, 5)
        if o.status == "dry":
            o.status = "ok" if o.rc in ok_codes else "failed"
            if o.status == "failed":
                o.reason = f"exit status {o.rc}"
        self.say(f"  {name}: {o.status}{' (' + o.reason + ')' if o.reason else ''} in {o.seconds:.0f} s")
        return o

    def stop_child(self) -> None:
        """SIGTERM to the child's process group, then SIGKILL to what is left of it (compile workers, say)."""
        child = self.child
        if child is None:
            return
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
                child.wait(timeout=KILL_GRACE_S)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        child.wait()

    def minutes_text(self) -> str:
        return f"{(self.deadline - self.start) / 60:g} minutes"


def short(arg: str) -> str:
    """A path inside the repository as a relative one (the steps run from its root; the summary shows no machine's
    folders where it can)."""
    try:
        return str(Path(arg).relative_to(ROOT)) if arg.startswith(str(ROOT) + os.sep) else arg
    except ValueError:
        return arg


# --- the parts ------------------------------------------------------------------------------------------------


@dataclass
class Context:
    run: Runner
    out: Path | None  # None: a dry run
    smoke: bool
    env: dict  # the probe's answer
    datasheet: str | None  # the shipped profile for this device (h100, h200, a100; cpu in a smoke run)
    parts: tuple[str, ...]  # the parts asked for

    @property
    def py(self) -> str:
        return sys.executable

    def path(self, *parts: str) -> Path:
        base = self.out if self.out is not None else Path("OUT")
        return base.joinpath(*parts)

    def folder(self, name: str) -> Path:
        p = self.path(name)
        if self.out is not None:
            p.mkdir(exist_ok=True)
        return p

    def pick(self, gpu, smoke):
        return smoke if self.smoke else gpu

    @property
    def dry(self) -> bool:
        return self.out is None

    def note(self, text: str) -> None:
        """A line under the running part's steps in the summary."""
        assert self.run.part is not None
        self.run.part.notes.append(text)

    @property
    def fast_config(self) -> dict:
        """The one configuration parts 1 and 3 share: spec, batch, dtype."""
        if self.smoke:
            return {"spec": "specs/variant.yaml", "batch": 2, "dtype": "fp32"}
        return {"spec": "specs/googlenet-torchvision.yaml", "batch": 256, "dtype": "bf16"}


def part_time(c: Context) -> None:
    folder = c.folder("time")
    profile = folder / "profile.yaml"
    device = c.pick("cuda", "cpu")
    threads = c.pick([], ["--threads", "1"])
    cal = c.run.step(
        "calibrate",
        [c.py, "-m", "inceptcost", "calibrate", "--device", device, "--quick", *threads, "--out", str(profile)],
        budget_s=c.pick(90, 120),
        estimate_s=c.pick(30, 10),
    )
    if cal.status in ("ok", "dry"):
        predict_args = c.pick(
            ["--device", "cuda", "--quick", "--rounds", "3"],
            ["--device", "cpu", "--threads", "1", "--specs", "variant", "--generated", "0", "--rounds", "2"],
        )
        c.run.step(
            "bench_predict",
            [c.py, str(BENCH / "bench_predict.py"), *predict_args, "--profile", str(profile), "--out-dir", str(folder)],
            budget_s=c.pick(110, 120),
            estimate_s=c.pick(50, 8),
        )
    else:
        c.run.skip("bench_predict", "calibrate wrote no profile")
    cfg = c.fast_config
    profiles = [("datasheet", c.datasheet)] if c.datasheet else []
    if not c.datasheet:
        c.note(f"no datasheet profile for {c.env.get('device_name')}: its predictions are left out")
    profiles.append(("calibrated", str(profile)))
    for label, prof in profiles:
        for mode in ("train", "infer"):
            if label == "calibrated" and cal.status not in ("ok", "dry"):
                c.run.skip(f"predict {label} {mode}", "calibrate wrote no profile")
                continue
            c.run.step(
                f"predict {label} {mode}",
                [c.py, "-m", "inceptcost", "predict", str(ROOT / cfg["spec"]), "--profile", prof]
                + ["--batch", str(cfg["batch"]), "--dtype", cfg["dtype"], "--mode", mode, "--format", "json"]
                + ["--out", str(folder / f"predict-{label}-{mode}.json")],
                budget_s=30,
                estimate_s=2,
            )


def part_memory(c: Context) -> None:
    folder = c.folder("memory")
    args = c.pick(
        ["--cuda", "--cuda-batches", "32,128,256"], ["--specs", "variant", "--batch", "1", "--dtypes", "fp32"]
    )
    c.run.step(
        "bench_memory",
        [c.py, str(BENCH / "bench_memory.py"), *args, "--json", str(folder / "memory.json")],
        budget_s=c.pick(90, 120),
        estimate_s=c.pick(45, 12),
        ok_codes=(0, 1),  # 1: a figure outside its tolerance, which is a finding, not a failure
    )


def part_fast(c: Context) -> None:
    folder = c.folder("fast")
    cfg = c.fast_config
    base = {
        "FB_SPEC": cfg["spec"],
        "FB_BATCHES": str(cfg["batch"]),
        "FB_COMPILE_BATCHES": str(cfg["batch"]),
        "FB_ABLATION": "0",
        "FB_TORCHVISION": "1",
    }
    if c.smoke:
        base.update(FB_DEVICE="cpu", FB_STEPS="1", FB_WARMUP="1", FB_REPEATS="2")
    else:
        base.update(FB_DEVICE="cuda", FB_STEPS="20", FB_WARMUP="5", FB_REPEATS="5")
    groups = [
        ("eager", {"FB_COMPILE": "0", "FB_MODES": "train,infer"}, c.pick(75, 120), c.pick(35, 12)),
        ("compiled infer", {"FB_COMPILE": "1", "FB_MODES": "infer"}, c.pick(110, 0), c.pick(65, 0)),
        (
            "compiled train",
            {"FB_COMPILE": "1", "FB_MODES": "train", "FB_SUBJECTS": "torchvision,fast"},
            c.pick(250, 0),
            c.pick(225, 0),
        ),
    ]
    if not c.smoke:
        c.note(
            "compiled training times torchvision and the fast build only (compiling one training graph takes about"
            " two minutes); the plain build's compiled training is in the README's earlier H100 table"
        )
    for name, extra, budget, estimate in groups:
        if c.smoke and extra["FB_COMPILE"] == "1":
            c.run.skip(name, "not in a smoke run (compiling on a CPU takes minutes)")
            continue
        env = {**base, **extra, "FB_JSON": str(folder / f"{name.replace(' ', '-')}.json")}
        c.run.step(name, [c.py, str(BENCH / "bench_fast.py")], budget_s=budget, estimate_s=estimate, env=env)


def study_entries() -> tuple[dict, list[tuple[str, str]]]:
    """The GPU plan and its specs and widths in the order the reduced study takes them: ('spec', path) or
    ('width', value)."""
    plan_file = ROOT / "reports" / "study" / "plan-gpu.yaml"
    plan = yaml.safe_load(plan_file.read_text(encoding="utf-8"))
    entries = [("spec", str((plan_file.parent / s).resolve())) for s in plan.get("specs", [])]
    widths = plan.get("widths") or {}
    entries += [("width", f"{float(v):g}") for v in widths.get("values", [])]

    def rank(e: tuple[str, str]) -> int:
        key = f"spec:{Path(e[1]).stem}" if e[0] == "spec" else f"width:{float(e[1]):g}"
        return STUDY_PRIORITY.index(key) if key in STUDY_PRIORITY else len(STUDY_PRIORITY)

    return plan, sorted(entries, key=rank)


def study_plan(c: Context, seconds: float) -> tuple[dict | None, str]:
    """The plan that fits `seconds` of training and reporting (None and why, when not even one run fits)."""
    profile = c.path("time", "profile.yaml")
    prof = short(str(profile)) if (c.dry and "time" in c.parts) or profile.is_file() else c.datasheet
    if c.smoke:
        plan = {
            "name": "smoke: a tiny net on synthetic data",
            "data": "synthetic:64",
            "epochs": 1,
            "batch_size": 16,
            "seeds": [0],
            "device": "cpu",
            "threads": 1,
            "specs": ["tiny.yaml"],
            "widths": {"base": "tiny.yaml", "values": [0.5]},
        }
        if prof:
            plan["profile"] = prof
        return plan, "a tiny net and its half width, one seed, one epoch on 64 synthetic images"
    gpu, entries = study_entries()
    run_s = STUDY_RUN_S[0] + STUDY_RUN_S[1] * STUDY_EPOCHS
    n = int((seconds - STUDY_REPORT_S) // (run_s + STUDY_REPORT_PER_SPEC_S))
    if n < 1:
        return None, f"{seconds:.0f} s were left; one run and its report need about {run_s + STUDY_REPORT_S:.0f} s"
    chosen = entries[: min(n, len(entries))]
    seeds = max(1, min(STUDY_MAX_SEEDS, int((seconds - STUDY_REPORT_S) // (run_s * len(chosen)))))
    specs = [v for k, v in chosen if k == "spec"]
    widths = [float(v) for k, v in chosen if k == "width"]
    base = (ROOT / "reports" / "study" / gpu["widths"]["base"]).resolve()
    if widths and str(base) not in specs:  # the sweep's base is a point of its own
        specs.insert(0, str(base))
    here = c.path("study")  # the plan's folder: its spec paths are relative to it

    def rel(p: str) -> str:
        return os.path.relpath(p, here) if c.out is not None else short(p)

    plan = {
        "name": f"{gpu.get('name', 'GPU study')}, reduced to fit {seconds / 60:.1f} minutes",
        "data": gpu["data"],
        "epochs": STUDY_EPOCHS,
        "batch_size": gpu["batch_size"],
        "seeds": list(range(seeds)),
        "device": "cuda",
        "recipe": gpu.get("recipe", {}),
        "specs": [rel(p) for p in specs],
    }
    if widths:
        plan["widths"] = {"base": rel(str(base)), "values": widths}
    if prof:
        plan["profile"] = prof
    left_out = len(entries) - len(chosen)
    why = (
        f"{len(specs) + len(widths)} of plan-gpu.yaml's {len(entries)} specs and widths x {seeds} seed(s),"
        f" {STUDY_EPOCHS} epochs (the plan: all {len(entries)} x {len(gpu['seeds']) if isinstance(gpu['seeds'], list) else gpu['seeds']}"
        f" seeds, {gpu['epochs']} epochs); estimated {run_s:.0f} s a run"
        + (f"; {left_out} left out" if left_out else "")
    )
    return plan, why


def part_study(c: Context) -> None:
    folder = c.folder("study")
    reserve = TRADEOFF_S + STUDY_REPORT_S  # the tradeoff; and the report, if the study is cut short
    plan, why = study_plan(c, c.run.left() - reserve)
    if plan is None:
        c.run.skip("study", why)
        c.run.skip("tradeoff", "no study")
        return
    c.note(f"plan: {why}")
    plan_file = folder / "plan.yaml"
    if not c.dry:
        if c.smoke:
            (folder / "tiny.yaml").write_text(SMOKE_SPEC, encoding="utf-8")
        write_atomic(plan_file, yaml.safe_dump(plan, sort_keys=False))
    cmd = [c.py, "-m", "inceptcost", "study", str(plan_file), "--out", str(folder)]
    estimate = c.pick(max(0.0, c.run.left() - reserve - 5), 12)
    st = c.run.step("study", cmd, budget_s=min(c.run.left() - reserve, c.pick(1e9, 120)), estimate_s=estimate)
    finished = [] if c.dry else finished_runs(folder)
    if st.status in ("failed", "cut short") and finished:
        c.run.step("study report", [*cmd, "--report-only"], budget_s=60, estimate_s=STUDY_REPORT_S)
    if c.dry:
        finished = [folder / "runs" / "*"]
    if not finished:
        c.run.skip("tradeoff", "no run of the study finished")
        return
    c.run.step(
        "tradeoff",
        [c.py, "-m", "inceptcost", "tradeoff", *map(str, finished), "--out-dir", str(folder), "--stem", "tradeoff"],
        budget_s=max(TRADEOFF_S, 30),
        estimate_s=c.pick(8, 3),
    )


def finished_runs(folder: Path) -> list[Path]:
    found = []
    for s in sorted((folder / "runs").glob("*/summary.json")):
        try:
            if read_json(s).get("status") == "completed":
                found.append(s.parent)
        except (OSError, ValueError, AttributeError):
            continue
    return found


PARTS: list[tuple[str, str, Callable[[Context], None]]] = [
    ("time", "Step time: predicted against measured", part_time),
    ("memory", "Memory peak: predicted against measured", part_memory),
    ("fast", "The fast build against torchvision", part_fast),
    ("study", "Cost against accuracy: a reduced digits-clutter study", part_study),
]


# --- the summary ----------------------------------------------------------------------------------------------


def pairs(d) -> str:
    return (
        ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in d.items())
        if isinstance(d, dict)
        else str(d)
    )


def fmt_ms(v) -> str:
    return f"{v:,.2f}" if isinstance(v, (int, float)) else "-"


def fmt_err(pred, meas) -> str:
    if not isinstance(pred, (int, float)) or not isinstance(meas, (int, float)) or not meas:
        return "-"
    return f"{pred / meas - 1:+.0%}"


def load(path: Path):
    """JSON at `path`, or None when the file is missing; a broken file raises ValueError with its name."""
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def steps_block(rec: PartRecord) -> list[str]:
    lines = []
    for o in rec.outcomes:
        head = f"- {o.name}: {o.status}"
        if o.reason:
            head += f": {o.reason}" if o.status == "skipped" else f" ({o.reason})"
        if o.status != "skipped":
            head += f", {o.seconds:.0f} s of {o.budget_s:.0f} s"
        if o.command:
            head += f": `{o.command}`"
        lines.append(head)
        if o.status in ("failed", "cut short"):
            text = o.stderr_tail or o.stdout_tail or "(no output)"
            lines += ["", "  stderr (last lines):", "", "  ```", *[f"  {x}" for x in text.splitlines()], "  ```", ""]
    lines += [f"- {n}" for n in rec.notes]
    return lines


def section_time(out: Path, c: Context, records: dict) -> list[str]:
    lines = []
    prof_file = out / "time" / "profile.yaml"
    if prof_file.is_file():
        p = yaml.safe_load(prof_file.read_text(encoding="utf-8")) or {}
        overhead = p.get("overhead_us") or {}
        lines += [
            f"Calibrated profile (`time/profile.yaml`, microbenchmarks only): {p.get('device_name')}; peak TFLOP/s"
            f" {pairs(p.get('peak_tflops'))}; bandwidth {p.get('bandwidth_gbs')} GB/s; fixed cost of a kernel"
            f" {overhead.get('forward')} us forward, {overhead.get('backward')} us backward.",
            "",
        ]
    found = sorted((out / "time").glob("predict-cpu*.json")) + sorted((out / "time").glob("predict-cuda*.json"))
    bp = load(found[0]) if found else None
    if bp:
        s, b, m = bp["predictor"], bp["baseline"], bp["self"]
        lines += [
            f"`{bp['command']}`: {len(bp['cases'])} cases ({bp['nets']} nets, {bp['mode']}, fp32), {bp['rounds']}"
            f" interleaved rounds, median spread {bp['median_spread']:.0%}; profile {bp['profile']['name']}.",
            "",
            "| | MAPE | within 10% | Spearman |",
            "|:---|---:|---:|---:|",
            f"| predictor | {s['mape']:.1%} | {s['within_10']:.0%} | {s['spearman']:.3f} |",
            f"| MACs only | {b['mape']:.1%} | {b['within_10']:.0%} | {b['spearman']:.3f} |",
            f"| the measurement against itself | {m['mape']:.1%} | {m['within_10']:.0%} | {m['spearman']:.3f} |",
            "",
            "| net | batch | measured ms | predicted ms | error |",
            "|:---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {x['net']} | {x['batch']} | {fmt_ms(x['measured_ms'])} | {fmt_ms(x['predicted_ms'])} |"
            f" {fmt_err(x['predicted_ms'], x['measured_ms'])} |"
            for x in bp["cases"]
        ]
        lines.append("")
    cfg = c.fast_config
    eager = load(out / "fast" / "eager.json")
    measured = {}
    for r in (eager or {}).get("rows", []):
        if r.get("model") == "plain" and not r.get("compile") and r.get("ms_per_step") is not None:
            measured[r["mode"]] = r["ms_per_step"]
    labels = [("datasheet", c.datasheet), ("calibrated", "time/profile.yaml")]
    lines += [
        f"{Path(cfg['spec']).name}, batch {cfg['batch']}, {cfg['dtype']}"
        + ("" if c.smoke else " autocast + channels_last")
        + ", eager: `inceptcost predict` against the plain build timed in part 3 (ms per step):",
        "",
        "| mode | measured | " + " | ".join(f"predicted ({lab}: {p}) | error" for lab, p in labels if p) + " |",
        "|:---|---:|" + "---:|---:|" * sum(1 for _, p in labels if p),
    ]
    fast = records.get("fast")
    missing = "not measured" if fast is not None and fast.started else "waits for part 3"
    for mode in ("train", "infer"):
        cells = [mode, fmt_ms(measured.get(mode)) if mode in measured else missing]
        for lab, p in labels:
            if not p:
                continue
            pr = load(out / "time" / f"predict-{lab}-{mode}.json")
            ms = pr.get("step_ms") if pr else None
            cells += [fmt_ms(ms), fmt_err(ms, measured.get(mode))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def section_memory(out: Path, c: Context, records: dict) -> list[str]:
    data = load(out / "memory" / "memory.json")
    if not data or not data.get("rows"):
        return ["No memory figure was measured."]
    rows = data["rows"]
    ok = sum(1 for r in rows if r.get("ok"))
    how = (
        "`torch.cuda.max_memory_allocated` over one steady-state training step (SGD momentum)"
        if data.get("device") == "cuda"
        else "saved: saved-tensor hooks; peak: the CPU allocator's high-water mark from the profiler"
    )
    lines = [
        f"Measured by {how}; predicted by `inceptcost memory`. {ok} of {len(rows)} within tolerance.",
        "",
        "| spec | what | dtype | batch | predicted bytes | measured bytes | diff | tolerance |",
        "|:---|:---|:---|---:|---:|---:|---:|:---|",
    ]
    for r in rows:
        diff = f"{r['diff']:+.2%}" if isinstance(r.get("diff"), (int, float)) else "-"
        tol = "exact" if r.get("tolerance") == 0 else f"{r.get('tolerance', 0):.0%}"
        lines.append(
            f"| {r['spec']} | {r['what']} | {r['dtype']} | {r['batch']} | {r['predicted_bytes']:,} |"
            f" {r['measured_bytes']:,} | {diff} | {tol}{'' if r.get('ok') else ' (off)'} |"
        )
    return lines


def section_fast(out: Path, c: Context, records: dict) -> list[str]:
    rows, notes = [], []
    for name in ("eager", "compiled-infer", "compiled-train"):
        data = load(out / "fast" / f"{name}.json")
        if data:
            rows += data.get("rows", [])
            notes += [n for n in data.get("notes", []) if n not in notes]
    lines = []
    tv_ok = c.env.get("torchvision") is not None
    if not tv_ok:
        why = c.env.get("torchvision_error")
        lines += [
            "torchvision comparison: skipped: torchvision not installed"
            if not why
            else f"torchvision comparison: skipped: torchvision not importable ({why})",
            "",
        ]
    if not rows:
        return [*lines, "No row was measured."]

    def ms(model: str, mode: str, compiled: bool):
        for r in rows:
            if (r.get("model"), r.get("mode"), bool(r.get("compile"))) == (model, mode, compiled):
                return r.get("ms_per_step")
        return None

    lines += [
        "| model | mode | compiled | batch | ms/step (fastest-slowest round) | images/s | vs plain | vs torchvision |",
        "|:---|:---|:-:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.get("ms_per_step") is None:
            lines.append(
                f"| {r['model']} | {r['mode']} | {'yes' if r.get('compile') else 'no'} | {r.get('batch')} |"
                f" error: {str(r.get('error', ''))[:120]} | | | |"
            )
            continue
        here = r["ms_per_step"]
        vs = [ms(ref, r["mode"], bool(r["compile"])) for ref in ("plain", "torchvision")]
        lines.append(
            f"| {r['model']} | {r['mode']} | {'yes' if r['compile'] else 'no'} | {r['batch']} |"
            f" {here:.2f} ({r['ms_min']:.2f}-{r['ms_max']:.2f}) | {r['images_per_s']:,.0f} | "
            + " | ".join(f"{v / here:.2f}x" if v else "-" for v in vs)
            + " |"
        )
    lines.append("")
    if tv_ok:
        for mode, compiled, goal in (("train", True, 1.2), ("infer", True, 1.15), ("infer", False, 1.15)):
            fast, tv = ms("fast", mode, compiled), ms("torchvision", mode, compiled)
            what = (
                f"the fast build's images/s over torchvision's, {'compiled' if compiled else 'eager'}"
                f" {'training' if mode == 'train' else 'inference'}"
            )
            if fast and tv:
                ratio = tv / fast
                lines.append(f"- {what}: {ratio:.3f}x (goal >= {goal}x): {'met' if ratio >= goal else 'not met'}")
            else:
                lines.append(f"- {what}: not measured")
    lines += [f"- bench_fast: {n}" for n in notes]
    return lines


def section_study(out: Path, c: Context, records: dict) -> list[str]:
    lines = []
    study = out / "study" / "study.md"
    if study.is_file():
        text = study.read_text(encoding="utf-8")
        lines += ["`study/study.md`:", "", *[("##" + x if x.startswith("#") else x) for x in text.splitlines()], ""]
    else:
        lines += ["No study table was written.", ""]
    trade = out / "study" / "tradeoff.md"
    if trade.is_file():
        lines += ["`inceptcost tradeoff` on the finished runs (`study/tradeoff.md`):", ""]
        lines += trade.read_text(encoding="utf-8").splitlines()
    return lines


SECTIONS = {"time": section_time, "memory": section_memory, "fast": section_fast, "study": section_study}


def summary(c: Context, records: list[PartRecord], argv: list[str], started: str, load_before, load_after) -> str:
    out = c.out
    assert out is not None
    e = c.env
    device = e.get("device_name") or f"CPU ({cpu_name()})"
    lines = [f"# GPU evidence: {device}", ""]
    if c.smoke:
        lines += [
            "**Smoke run**: every part tiny, on the CPU. Its figures show that the script works, not what a GPU does.",
            "",
        ]
    lines += [
        f"Made by `{shlex.join(['python', 'benchmarks/gpu_evidence.py', *argv])}` on {started}"
        f" (commit {git_commit()}); every step's exact command is in its part below, its output in `logs/`.",
        "",
        "## Setup",
        "",
        f"- device: {device}"
        + (
            f", compute capability {e.get('capability')}, {e.get('memory_bytes', 0) / 2**30:.1f} GiB,"
            f" {e.get('multiprocessors')} multiprocessors, {e.get('device_count')} visible"
            if e.get("cuda_available")
            else ""
        ),
        f"- torch {e.get('torch')}, CUDA {e.get('cuda_build') or '-'} (torch's build), cuDNN {e.get('cudnn') or '-'},"
        f" driver {e.get('driver') or '-'}, Python {e.get('python')},"
        f" torchvision {e.get('torchvision') or 'not installed'}",
        f"- {e.get('cpus')} CPU cores; load average {fmt_load(load_before)} before,"
        + (f" {fmt_load(load_after)} after" if load_after else " (the run is not finished)"),
        f"- date: {started}; time limit {(c.run.deadline - c.run.start) / 60:g} minutes",
        "",
        "## Parts",
        "",
        "| part | status | seconds |",
        "|:---|:---|---:|",
    ]
    lines += [f"| {r.number}. {r.title} | {r.status} | {r.seconds:.0f} |" for r in records]
    lines.append("")
    for r in records:
        lines += [f"## {r.number}. {r.title}", ""]
        if not r.started or r.status == f"skipped: {NOT_ASKED}":
            lines += ["Not run yet." if not r.started else f"Not run: {NOT_ASKED}.", ""]
            continue
        try:
            lines += SECTIONS[r.key](out, c, {x.key: x for x in records})
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
        ) as exc:  # a raw file the step left broken: said, not fatal
            lines.append(f"Its raw files could not be read: {type(exc).__name__}: {exc}")
        lines += ["", "Steps:", "", *steps_block(r), ""]
    lines += ["## Raw files", ""]
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if p.is_file() and rel.parts[0] != "logs" and "runs" not in rel.parts and "bench" not in rel.parts[1:2]:
            lines.append(f"- `{rel}`")
    runs = sorted((out / "study" / "runs").glob("*")) if (out / "study" / "runs").is_dir() else []
    if runs:
        lines.append(f"- `study/runs/`: {len(runs)} run folders (config.yaml, metrics.csv, summary.json)")
    lines.append("- `logs/`: each step's stdout and stderr")
    return "\n".join(lines) + "\n"


def fmt_load(v) -> str:
    return "/".join(f"{x:.2f}" for x in v) if v else "-"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str:
    try:
        p = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    dirty = ""
    if p.returncode == 0:
        s = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = " with local changes" if s.stdout.strip() else ""
    return p.stdout.strip() + dirty if p.returncode == 0 else "unknown"


def driver_version() -> str | None:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        p = subprocess.run(
            [exe, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.strip().splitlines()[0] if p.returncode == 0 and p.stdout.strip() else None


def datasheet_for(name: str | None) -> str | None:
    for key, profile in (("H200", "h200"), ("H100", "h100"), ("A100", "a100")):
        if name and key in name.upper():
            return profile
    return None


def probe(smoke: bool) -> dict:
    """torch, CUDA, the device and torchvision, as the child processes will see them."""
    try:
        p = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise UsageError("importing torch took over 120 s; is this machine overloaded?") from None
    if p.returncode != 0:
        raise UsageError(f"could not probe torch: {(p.stderr.strip().splitlines() or ['no output'])[-1]}")
    env = json.loads(p.stdout.strip().splitlines()[-1])
    if env.get("torch") is None:
        raise UsageError(f"torch is not importable ({env.get('torch_error')}); install torch first")
    if not smoke and not env.get("cuda_available"):
        raise UsageError(f"no CUDA device is visible to torch {env['torch']}; use --smoke to try every part on the CPU")
    env["driver"] = driver_version() if env.get("cuda_available") else None
    return env


# --- main -----------------------------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="a new (or empty) folder for summary.md and the raw files")
    ap.add_argument("--dry-run", action="store_true", help="list the parts, their commands and minutes; write nothing")
    ap.add_argument("--smoke", action="store_true", help="every part tiny on the CPU (seconds each)")
    ap.add_argument(
        "--parts",
        default=",".join(k for k, _, _ in PARTS),
        help="the parts to run, comma-separated (default: all): " + ", ".join(k for k, _, _ in PARTS),
    )
    ap.add_argument(
        "--minutes", type=float, default=MINUTES, help=f"wall-time limit of the whole run (default {MINUTES:g})"
    )
    args = ap.parse_args(argv)
    if not 0 < args.minutes <= 600:
        raise UsageError(f"--minutes must be in (0, 600], got {args.minutes:g}")
    keys = [k for k, _, _ in PARTS]
    args.parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    if not args.parts or set(args.parts) - set(keys):
        raise UsageError(f"--parts: comma-separated, of {', '.join(keys)}; got {','.join(args.parts) or 'none'}")
    if not args.dry_run and args.out is None:
        raise UsageError("--out is required (a new folder), unless --dry-run")
    if not args.dry_run:
        out = args.out
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: not a folder; give a new folder")
        if out.is_dir() and any(out.iterdir()):
            raise UsageError(f"--out {out}: not empty; give a new folder (a run never writes over an earlier one)")
    return args


def dry_run(args: argparse.Namespace) -> int:
    start = 0.0
    run = Runner(None, args.smoke, True, start + args.minutes * 60, start)
    where = "the CPU (smoke)" if args.smoke else "one H100 or H200"
    print(f"gpu_evidence: {len(PARTS)} parts on {where}, at most {args.minutes:g} minutes; estimates, not timings")
    env = {"device_name": None if args.smoke else "H100 (assumed)", "torchvision": "?"}
    c = Context(run, None, args.smoke, env, "cpu" if args.smoke else "h100", args.parts)
    totals = []
    for number, (key, title, fn) in enumerate(PARTS, 1):
        run.part = PartRecord(key, number, title, started=True)
        before = run.clock
        print(f"part {number}: {title}")
        if key in args.parts:
            fn(c)
        else:
            run.skip("all", NOT_ASKED)
        totals.append(run.clock - before)
        for n in run.part.notes:
            print(f"  ({n})")
        print(f"part {number}: about {(run.clock - before) / 60:.1f} min")
    print(
        "total: about "
        + f"{sum(totals) / 60:.1f} min ("
        + ", ".join(f"{n}: {t / 60:.1f}" for n, t in zip((k for k, _, _ in PARTS), totals, strict=True))
        + f"); the study takes what the other parts leave of the {args.minutes:g} minutes"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse(argv)
        if args.dry_run:
            return dry_run(args)
        start = time.monotonic()
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
        print(f"probing torch and the device ({'smoke run, CPU' if args.smoke else 'GPU run'})", flush=True)
        env = probe(args.smoke)
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: {exc.strerror}; give a folder you can write") from None
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    run = Runner(out, args.smoke, False, start + args.minutes * 60, start)
    datasheet = "cpu" if args.smoke else datasheet_for(env.get("device_name"))
    c = Context(run, out, args.smoke, env, datasheet, args.parts)
    records = [PartRecord(key, n, title) for n, (key, title, _) in enumerate(PARTS, 1)]
    write_atomic(out / "env.json", json.dumps(env, indent=2) + "\n")

    def save(load_after=None) -> None:
        write_atomic(out / "summary.md", summary(c, records, argv, started, load_before, load_after))
        parts = [{**{k: getattr(r, k) for k in ("key", "title", "status", "seconds", "notes")}} for r in records]
        for p, r in zip(parts, records, strict=True):
            p["steps"] = [asdict(o) for o in r.outcomes]
        write_atomic(out / "parts.json", json.dumps({"env": env, "parts": parts}, indent=2) + "\n")

    def on_signal(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    code = 0
    try:
        save()
        run.say(f"device: {env.get('device_name') or cpu_name()}; torch {env['torch']}; writing {out}")
        for (_, title, fn), rec in zip(PARTS, records, strict=True):
            run.part, rec.started = rec, True
            run.say(f"part {rec.number}/{len(PARTS)}: {title}")
            t0 = time.monotonic()
            try:
                if rec.key in args.parts:
                    fn(c)
                else:
                    run.skip("all", NOT_ASKED)
            except Exception as exc:  # noqa: BLE001 - a part that breaks is recorded; the next parts still run
                trace = traceback.format_exc().splitlines()
                rec.outcomes.append(
                    Outcome(rec.key, "the part itself", "", "failed", 0.0, 0.0, reason=f"{type(exc).__name__}: {exc}")
                )
                rec.outcomes[-1].stderr_tail = "\n".join(trace[-TAIL_LINES:])
            finally:
                rec.seconds = time.monotonic() - t0
                save()
            run.say(f"part {rec.number}/{len(PARTS)}: {rec.status}")
    except Interrupted as exc:
        run.say(f"interrupted ({exc}); the summary keeps what was measured")
        code = 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    save(load_after)
    print(f"\nwrote {out / 'summary.md'} in {time.monotonic() - start:.0f} s")
    for r in records:
        print(f"  {r.number}. {r.title}: {r.status}")
    if code:
        return code
    return 0 if all(r.status in ("measured", f"skipped: {NOT_ASKED}") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
