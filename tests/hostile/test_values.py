"""Hostile values on the command line and in a spec: non-finite numbers, numbers out of range, control
characters in names. One line each, exit 2, before anything runs or is written."""

from __future__ import annotations

import pytest

TRAIN_FLAGS: dict[str, tuple[list[str], str]] = {
    "seed beyond 64 bits": (["--seed", str(1 << 70)], "--seed must be in 0.."),
    "seed 2^64": (["--seed", str(1 << 64)], "--seed must be in 0.."),
    "negative seed": (["--seed", "-1"], "--seed must be in 0.."),
    "lr nan": (["--lr", "nan"], "lr must be a finite number"),
    "lr inf": (["--lr", "inf"], "lr must be a finite number"),
    "lr negative": (["--lr", "-1"], "lr must be a positive number"),
    "lr zero": (["--lr", "0"], "lr must be a positive number"),
    "weight decay nan": (["--weight-decay", "nan"], "weight_decay must be a finite number"),
    "weight decay inf": (["--weight-decay", "inf"], "weight_decay must be a finite number"),
    "weight decay negative": (["--weight-decay", "-0.1"], "weight_decay and warmup_epochs must be >= 0"),
    "grad clip nan": (["--grad-clip", "nan"], "grad_clip must be a finite number"),
    "grad clip inf": (["--grad-clip", "inf"], "grad_clip must be a finite number"),
    "grad clip zero": (["--grad-clip", "0"], "grad_clip must be > 0"),
    "warm-up nan": (["--warmup-epochs", "nan"], "warmup_epochs must be a finite number"),
    "warm-up inf": (["--warmup-epochs", "inf"], "warmup_epochs must be a finite number"),
    "warm-up negative": (["--warmup-epochs", "-1"], "must be >= 0"),
    "label smoothing nan": (["--label-smoothing", "nan"], "label_smoothing must be a finite number"),
    "label smoothing 1": (["--label-smoothing", "1"], "label_smoothing must be in [0, 1)"),
    "epochs zero": (["--epochs", "0"], "--epochs must be >= 1"),
    "batch zero": (["--batch-size", "0"], "--batch-size must be >= 1"),
    "negative save-every": (["--save-every", "-1"], "--save-every must be >= 0"),
    "steps per epoch zero": (["--steps-per-epoch", "0"], "--steps-per-epoch must be >= 1"),
    "nproc zero": (["--nproc", "0"], "--nproc must be >= 1"),
    "unknown data": (["--data", "digitz"], "did you mean 'digits'"),
    "synthetic count text": (["--data", "synthetic:lots"], "expected a sample count"),
    "imagefolder missing": (["--data", "imagefolder:nowhere"], "missing train/ folder"),
    "cifar missing": (["--data", "cifar10:nowhere"], "no CIFAR-10 batches"),
}


@pytest.mark.parametrize("case", list(TRAIN_FLAGS), ids=list(TRAIN_FLAGS))
def test_train_flags(sandbox, case):
    flags, words = TRAIN_FLAGS[case]
    sandbox.run("train", sandbox.spec, "--device", "cpu", *flags, match=words)


BENCH_FLAGS: dict[str, tuple[list[str], str]] = {
    "peak nan": (["--peak", "nan"], "--peak must be a positive finite number"),
    "peak inf": (["--peak", "inf"], "--peak must be a positive finite number"),
    "peak negative": (["--peak", "-5"], "--peak must be a positive finite number"),
    "peak zero": (["--peak", "0"], "--peak must be a positive finite number"),
    "peak-bw nan": (["--peak-bw", "nan"], "--peak-bw must be a positive finite number"),
    "peak-bw inf": (["--peak-bw", "inf"], "--peak-bw must be a positive finite number"),
    "peak-bw negative": (["--peak-bw", "-1"], "--peak-bw must be a positive finite number"),
    "batch zero": (["--batch", "0"], "--batch must be >= 1"),
    "steps zero": (["--steps", "0"], "--steps must be >= 1"),
    "repeats zero": (["--repeats", "0"], "--repeats must be >= 1"),
    "negative warm-up": (["--warmup", "-1"], "--warmup must be >= 0"),
}


@pytest.mark.parametrize("case", list(BENCH_FLAGS), ids=list(BENCH_FLAGS))
def test_bench_flags(sandbox, case):
    flags, words = BENCH_FLAGS[case]
    sandbox.run("bench", sandbox.spec, "--device", "cpu", *flags, match=words)


WIDTHS = {
    "overflowing width": "1e308",
    "inf in a list": "1,inf",
    "beyond a float": "1e400",
    "nan": "nan",
    "inf": "inf",
    "negative": "-1",
    "zero": "0",
    "text": "wide",
    "two-part range": "1:2",
    "backwards range": "2:1:0.5",
    "range to 1e300": "0.5:1e300:1e298",
    "a million steps": "0.000001:1:0.000001",
    "infinite stop": "1:inf:1",
    "nan step": "1:2:nan",
    "infinite start": "-inf:2:1",
    "denormal step": "1:2:1e-320",
    "step so small the count overflows": "1:1000:1e-300",
    "stop beyond a float": "1:1e400:1",
    "stop beyond the widest": "1:5000:1000",
    "a list of 200,000 widths": ",".join(["1"] * 200_000),
    "empty": "",
}


@pytest.mark.parametrize("command", ["sweep", "fit"])
@pytest.mark.parametrize("case", list(WIDTHS), ids=list(WIDTHS))
def test_width_grids(sandbox, command, case):
    extra = ["--budget", "1M"] if command == "fit" else []
    sandbox.run(command, sandbox.spec, "--width", WIDTHS[case], *extra, match="width")


TEXTS = {"NUL": "\\0", "ESC": "\\e[31m", "newline": "\\n", "BEL": "\\a", "carriage return": "\\r", "DEL": "\\x7f"}


@pytest.mark.parametrize("key", ["name", "title", "label"])
@pytest.mark.parametrize("char", list(TEXTS))
def test_control_characters_in_names_and_titles(sandbox, key, char):
    """They would break DOT and Markdown output and reach the terminal; refused where the spec is read."""
    text = sandbox.spec.read_text()
    bad = f'"a{TEXTS[char]}b"'
    if key == "label":
        text = text.replace("out: 8}", f"out: 8, label: {bad}}}")
    else:
        text = text.replace("name: tiny", "name: tiny\ntitle: ok" if key == "title" else f"name: {bad}")
        text = text.replace("title: ok", f"title: {bad}")
    spec = sandbox.write("named.yaml", text)
    for command in (["analyze", "--format", "md"], ["diagram"]):
        sandbox.run(*command, spec, match=f"'{key}' holds the control character")


@pytest.mark.parametrize("key", ["params", "ops"])
def test_a_zero_paper_value_is_an_error_not_a_division_by_zero(sandbox, key):
    text = sandbox.spec.read_text().replace("out: 8}", f"out: 8, paper: {{{key}: 0}}}}")
    spec = sandbox.write("zero.yaml", text)
    for command in ("analyze", "verify"):
        sandbox.run(command, spec, match=f"'{key}': the paper's value must be positive")


def test_odd_but_valid_names_pass(sandbox):
    """Unicode, '$', '|', quotes and spaces are text, not errors (exit 0); they are escaped where they would
    mean something (Markdown cells, matplotlib's math mode)."""
    text = sandbox.spec.read_text().replace("name: tiny", "name: 'ré$a$ | \"x\" <b>'\ntitle: 'Ω $x$ | y'")
    spec = sandbox.write("odd.yaml", text)
    for command in (["analyze"], ["analyze", "--format", "md"], ["verify"], ["diagram"], ["sweep"]):
        sandbox.run(*command, spec, code=0)


NINES = "9" * 400
QUANTITIES = {
    "capacity of 400 nines TiB": (["memory", "--fits", NINES + "TiB"], "--fits"),
    "capacity of 400 nines": (["memory", "--fits", NINES], "--fits"),
    "capacity beyond an exbibyte": (["memory", "--fits", "2000000TiB"], "--fits"),
    "capacity below a byte": (["memory", "--fits", "0.5B"], "--fits"),
    "time of 400 nines": (["fit", "--time", NINES + "ms", "--profile", "cpu"], "--time"),
    "time beyond a float": (["sweep", "--time", "1e400s", "--profile", "cpu"], "--time"),
    "denormal time": (["fit", "--time", "1e-320ms", "--profile", "cpu"], "--time"),
    "budget of 400 nines": (["analyze", "--budget", NINES + "G"], "--budget"),
    "synthetic count of 400 nines": (["train", "--device", "cpu", "--data", "synthetic:" + NINES], "sample count"),
    "synthetic count of 5000 digits": (["train", "--device", "cpu", "--data", "synthetic:" + "9" * 5000], "count"),
    "synthetic count of 5 billion": (["train", "--device", "cpu", "--data", "synthetic:5000000000"], "count"),
}


@pytest.mark.parametrize("case", list(QUANTITIES), ids=list(QUANTITIES))
def test_quantities_beyond_any_machine(sandbox, case):
    """Counts, sizes and durations: a number too large for a float (400 nines), beyond any machine, or a
    denormal is one error naming the flag, never an OverflowError or an allocation."""
    args, flag = QUANTITIES[case]
    sandbox.run(args[0], sandbox.spec, *args[1:], match=flag)
