"""A recipe that torch would refuse (nesterov without momentum, a number beyond what an fp32 scalar holds)
is refused before any training, naming the recipe file and the line of the key at fault."""

from __future__ import annotations

import pytest

CASES = {
    "nesterov without momentum": ("lr: 0.1\nnesterov: true\nmomentum: 0\n", 2, "nesterov"),
    "momentum 0 first": ("momentum: 0.0\nnesterov: true\n", 2, "nesterov"),
    "weight decay beyond fp32": ("weight_decay: 1e308\n", 1, "weight_decay"),
    "lr beyond fp32": ("schedule: cosine\nlr: 1.0e+39\n", 2, "lr"),
    "huge integer lr": ("lr: " + "9" * 400 + "\n", 1, "lr"),
    "grad clip beyond fp32": ("grad_clip: 1.0e+300\n", 1, "grad_clip"),
    "aux weight beyond fp32": ("\naux_weight: 1.0e+300\n", 2, "aux_weight"),
    "infinite crop": ("crop_aspect: [0.5, .inf]\n", 1, "crop_aspect"),
    "huge crop": ("crop_area: [0.5, " + "9" * 400 + "]\n", 1, "crop_area"),
    "negative decay": ("lr: 0.1\nweight_decay: -1\n", 2, "weight_decay"),
    "bad schedule": ("schedule: cosin\n", 1, "cosine"),
    "unknown key": ("lr: 0.1\nnesterof: true\n", 2, "nesterof"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_recipe_torch_would_refuse(sandbox, case) -> None:
    text, line, word = CASES[case]
    recipe = sandbox.write("r.yaml", text)
    out = sandbox.run("train", sandbox.spec, "--recipe", recipe, "--device", "cpu", "--data", "synthetic")
    assert f"r.yaml:{line}:" in out.stderr and word in out.stderr, out.stderr


def test_a_recipe_torch_takes_still_trains(sandbox) -> None:
    recipe = sandbox.write("r.yaml", "nesterov: true\nmomentum: 0.9\nweight_decay: 1.0e-4\n")
    args = ["--recipe", recipe, "--device", "cpu", "--data", "synthetic", "--epochs", "1", "--steps-per-epoch", "1"]
    sandbox.run("train", sandbox.spec, *args, "--batch-size", "4", "--out", "run", code=0, may_write=("run",))


def test_a_plans_recipe_names_the_plan_and_line(sandbox) -> None:
    plan = sandbox.write(
        "plan.yaml",
        "name: p\nspecs: [tiny.yaml]\ndata: synthetic\nepochs: 1\nbatch_size: 8\nseeds: [0]\ndevice: cpu\n"
        "recipe:\n  momentum: 0\n  nesterov: true\n",
    )
    out = sandbox.run("study", plan, "--dry-run")
    assert "plan.yaml:10:" in out.stderr and "nesterov" in out.stderr, out.stderr
