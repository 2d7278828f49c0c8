"""Every `inceptcost ...` command of the README and of the manual (docs/*.md), run as written in a copy of the
repository.

CASES holds one entry per command they show (in their code blocks, or inline with arguments), keyed by the
command's text; a test fails when a page gains a command without an entry or an entry's command leaves them all. An entry runs the
command as written, or says why it is changed (shortened training, optional [groups] left out) or skipped (a
GPU, network or torchvision). After the commands, the copy's own tests of the checkout (the README, its specs
index, the committed reports and drawings) must still pass: the commands leave the repository as they expect.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```(\w*)\n(.*?)\n```", re.DOTALL)
COMMAND = re.compile(r"(?:^|\s|/)inceptcost\s")


def readme_commands(text: str) -> list[str]:
    """Code-block lines that run inceptcost (a `$ ` prompt, continuation lines and `# comments` removed), then the
    inline `inceptcost ...` spans of the prose that carry arguments; in the README's order, each once."""
    found = []
    for lang, body in FENCE.findall(text):
        if lang in ("yaml", "python"):
            continue
        lines = iter(body.splitlines())
        for line in lines:
            line = line.strip().removeprefix("$ ")
            while line.endswith("\\"):
                line = line[:-1].rstrip() + " " + next(lines).strip()
            line = re.sub(r"\s+#\s.*$", "", line)
            if COMMAND.search(line):
                found.append(line)
    prose = FENCE.sub("", text)
    found += [s for s in re.findall(r"`(inceptcost [^`\n]+)`", prose) if len(s.split()) > 2]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Case:
    run: str | None = None  # None: skipped; "": as written; else the command run instead
    why: str = ""  # why it is skipped or changed
    exit: int = 0
    stderr: str | None = None  # a regular expression the whole of stderr matches (the README's error examples)
    needs_dot: bool = False


AS_WRITTEN = Case("")
DOT = Case("", needs_dot=True)
SHORT = "--epochs 1 --steps-per-epoch 2"
GPU = "needs a CUDA device"
OPTIONAL = "the optional [flags] left out"
TORCHVISION = "needs torchvision (the interop extra's environment runs it: tests/interop/test_import_reference.py)"
RESNET18 = "resnet18.yaml and resnet18.pth come from torchvision (its import above and its state dict)"

CASES: dict[str, Case] = {
    "python3 -m venv .venv && . .venv/bin/activate && pip install -q -e . && inceptcost analyze specs/googlenet.yaml": Case(
        why="sets up a virtual environment (network); its analyze runs below, and tests/test_install.py installs"
        " the package into a fresh folder"
    ),
    "inceptcost analyze bad.yaml": Case(
        "sed '/inception_4c/,+1 s/pool proj:/poolprj:/' specs/googlenet.yaml > bad.yaml && inceptcost analyze bad.yaml",
        why="bad.yaml is the README's example of a typo: specs/googlenet.yaml with inception_4c's key misspelled",
        exit=2,
        stderr=r"error: bad\.yaml:\d+: inception_4c: unknown key 'poolprj'; did you mean 'poolproj'\?\n",
    ),
    "inceptcost analyze specs/googlenet.yaml": AS_WRITTEN,
    "inceptcost analyze specs/googlenet.yaml --budget 1.2G --strict": Case("", exit=1),  # "exit 1: over budget"
    "inceptcost verify [SPEC] [--format table|json|csv|md]": Case("inceptcost verify", why=OPTIONAL),
    "inceptcost compare specs/googlenet.yaml specs/googlenet-torchvision.yaml": AS_WRITTEN,
    "inceptcost analyze specs/googlenet.yaml --format md --batch 256 --dtype bf16 --out reports/googlenet.md": AS_WRITTEN,
    "inceptcost memory specs/googlenet.yaml --batch 8 [--dtype fp32|bf16|fp16] [--mode train|infer]"
    " [--optimizer sgd|adamw] [--device cuda|cpu] [--channels-last] [--fits 80GiB|H100|H200|A100-80GB]"
    " [--format table|json|csv|md]": Case("inceptcost memory specs/googlenet.yaml --batch 8", why=OPTIONAL),
    "inceptcost diagram --out reports/googlenet.svg": DOT,
    "inceptcost diagram --collapse --out net.pdf": DOT,
    "inceptcost diagram --module 4e --out reports/inception-4e.svg": DOT,
    "inceptcost diagram --module 4e --naive --out 4e-naive.png": DOT,
    "inceptcost diagram specs/variant.yaml > variant.dot": AS_WRITTEN,
    "inceptcost sweep specs/googlenet.yaml --width 0.25:2.0:0.25": AS_WRITTEN,
    "inceptcost fit specs/googlenet.yaml --budget 0.5G --out googlenet-0.5G.yaml": AS_WRITTEN,
    "inceptcost train specs/variant.yaml --data digits": Case(
        f"inceptcost train specs/variant.yaml --data digits {SHORT}", why="shortened: 10 epochs take minutes on a CPU"
    ),
    "inceptcost train specs/variant.yaml --data digits-clutter --gpus 2": Case(why=GPU + " (two)"),
    "inceptcost train specs/variant.yaml --device cpu --nproc 2": Case(
        f"inceptcost train specs/variant.yaml --device cpu --nproc 2 {SHORT} --out reports/runs/variant-nproc2",
        why="shortened, and in a run folder of its own (the run above holds its default one)",
    ),
    "torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 -m inceptcost train"
    " specs/googlenet.yaml --data imagefolder:/data/imagenet": Case(why="needs two machines with 8 GPUs and ImageNet"),
    "inceptcost train specs/variant.yaml --data digits --resume": Case(
        "inceptcost train specs/variant.yaml --data digits --resume --epochs 2 --steps-per-epoch 2",
        why="continues the shortened run above for one more epoch",
    ),
    "inceptcost bench specs/googlenet-torchvision.yaml --batch 256 --amp --channels-last [--compile] --mode train|infer"
    " --compare torchvision --out bench.json [--per-layer]": Case(why=GPU + " and torchvision"),
    "inceptcost import torchvision.models.inception_v3 --out inception_v3.yaml": Case(why=TORCHVISION),
    "inceptcost import torchvision.models.resnet18 --out resnet18.yaml": Case(why=TORCHVISION),
    "inceptcost import timm:inception_resnet_v2 --out inception_resnet_v2.yaml": Case(
        why="needs timm (the interop extra)"
    ),
    "inceptcost import tests/interop/nets.py:make_attention --out att.yaml": Case(
        "",
        exit=2,
        stderr=r"error: make_attention: block: unsupported op 'reshape'; the spec language has conv .*\n",
    ),
    "inceptcost import tests/interop/nets.py:make_offset --out offset.yaml": Case(
        "",
        exit=2,
        stderr=r"error: make_offset: block: unsupported op 'add' of the tensor 'block\.offset' .*\n",
    ),
    "inceptcost export resnet18.yaml --format onnx --out resnet18.onnx --weights resnet18.pth": Case(why=RESNET18),
    "inceptcost train resnet18-10.yaml --data synthetic:64 --init resnet18.pth": Case(why=RESNET18),
    "inceptcost train resnet18-10.yaml --data synthetic:64 --init resnet18.pth --reset-head --epochs 1"
    " --steps-per-epoch 2 --batch-size 8": Case(why=RESNET18),
    "inceptcost export specs/googlenet-torchvision.yaml --format onnx --out googlenet.onnx --weights googlenet.pth": Case(
        why="googlenet.pth is torchvision's downloaded GoogLeNet weights (network)"
    ),
    "inceptcost export inception_v3.yaml --format torchscript --out inception_v3.pt": Case(
        why="inception_v3.yaml is written by the torchvision import above"
    ),
    "inceptcost export specs/googlenet.yaml --format onnx --out x.onnx --weights googlenet.pth": Case(
        why="googlenet.pth is torchvision's downloaded GoogLeNet weights (network)"
    ),
    "inceptcost analyze specs/googlenet.yaml --format json --batch 32": AS_WRITTEN,
    "inceptcost predict specs/googlenet.yaml --profile h100 --batch 256 --dtype bf16 [--mode train|infer]"
    " [-f json|csv|md]": Case(
        "inceptcost predict specs/googlenet.yaml --profile h100 --batch 256 --dtype bf16", why=OPTIONAL
    ),
    "inceptcost calibrate [--device cpu|cuda] [--quick] [--threads N] --out profiles/mybox.yaml": Case(
        "inceptcost calibrate --device cpu --quick --out profiles/mybox.yaml", why="the options for a CPU in seconds"
    ),
    "inceptcost bench specs/googlenet.yaml --device cpu --batch 4 --per-layer --profile profiles/mybox.yaml": Case(
        "inceptcost bench specs/googlenet.yaml --device cpu --batch 4 --per-layer --profile profiles/mybox.yaml"
        " --steps 1 --warmup 1 --repeats 1",
        why="shortened: the default 20 steps x 5 repeats of GoogLeNet take minutes on a CPU",
    ),
    "inceptcost fit specs/googlenet.yaml --time 40ms --profile h100 --batch 256": AS_WRITTEN,
    "inceptcost specs --format md": AS_WRITTEN,
    "inceptcost analyze googlenet": AS_WRITTEN,
    "inceptcost diagram variant --out net.svg": DOT,
    "inceptcost memory specs/googlenet.yaml --batch 8 --device cpu": AS_WRITTEN,
    "inceptcost diagram specs/inception-resnet-v2.yaml --module block35_1 --out reports/inception-resnet-v2-block35.svg": DOT,
    "inceptcost tradeoff reports/training/gpu/clutter-* --out-dir reports": AS_WRITTEN,
    # every committed run is finished and each step's timing is kept: the study trains nothing and remakes its report
    "inceptcost study reports/study/plan.yaml --parallel 2": AS_WRITTEN,
    "inceptcost train --fast": Case(
        f"inceptcost train --fast {SHORT} --out reports/runs/variant-fast", why="shortened, in a run folder of its own"
    ),
    "inceptcost bench --fast": Case(why=GPU + " (bench's default device)"),
    "inceptcost calibrate --device cuda": Case(why=GPU),
    "inceptcost verify googlenet": AS_WRITTEN,
    "inceptcost predict specs/googlenet.yaml --profile h100 --batch 256 --dtype bf16": AS_WRITTEN,
}

# The tests of the checkout that commands writing into it could break.
CHECKOUT_TESTS = [
    "tests/test_readme.py",
    "tests/analyze/test_specs_index.py",
    "tests/analyze/test_cli.py::test_reports_googlenet_md_is_not_stale",
    "tests/graph/test_diagram.py::test_committed_svgs_are_not_stale",
]


def shown_commands() -> list[str]:
    """The commands of the README and of every page of the manual, each once, in that order."""
    return list(dict.fromkeys(c for page in PAGES for c in readme_commands(page.read_text())))


def test_the_manual_is_scanned():
    assert len(PAGES) > 10 and any("inceptcost import" in c for c in shown_commands())


def test_every_shown_command_has_a_case():
    commands = shown_commands()
    assert [c for c in commands if c not in CASES] == [], "a command of the README or the manual without a case"
    assert [c for c in CASES if c not in commands] == [], "a case whose command left the README and the manual"
    assert all(case.run is not None or case.why for case in CASES.values()), "a skip must say why"


def test_readme_commands_are_parsed_whole():
    text = "```bash\n$ inceptcost a \\\n    --b 1   # note\n```\nand `inceptcost c d` but `inceptcost e`.\n"
    assert readme_commands(text) == ["inceptcost a --b 1", "inceptcost c d"]


def _copy_repo(dest: Path) -> Path:
    """The checkout without what a build or an earlier run left (reports/runs/); the study's committed runs stay."""
    junk = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis")

    def ignore(folder: str, names: list[str]) -> set[str]:
        return set(junk(folder, names)) | ({"runs"} if Path(folder) == ROOT / "reports" else set())

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


@pytest.mark.slow
def test_readme_commands_run_in_a_copy_of_the_repo(tmp_path):
    pytest.importorskip("torch")
    repo = _copy_repo(tmp_path / "repo")
    bin_dir = tmp_path / "bin"  # `inceptcost` on PATH: this Python with the copy's package
    bin_dir.mkdir()
    (bin_dir / "inceptcost").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m inceptcost "$@"\n')
    (bin_dir / "inceptcost").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(repo)}
    has_dot = shutil.which("dot") is not None
    failed, ran, skipped = [], [], []
    for command, case in CASES.items():
        if case.run is None or (case.needs_dot and not has_dot):
            skipped.append(f"{command}: {case.why or 'needs graphviz dot'}")
            continue
        line = case.run or command
        done = subprocess.run(["bash", "-c", line], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        ran.append(line)
        if done.returncode != case.exit:
            failed.append(f"{line}: exit {done.returncode} (expected {case.exit}): {done.stderr[-800:]}")
        elif case.stderr is not None and not re.fullmatch(case.stderr, done.stderr):
            failed.append(f"{line}: stderr {done.stderr!r} does not match {case.stderr!r}")
    assert not failed, "\n".join(failed)
    assert len(ran) >= 25, ran
    checkout = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKOUT_TESTS],
        cwd=repo,
        env={**env, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checkout.returncode == 0, (
        "the README's commands left the repository as its tests do not expect:\n" + (checkout.stdout[-3000:])
    )
