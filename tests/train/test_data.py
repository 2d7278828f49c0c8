import pickle

import numpy as np
import pytest
import torch

from inceptcost.train.data import digits, digits_clutter, load_data
from inceptcost.train.errors import TrainError

SPEC = dict(size=(32, 32), channels=3, classes=7)


def test_digits_split_is_fixed_stratified_and_disjoint():
    d = digits()
    assert d.train_x.shape == (1437, 1, 8, 8) and d.val_x.shape == (360, 1, 8, 8)
    assert d.train_x.dtype == torch.uint8 and d.train_x.max() == 255
    assert d.classes == 10 and torch.bincount(d.val_y).min() >= 35
    train_rows = {bytes(r) for r in d.train_x.flatten(1).numpy()}
    overlap = sum(bytes(r) in train_rows for r in d.val_x.flatten(1).numpy())
    assert overlap < 5  # only the rare byte-identical duplicates in the source data
    assert torch.equal(digits().val_y, d.val_y)


def test_clutter_is_deterministic_and_harder():
    a = digits_clutter(n_train=300, n_val=100)
    b = digits_clutter(n_train=300, n_val=100)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.val_y, b.val_y)
    assert a.train_x.shape == (300, 1, 64, 64)
    # the canvas is mostly clutter: far more lit pixels than one digit covers, spread all over
    lit = (a.train_x > 100).float().mean(dim=(1, 2, 3))
    assert lit.mean() > 0.05
    assert len(set(a.train_y.tolist())) == 10


def test_synthetic_uses_the_spec_shape():
    d = load_data("synthetic:64", **SPEC)
    assert d.train_x.shape == (64, 3, 32, 32) and d.classes == 7 and d.val_x.shape[0] == 8


def test_unknown_source_suggests():
    with pytest.raises(TrainError, match="did you mean 'digits'"):
        load_data("digit", **SPEC)


def test_imagefolder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("val", 1)):
        for cls in ("cat", "dog"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(
                    tmp_path / split / cls / f"{i}.png"
                )
    d = load_data(f"imagefolder:{tmp_path}", **SPEC)
    assert d.class_names == ["cat", "dog"] and d.train_x.shape == (6, 3, 37, 37) and d.val_x.shape[0] == 2
    assert d.train_y.tolist() == [0, 0, 0, 1, 1, 1]
    (tmp_path / "val" / "bird").mkdir()
    with pytest.raises(TrainError, match="missing from train/: bird"):
        load_data(f"imagefolder:{tmp_path}", **SPEC)


def test_imagefolder_needs_both_splits(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(TrainError, match="missing val/"):
        load_data(f"imagefolder:{tmp_path}", **SPEC)


def test_cifar10_from_disk_and_no_silent_download(tmp_path):
    with pytest.raises(TrainError, match="pass download to fetch"):
        load_data(f"cifar10:{tmp_path}", **SPEC)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 255, (4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 9]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]}))
    d = load_data(f"cifar10:{tmp_path}", **SPEC)
    assert d.train_x.shape == (20, 3, 32, 32) and d.val_x.shape == (4, 3, 32, 32) and d.class_names[9] == "c9"
