"""`train --tensorboard`: event files in the run folder that TensorBoard reads back, holding the scalars of
metrics.csv (read as the independent record) at each epoch and the log steps' loss, images/s and lr; without the
tensorboard package, one line naming the extra."""

from __future__ import annotations

import csv
import sys

import pytest
from typer.testing import CliRunner

from inceptcost.cli import app
from inceptcost.train import TrainConfig, train

from .conftest import write_tiny_spec

EPOCH = ["train_loss", "train_top1", "train_top5", "val_loss", "val_top1", "val_top5", "lr", "images_per_s"]


def read_events(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_event_files_hold_the_step_and_epoch_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    spec, run = write_tiny_spec(tmp_path), tmp_path / "run"
    common = dict(data="synthetic:32", batch_size=8, steps_per_epoch=2, device="cpu", log_every=1, out=str(run))
    train(TrainConfig(spec=str(spec), epochs=2, tensorboard=True, **common))
    assert list(run.glob("events.out.tfevents.*"))  # beside metrics.csv
    scalars = read_events(run)
    assert set(scalars) == {f"epoch/{t}" for t in [*EPOCH, "epoch_seconds"]} | {
        "step/loss",
        "step/images_per_s",
        "step/lr",
    }
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    for tag in EPOCH:  # float32 in the event file
        assert scalars[f"epoch/{tag}"] == [(int(r["step"]), pytest.approx(float(r[tag]), rel=1e-6)) for r in rows]
    assert [s for s, _ in scalars["step/loss"]] == [1, 2, 3, 4]  # every step is a log step here
    assert all(v > 0 for _, v in scalars["step/images_per_s"])

    # resumed for a third epoch: one value per step and epoch, none twice
    train(TrainConfig(spec=str(spec), epochs=3, tensorboard=True, resume=True, **common))
    scalars = read_events(run)
    assert [s for s, _ in scalars["step/loss"]] == [1, 2, 3, 4, 5, 6]
    assert [s for s, _ in scalars["epoch/val_top1"]] == [2, 4, 6]


def test_without_tensorboard_one_line_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard raises ImportError
    spec = write_tiny_spec(tmp_path)
    result = CliRunner().invoke(app, ["train", str(spec), "--data", "synthetic:32", "--tensorboard", "--device", "cpu"])
    assert result.exit_code == 2
    assert result.output == (
        "error: --tensorboard needs the tensorboard package, which is not installed;"
        " pip install 'inceptcost[tensorboard]'\n"
    )
    assert not (tmp_path / "reports").exists()
