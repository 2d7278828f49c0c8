import random

import numpy as np
import pytest
import torch

from inceptcost.train import TrainConfig, train
from inceptcost.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from inceptcost.train.errors import CheckpointError


def _state():
    return {"model": {"w": torch.arange(1000, dtype=torch.float32)}, "epoch": 3, "rng": rng_state()}


def test_round_trip_and_rng_restore(tmp_path):
    path = tmp_path / "c.pt"
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    save_checkpoint(path, _state())
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    state = load_checkpoint(path)
    assert state["epoch"] == 3 and torch.equal(state["model"]["w"], torch.arange(1000, dtype=torch.float32))
    set_rng_state(state["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp file left behind


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "other"])
def test_damaged_checkpoint_is_a_clear_error(tmp_path, damage):
    path = tmp_path / "c.pt"
    save_checkpoint(path, _state())
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "flip":
        blob[len(blob) - 2000] ^= 0x10  # inside a tensor's bytes: torch.load alone would not notice
    elif damage == "empty":
        blob = bytearray()
    else:
        buf = tmp_path / "plain.pt"
        torch.save({"a": 1}, buf)
        blob = bytearray(buf.read_bytes())
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert ("corrupted or truncated" in message) or ("not an inceptcost checkpoint" in message)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nope.pt")


def test_cli_resume_from_a_truncated_checkpoint_exits_2(cli, tmp_path, tiny_spec):
    out = tmp_path / "run"
    train(
        TrainConfig(
            spec=str(tiny_spec), data="digits", epochs=1, steps_per_epoch=2, batch_size=16, device="cpu", out=str(out)
        )
    )
    ckpt = out / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:-100])
    bad = cli(
        "train",
        tiny_spec,
        "--device",
        "cpu",
        "--epochs",
        "2",
        "--steps-per-epoch",
        "2",
        "--batch-size",
        "16",
        "--out",
        out,
        "--resume",
    )
    assert bad.exit_code == 2
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: checkpoint") and "truncated" in lines[0]
    assert "Traceback" not in bad.output
