"""Hostile checkpoints for `train --resume`: missing, empty, truncated, another format, a pickle that would run
code, a FIFO, a folder. One line naming the file, exit 2; the payload never runs."""

from __future__ import annotations

import hashlib
import io
import os
import pickle

import pytest
import torch

from inceptcost.train.checkpoint import DIGEST, MAGIC, save_checkpoint


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch MARKER",))


def _framed(payload: bytes) -> bytes:
    """A payload behind a correct header and checksum: only the loader itself stands in the way."""
    return MAGIC + hashlib.sha256(payload).digest() + payload


def _saved(state: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return _framed(buf.getvalue())


def _real(tmp_path) -> bytes:
    save_checkpoint(tmp_path / "real.pt", {"model": {"w": torch.zeros(4)}})
    data = (tmp_path / "real.pt").read_bytes()
    (tmp_path / "real.pt").unlink()
    return data


CASES = {
    "missing": (None, "no checkpoint at"),
    "empty": (lambda t: b"", "not an inceptcost checkpoint"),
    "garbage": (lambda t: b"hello world" * 10, "not an inceptcost checkpoint"),
    "header only": (lambda t: MAGIC, "not an inceptcost checkpoint"),
    "truncated": (lambda t: _real(t)[: len(MAGIC) + DIGEST + 20], "corrupted or truncated"),
    "one bit flipped": (lambda t: _real(t)[:-5] + bytes([_real(t)[-5] ^ 1]) + _real(t)[-4:], "corrupted"),
    "pickle that runs code": (lambda t: _framed(pickle.dumps(_Payload())), "cannot be loaded"),
    "torch.save of an object": (lambda t: _saved({"format_version": 1, "x": _Payload()}), "cannot be loaded"),
    "another format version": (lambda t: _saved({"format_version": 99}), "unsupported format version 99"),
    "not a dict": (lambda t: _saved([1, 2]), "unsupported format version"),
    "another run's layout": (lambda t: _real(t), "does not match this run"),
    "fifo": ("fifo", "is not a regular file"),
    "folder": ("folder", "is a directory"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_hostile_checkpoints(sandbox, tmp_path_factory, case):
    make, words = CASES[case]
    run = sandbox.root / "run"
    run.mkdir()
    if make == "fifo":
        sandbox.fifo("run/checkpoint.pt")
    elif make == "folder":
        (run / "checkpoint.pt").mkdir()
    elif make is not None:
        sandbox.write("run/checkpoint.pt", make(tmp_path_factory.mktemp("ckpt")))
    sandbox.run(
        "train", sandbox.spec, "--device", "cpu", "--resume", "--out", run, "--steps-per-epoch", "1", match=words
    )
    assert not (sandbox.root / "MARKER").exists()
