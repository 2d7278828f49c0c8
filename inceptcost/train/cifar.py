"""CIFAR-10 python-format batches, read without running code from the file.

The official batches are pickles. Plain `pickle.load` would run whatever a hostile file names, so the
unpickler here resolves only the few names that the real layout needs (numpy's array reconstruction and
latin-1 byte strings) and refuses any other with one line. What it returns is then checked against the
layout itself: a dict of bytes keys, uint8 data (N, 3072), N integer labels in 0..9.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import pickle
import tarfile
import urllib.request
from pathlib import Path

import numpy as np

from inceptcost.train.errors import TrainError

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
CLASSES = 10
PIXELS = 3 * 32 * 32
MAX_BATCH_BYTES = 1 << 30  # the real batches are 31 MB; anything near this is not one


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    # Python 3 protocol-2 pickles write bytes as _codecs.encode(str, 'latin1'); nothing else is admitted.
    if not isinstance(text, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r}")
    return text.encode("latin-1")


def _reconstruct():
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct as rec
        from numpy._core.numeric import _frombuffer as frombuf
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct as rec
        from numpy.core.numeric import _frombuffer as frombuf
    return rec, frombuf


_RECONSTRUCT, _FROMBUFFER = _reconstruct()
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class _CifarUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"it asks for {module}.{name}, which no CIFAR batch contains") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("it holds persistent references, which no CIFAR batch contains")


def unpickle(path: Path) -> dict:
    """Load one batch or meta file as a dict with bytes keys, refusing anything but data."""
    try:
        if not path.is_file():
            raise TrainError(f"{path}: not a regular file (expected a CIFAR-10 python batch)")
        if path.stat().st_size > MAX_BATCH_BYTES:
            raise TrainError(f"{path}: {path.stat().st_size:,} bytes is too large for a CIFAR-10 batch")
        raw = path.read_bytes()
        obj = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except TrainError:
        raise
    except (pickle.UnpicklingError, EOFError) as exc:
        raise TrainError(f"{path}: refused: not a CIFAR-10 python batch ({exc}); use the official files") from None
    except (OSError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as exc:
        raise TrainError(f"{path}: cannot read CIFAR-10 batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict) or not all(isinstance(k, bytes) for k in obj):
        raise TrainError(f"{path}: not a CIFAR-10 python batch (expected a dict with bytes keys)")
    return obj


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of one batch file, checked against each other."""
    if not path.exists():
        raise TrainError(f"missing CIFAR-10 batch {path}")
    batch = unpickle(path)
    data, labels = batch.get(b"data"), batch.get(b"labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        what = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise TrainError(f"{path}: b'data' must be a uint8 array of shape (N, {PIXELS}), found {what}")
    if not isinstance(labels, list | np.ndarray) or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in labels
    ):
        raise TrainError(f"{path}: b'labels' must be a list of integers")
    if len(labels) != len(data):
        raise TrainError(f"{path}: {len(labels)} labels for {len(data)} images; the batch is damaged")
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(y) and (y.min() < 0 or y.max() >= CLASSES):
        raise TrainError(f"{path}: label {int(y.min() if y.min() < 0 else y.max())} is outside 0..{CLASSES - 1}")
    return data.reshape(-1, 3, 32, 32), y


def read_label_names(path: Path) -> list[str]:
    """The meta file's class names, or 0..9 when the file is absent."""
    if not path.exists():
        return [str(i) for i in range(CLASSES)]
    names = unpickle(path).get(b"label_names")
    if not isinstance(names, list) or len(names) != CLASSES or not all(isinstance(n, bytes | str) for n in names):
        raise TrainError(f"{path}: b'label_names' must be a list of {CLASSES} names")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]


def find(root: Path) -> Path | None:
    for folder in (root, root / "cifar-10-batches-py"):
        if (folder / "data_batch_1").exists() and (folder / "test_batch").exists():
            return folder
    return None


def download(root: Path) -> None:
    """Fetch and unpack the official archive (only with --download); the checksum guards the content."""
    root.mkdir(parents=True, exist_ok=True)
    archive = root / "cifar-10-python.tar.gz"
    tmp = archive.with_suffix(".part")
    try:
        urllib.request.urlretrieve(URL, tmp)
    except OSError as exc:
        raise TrainError(f"download of {URL} failed: {exc}") from None
    if hashlib.md5(tmp.read_bytes()).hexdigest() != MD5:
        tmp.unlink()
        raise TrainError(f"downloaded {URL} has the wrong checksum; try again")
    tmp.replace(archive)
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
