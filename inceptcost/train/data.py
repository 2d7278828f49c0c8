"""Datasets held in memory as uint8 tensors (N, C, H, W) at their native size.

Every source gives the same thing, so the augmentation (on the training device) is one code path:
the crop + resize to the spec's input size happens there, not in a CPU loader.
Sources: digits, digits-clutter, synthetic[:N], imagefolder:PATH, cifar10:PATH.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inceptcost.errors import literal
from inceptcost.readsafe import read_regular
from inceptcost.train import cifar
from inceptcost.train.errors import TrainError

SOURCES = ("digits", "digits-clutter", "synthetic", "imagefolder:PATH", "cifar10:PATH")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff"}


@dataclass
class Dataset:
    name: str
    train_x: torch.Tensor  # uint8 (N, C, H, W)
    train_y: torch.Tensor  # int64 (N,)
    val_x: torch.Tensor
    val_y: torch.Tensor
    class_names: list[str]

    @property
    def classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return int(self.train_x.shape[1])

    def mean_std(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training images in [0, 1], for input normalization."""
        x = self.train_x[:4096].float().div_(255)
        mean = x.mean(dim=(0, 2, 3))
        std = x.std(dim=(0, 2, 3)).clamp_min(1e-3)
        return mean.tolist(), std.tolist()

    def describe(self) -> dict:
        return {
            "source": self.name,
            "train_images": int(self.train_x.shape[0]),
            "val_images": int(self.val_x.shape[0]),
            "classes": self.classes,
            "native_size": list(self.train_x.shape[1:]),
        }


def check_source(source: str) -> None:
    """Refuse a data source that load_data would refuse for its spelling alone, before any work."""
    kind, _, arg = source.partition(":")
    if kind == "synthetic" and arg:
        _positive_int(arg, source)
    elif not (
        (kind in ("digits", "digits-clutter", "synthetic") and not arg) or (kind in ("imagefolder", "cifar10") and arg)
    ):
        load_data(source, size=(1, 1), channels=1, classes=2)  # raises its one error


def load_data(source: str, *, size: tuple[int, int], channels: int, classes: int, download: bool = False) -> Dataset:
    """`size`, `channels` and `classes` (from the spec) are used only by sources that lack their own."""
    kind, _, arg = source.partition(":")
    if kind == "digits" and not arg:
        return digits()
    if kind == "digits-clutter" and not arg:
        return digits_clutter()
    if kind == "synthetic":
        n = _positive_int(arg, source) if arg else 2048
        return synthetic(n, size=size, channels=channels, classes=classes)
    if kind == "imagefolder" and arg:
        return image_folder(Path(arg), size=size)
    if kind == "cifar10" and arg:
        return cifar10(Path(arg), download=download)
    import difflib

    close = difflib.get_close_matches(kind, [s.split(":")[0] for s in SOURCES], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise TrainError(
        f"{{data}}: unknown data source {literal(repr(source))}{hint} (choose one of {', '.join(SOURCES)})",
        settings=True,
    )


MAX_SAMPLES = 10**9  # a synthetic set of a billion images: beyond any throughput run (and any memory)


def _positive_int(text: str, source: str) -> int:
    # the length first: int() refuses a string of more than 4,300 digits with a ValueError of its own
    if not (text.isascii() and text.isdigit() and len(text) <= 12 and 2 <= int(text) <= MAX_SAMPLES):
        raise TrainError(
            f"{{data}} {literal(repr(source[:60]))}: expected a sample count from 2 to {MAX_SAMPLES:,} after ':'",
            settings=True,
        )
    return int(text)


# --- scikit-learn digits and the harder set built from them ----------------------------------------------


def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    images = np.rint(d.images * (255 / 16)).astype(np.uint8)  # 0..16 -> 0..255
    # A fixed stratified 80/20 split: the same validation digits for every run and seed.
    return train_test_split(images, d.target, test_size=0.2, random_state=0, stratify=d.target)


def digits() -> Dataset:
    xtr, xva, ytr, yva = _digits_split()
    return Dataset(
        "digits",
        _as_tensor(xtr[:, None]),
        torch.as_tensor(ytr, dtype=torch.int64),
        _as_tensor(xva[:, None]),
        torch.as_tensor(yva, dtype=torch.int64),
        [str(i) for i in range(10)],
    )


def digits_clutter(canvas: int = 64, n_train: int = 10000, n_val: int = 2000) -> Dataset:
    """Digits at several scales and positions on a 64x64 canvas with stroke fragments and noise.

    Deterministic (fixed seeds, independent of --seed). Training canvases use only training digits
    and validation canvases only validation digits, so nothing leaks. Small digits among fragments
    of other digits need more receptive field and capacity than the plain set, so accuracy moves
    with model cost instead of saturating.
    """
    xtr, xva, ytr, yva = _digits_split()
    tx, ty = _clutter(xtr, ytr, n_train, canvas, seed=1)
    vx, vy = _clutter(xva, yva, n_val, canvas, seed=2)
    return Dataset("digits-clutter", tx, ty, vx, vy, [str(i) for i in range(10)])


def _clutter(images: np.ndarray, labels: np.ndarray, n: int, canvas: int, seed: int):
    rng = np.random.default_rng(seed)
    src = torch.as_tensor(images, dtype=torch.float32)[:, None] / 255
    digit_sizes = (12, 16, 22, 30, 40)
    pick = rng.integers(0, len(images), n)
    size_of = rng.choice(digit_sizes, n)
    scaled = {
        s: F.interpolate(src, size=(s, s), mode="bilinear", align_corners=False)[:, 0].numpy() for s in digit_sizes
    }
    out = np.empty((n, canvas, canvas), dtype=np.float32)
    for i in range(n):
        img = rng.uniform(0, 0.25) + rng.normal(0, 0.06, (canvas, canvas)).astype(np.float32)
        # Fragments: a random quarter-to-half of another digit, at a digit scale, dimmer or as bright.
        for _ in range(rng.integers(4, 9)):
            s = int(rng.choice(digit_sizes))
            other = scaled[s][rng.integers(0, len(images))]
            fh, fw = rng.integers(s // 3, s // 2 + 1, 2)
            y0, x0 = rng.integers(0, s - fh + 1), rng.integers(0, s - fw + 1)
            frag = other[y0 : y0 + fh, x0 : x0 + fw] * rng.uniform(0.4, 1.0)
            py, px = rng.integers(0, canvas - fh + 1), rng.integers(0, canvas - fw + 1)
            np.maximum(img[py : py + fh, px : px + fw], frag, out=img[py : py + fh, px : px + fw])
        s = int(size_of[i])
        py, px = rng.integers(0, canvas - s + 1, 2)
        digit = scaled[s][pick[i]] * rng.uniform(0.7, 1.0)
        np.maximum(img[py : py + s, px : px + s], digit, out=img[py : py + s, px : px + s])
        out[i] = img
    x = torch.as_tensor(np.rint(np.clip(out, 0, 1) * 255).astype(np.uint8))[:, None]
    return x, torch.as_tensor(labels[pick], dtype=torch.int64)


# --- synthetic -------------------------------------------------------------------------------------------


def synthetic(n: int, *, size: tuple[int, int], channels: int, classes: int) -> Dataset:
    """Random images and labels at the spec's own size: for throughput, not accuracy."""
    from inceptcost.train.bench.memory_check import check_allocation

    n_val = max(2, n // 8)
    image = channels * size[0] * size[1]  # bytes of one uint8 image
    fits = int(free_cpu_bytes() // (image * 9 / 8)) if image else 0
    check_allocation(
        (n + n_val) * image,
        f"synthetic:{n} ({n} + {n_val} validation images of {size[0]}x{size[1]}x{channels}, uint8)",
        torch.device("cpu"),
        f"use synthetic:{fits} or fewer images" if fits >= 2 else "shrink the spec's input size",
    )
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n + n_val, channels, *size), generator=g, dtype=torch.uint8)
    y = torch.randint(0, classes, (n + n_val,), generator=g)
    return Dataset(f"synthetic:{n}", x[:n], y[:n], x[n:], y[n:], [str(i) for i in range(classes)])


def free_cpu_bytes() -> int:
    from inceptcost.train.bench.memory_check import free_memory

    return free_memory(torch.device("cpu"))[0]


# --- image folders -----------------------------------------------------------------------------------------


def image_folder(root: Path, *, size: tuple[int, int]) -> Dataset:
    """root/train/<class>/*.jpg and root/val/<class>/*.jpg, decoded once into memory.

    Images are resized (shorter side) and center-cropped to 8/7 of the spec's input size, the
    256 -> 224 ratio, leaving room for the random crops.
    """
    try:
        for split in ("train", "val"):
            if not (root / split).is_dir():
                raise TrainError(f"imagefolder {root}: missing {split}/ folder (expected {split}/<class>/<image>)")
        names = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
        if not names:
            raise TrainError(f"imagefolder {root}: train/ has no class folders")
        extra = sorted({p.name for p in (root / "val").iterdir() if p.is_dir()} - set(names))
        if extra:
            raise TrainError(f"imagefolder {root}: val/ has classes missing from train/: {', '.join(extra)}")
        store = (round(size[0] * 8 / 7), round(size[1] * 8 / 7))
        tx, ty = _read_folder(root / "train", names, store)
        vx, vy = _read_folder(root / "val", names, store)
    except OSError as exc:  # an unreadable folder, a symlink loop
        raise TrainError(f"imagefolder {root}: cannot read {exc.filename or root} ({exc.strerror})") from None
    if len(vx) == 0:
        raise TrainError(f"imagefolder {root}: val/ has no images")
    return Dataset(f"imagefolder:{root}", tx, ty, vx, vy, names)


MAX_IMAGE_BYTES = 1 << 28  # 256 MiB: no photo is larger; PIL's pixel limit guards the decoded size


def _read_folder(split: Path, names: list[str], store: tuple[int, int]):
    xs, ys = [], []
    for label, name in enumerate(names):
        folder = split / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                xs.append(_read_image(path, store))
                ys.append(label)
    if not xs:
        raise TrainError(f"no images found under {split}")
    return _as_tensor(np.stack(xs)), torch.as_tensor(ys, dtype=torch.int64)


def _read_image(path: Path, store: tuple[int, int]) -> np.ndarray:
    """One image as uint8 (3, H, W) at `store`; a FIFO, a decompression bomb or a broken file is one line."""
    import io
    import warnings

    from PIL import Image

    raw = read_regular(path, limit=MAX_IMAGE_BYTES, what="image", error=TrainError)
    try:
        with warnings.catch_warnings():
            # Over PIL's pixel limit (Image.MAX_IMAGE_PIXELS) PIL only warns up to twice the limit: refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as im:
                im = im.convert("RGB")
                scale = max(store[0] / im.height, store[1] / im.width)
                im = im.resize(
                    (max(store[1], round(im.width * scale)), max(store[0], round(im.height * scale))),
                    Image.BILINEAR,
                )
                top, left = (im.height - store[0]) // 2, (im.width - store[1]) // 2
                im = im.crop((left, top, left + store[1], top + store[0]))
                return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise TrainError(
            f"image {path}: refused: {exc}", hint="resize it; training images are a few hundred pixels wide"
        ) from None
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError) as exc:  # truncated, corrupt, unknown
        raise TrainError(f"cannot read image {path}: {exc}") from None


# --- CIFAR-10 (python format) --------------------------------------------------------------------------------


def cifar10(root: Path, *, download: bool) -> Dataset:
    folder = cifar.find(root)
    if folder is None:
        if not download:
            raise TrainError(
                f"no CIFAR-10 batches under {literal(root)} (expected data_batch_1..5 and test_batch, "
                "python format); pass {download} to fetch them",
                settings=True,
            )
        cifar.download(root)
        folder = cifar.find(root)
        if folder is None:
            raise TrainError(f"the downloaded archive in {root} holds no CIFAR-10 batches")
    tx, ty = _read_cifar([folder / f"data_batch_{i}" for i in range(1, 6)])
    vx, vy = _read_cifar([folder / "test_batch"])
    names = cifar.read_label_names(folder / "batches.meta")
    return Dataset(f"cifar10:{root}", tx, ty, vx, vy, names)


def _read_cifar(paths: list[Path]):
    batches = [cifar.read_batch(p) for p in paths]
    xs = np.concatenate([x for x, _ in batches])
    ys = np.concatenate([y for _, y in batches])
    return _as_tensor(xs), torch.as_tensor(ys)


def _as_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))
