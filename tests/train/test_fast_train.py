"""`train --fast`: the fast build trains to the plain model's weights, and a run moves between the two builds
through its checkpoint (plain -> fast -> plain)."""

from __future__ import annotations

import torch
import yaml

from inceptcost.train import TrainConfig, train
from inceptcost.train.checkpoint import load_checkpoint

from .conftest import write_tiny_spec


def test_fast_training_resumes_plain_and_matches_a_plain_run(cli, tmp_path):
    spec = write_tiny_spec(tmp_path, norm="bn")
    common = dict(spec=str(spec), data="digits", batch_size=16, device="cpu", steps_per_epoch=2)
    train(TrainConfig(**common, epochs=3, out=str(tmp_path / "plain")))
    train(TrainConfig(**common, epochs=1, out=str(tmp_path / "mixed")))
    args = ["--device", "cpu", "--batch-size", "16", "--steps-per-epoch", "2", "--out", tmp_path / "mixed"]
    result = cli("train", spec, "--epochs", "2", "--resume", "--fast", *args)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((tmp_path / "mixed" / "config.yaml").read_text())["run"]["fast"] is True
    train(TrainConfig(**common, epochs=3, resume=True, out=str(tmp_path / "mixed")))
    want = load_checkpoint(tmp_path / "plain" / "checkpoint.pt")["model"]
    got = load_checkpoint(tmp_path / "mixed" / "checkpoint.pt")["model"]
    assert list(got) == list(want)
    for k in want:
        torch.testing.assert_close(got[k], want[k], atol=1e-5, rtol=0, msg=lambda m, k=k: f"{k}: {m}")
