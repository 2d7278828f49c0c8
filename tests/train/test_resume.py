"""--resume continues the same run or says what changed: the spec's content, the data, the schedule, every
recipe field. A change goes through only when named in --allow-change, and then takes effect."""

from __future__ import annotations

import csv
import re

import pytest

from inceptcost.cli.common import flag
from inceptcost.train import TrainConfig, train
from inceptcost.train.checkpoint import load_checkpoint
from inceptcost.train.errors import CheckpointError, DivergedError, TrainError
from inceptcost.train.recipe import Recipe

from .conftest import write_tiny_spec


@pytest.fixture
def run(tmp_path):
    """One finished epoch of a two-epoch run; returns a maker of configs for the same run folder."""
    spec = write_tiny_spec(tmp_path, aux=False)

    def config(**changes) -> TrainConfig:
        values = dict(
            spec=str(spec), data="digits", epochs=2, batch_size=32, device="cpu", steps_per_epoch=2, resume=True
        )
        return TrainConfig(**{**values, "out": str(tmp_path / "run"), **changes})

    train(config(epochs=1, resume=False))
    config.spec = spec
    return config


def test_a_changed_spec_is_refused_even_with_the_same_name(run):
    run.spec.write_text(run.spec.read_text().replace("out: 8}", "out: 16}"))
    with pytest.raises(CheckpointError) as err:
        train(run())
    assert re.search(r"spec .*tiny.yaml \(content changed\).*--allow-change spec", err.value.shown(flag))


def test_each_changed_field_is_named(run):
    with pytest.raises(CheckpointError) as err:
        train(run(seed=3, recipe=Recipe(lr=0.01, label_smoothing=0.1)))
    message = err.value.shown(flag)  # as the command line prints it
    for part in (
        "seed 0 -> 3",
        "lr 0.05 -> 0.01",
        "label_smoothing 0.0 -> 0.1",
        "--allow-change seed,lr,label_smoothing",
    ):
        assert part in message, message


def test_an_allowed_lr_change_takes_effect(run, tmp_path):
    summary = train(run(recipe=Recipe(lr=0.01), allow_change=("lr",)))
    assert summary["status"] == "completed"
    with open(tmp_path / "run" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["lr"]) for r in rows] == [0.05, 0.01]  # the step schedule's factor is 1 in both epochs
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["resume"]["lr"] == 0.01
    assert {g["initial_lr"] for g in state["optimizer"]["param_groups"]} == {0.01}


def test_more_epochs_continue_a_step_schedule_but_change_a_cosine_one(tmp_path):
    spec = write_tiny_spec(tmp_path, aux=False)
    common = dict(spec=str(spec), data="digits", batch_size=32, device="cpu", steps_per_epoch=2)
    for schedule in ("step", "cosine"):
        out = str(tmp_path / schedule)
        train(TrainConfig(**common, epochs=1, out=out, recipe=Recipe(schedule=schedule)))
        longer = TrainConfig(**common, epochs=2, out=out, resume=True, recipe=Recipe(schedule=schedule))
        if schedule == "step":
            assert train(longer)["epochs"] == 2
            continue
        with pytest.raises(CheckpointError, match="epochs 1 -> 2"):
            train(longer)
        summary = train(TrainConfig(**{**longer.__dict__, "allow_change": ("epochs",)}))
        assert summary["epochs"] == 2


def test_allow_change_names_are_checked(run):
    with pytest.raises(TrainError, match="unknown setting 'learning_rate'"):
        train(run(allow_change=("learning_rate",)))


def test_the_advice_after_a_diverged_run_works(tmp_path):
    spec = write_tiny_spec(tmp_path, aux=False)
    common = dict(spec=str(spec), data="digits", epochs=3, batch_size=32, device="cpu", steps_per_epoch=5)
    common["out"] = str(tmp_path / "r")
    train(TrainConfig(**{**common, "epochs": 1}))  # a good epoch: the checkpoint to fall back on
    with pytest.raises(DivergedError) as err:  # then a learning rate far too high
        train(TrainConfig(**common, resume=True, allow_change=("lr",), log_every=1, recipe=Recipe(lr=1e30)))
    advice = re.search(r"--resume --lr (\S+) --allow-change lr", err.value.shown(flag))
    assert advice, err.value.shown(flag)
    assert float(advice.group(1)) < 1e30
    # The advice's flags, with a learning rate low enough for this net: the run continues and completes.
    summary = train(TrainConfig(**common, resume=True, allow_change=("lr",), recipe=Recipe(lr=0.01)))
    assert summary["status"] == "completed" and summary["epochs"] == 3


def test_the_command_line_names_the_flag_and_takes_it(cli, tmp_path):
    spec = write_tiny_spec(tmp_path, aux=False)
    args = ["train", spec, "--device", "cpu", "--steps-per-epoch", "1", "--batch-size", "32", "--out", tmp_path / "r"]
    assert cli(*args, "--epochs", "1").exit_code == 0
    refused = cli(*args, "--epochs", "2", "--resume", "--lr", "0.01")
    assert refused.exit_code == 2 and "lr 0.05 -> 0.01" in refused.stderr and "--allow-change lr" in refused.stderr
    done = cli(*args, "--epochs", "2", "--resume", "--lr", "0.01", "--allow-change", "lr")
    assert done.exit_code == 0, done.stderr
