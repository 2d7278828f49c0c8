"""CIFAR-10 batches are data, never code: a restricted unpickler and a layout check."""

import os
import pickle

import numpy as np
import pytest

from inceptcost.train.data import load_data
from inceptcost.train.errors import TrainError

SPEC = dict(size=(32, 32), channels=3, classes=10)
NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _write_set(folder, *, protocol=pickle.DEFAULT_PROTOCOL, n=4, batch=None):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in NAMES:
        b = batch or {
            b"batch_label": b"training batch",
            b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"filenames": [f"img{i}.png".encode() for i in range(n)],
        }
        (folder / name).write_bytes(pickle.dumps(b, protocol=protocol))
    meta = {b"label_names": [f"c{i}".encode() for i in range(10)], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_the_official_layout_loads_under_every_protocol(tmp_path, protocol):
    # Protocol 2 from Python 3 writes bytes through _codecs.encode(..., 'latin1'), as a re-pickled batch would.
    _write_set(tmp_path, protocol=protocol)
    d = load_data(f"cifar10:{tmp_path}", **SPEC)
    assert d.train_x.shape == (20, 3, 32, 32) and d.val_x.shape == (4, 3, 32, 32)
    assert d.class_names == [f"c{i}" for i in range(10)]


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _ImportsModule:
    def __reduce__(self):
        return (__import__, ("shutil",))


@pytest.mark.parametrize("payload", [_RunsCode, _ImportsModule])
@pytest.mark.parametrize("where", ["data_batch_3", "batches.meta"])
def test_a_hostile_batch_runs_nothing(tmp_path, payload, where):
    marker = tmp_path / "pwned"
    _write_set(tmp_path / "set")
    evil = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [payload(marker) if payload is _RunsCode else payload()]}
    (tmp_path / "set" / where).write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(TrainError, match=rf"{where}: refused: .*asks for (posix|nt|__builtin__)\."):
        load_data(f"cifar10:{tmp_path / 'set'}", **SPEC)
    assert not marker.exists()


def test_codecs_encode_is_admitted_only_for_latin1(tmp_path):
    import codecs

    class Rot13:
        def __reduce__(self):
            return (codecs.encode, ("abc", "rot13"))

    _write_set(tmp_path, batch={b"data": np.zeros((1, 3072), np.uint8), b"labels": [Rot13()]})
    with pytest.raises(TrainError, match="refused"):
        load_data(f"cifar10:{tmp_path}", **SPEC)


@pytest.mark.parametrize(
    "batch, message",
    [
        ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 2, 3]}, "4 labels for 3 images"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, r"label 10 is outside 0\.\.9"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [-1, 0]}, r"label -1 is outside"),
        ({b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}, r"shape \(N, 3072\), found uint8 \(2, 1024\)"),
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "found float32"),
        ({b"data": np.zeros((2, 3072), object), b"labels": [0, 1]}, "found object"),
        ({b"data": [[0] * 3072], b"labels": [0]}, "found list"),
        ({b"data": np.zeros((1, 3072), np.uint8), b"labels": ["0"]}, "list of integers"),
        ({b"data": np.zeros((1, 3072), np.uint8)}, "list of integers"),
        ({"data": np.zeros((1, 3072), np.uint8)}, "bytes keys"),
    ],
)
def test_a_damaged_batch_is_one_line_naming_the_file(tmp_path, batch, message):
    _write_set(tmp_path, batch=batch)
    with pytest.raises(TrainError, match=message) as err:
        load_data(f"cifar10:{tmp_path}", **SPEC)
    assert "data_batch_1" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"\x80\x04garbage", b"not a pickle at all", pickle.dumps([1, 2, 3])])
def test_truncated_or_foreign_files(tmp_path, content):
    _write_set(tmp_path)
    (tmp_path / "test_batch").write_bytes(content)
    with pytest.raises(TrainError, match="test_batch"):
        load_data(f"cifar10:{tmp_path}", **SPEC)


def test_meta_with_wrong_names_and_a_directory_as_batch(tmp_path):
    _write_set(tmp_path)
    (tmp_path / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"a", b"b"]}))
    with pytest.raises(TrainError, match="batches.meta: b'label_names' must be a list of 10 names"):
        load_data(f"cifar10:{tmp_path}", **SPEC)
    (tmp_path / "batches.meta").unlink()
    (tmp_path / "data_batch_2").unlink()
    (tmp_path / "data_batch_2").mkdir()
    with pytest.raises(TrainError, match="data_batch_2: not a regular file"):
        load_data(f"cifar10:{tmp_path}", **SPEC)
