"""Hostile data files: images in an image folder, run summaries for `tradeoff`, checkpoints for `--resume`.
Each is one line naming the file, exit 2, never a hang."""

from __future__ import annotations

import io
import json
import os

import pytest


def _png(size: int = 20) -> bytes:
    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), 128, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _image_folder(sandbox, bad_name: str | bytes, bad: bytes | None) -> str:
    for split in ("train", "val"):
        for i in range(2):
            sandbox.write(f"images/{split}/cat/{i}.png", _png())
    name = bad_name if isinstance(bad_name, bytes) else bad_name.encode()
    path = bytes(sandbox.root) + b"/images/train/cat/" + name
    if bad is None:
        os.mkfifo(path)
    else:
        with open(path, "wb") as f:
            f.write(bad)
    return "imagefolder:" + str(sandbox.root / "images")


IMAGES: dict[str, tuple[bytes, bytes | None, str]] = {
    "FIFO": (b"z.png", None, "is not a regular file"),
    "truncated": (b"z.png", _png()[:60], "cannot read image"),
    "text": (b"z.png", b"not an image at all\n", "cannot read image"),
    "empty": (b"z.png", b"", "cannot read image"),
    "JPEG header only": (b"z.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "cannot read image"),
    "non-UTF-8 name": (b"caf\xe9.png", b"junk", "caf\\xe9.png"),
    "ESC in the name": (b"a\x1b[2Jb.png", b"junk", "a\\x1b[2Jb.png"),
}


@pytest.mark.parametrize("case", list(IMAGES), ids=list(IMAGES))
def test_broken_images(sandbox, case):
    name, content, words = IMAGES[case]
    data = _image_folder(sandbox, name, content)
    sandbox.run("train", sandbox.spec, "--device", "cpu", "--data", data, match=words)


@pytest.mark.parametrize("pixels, kind", [(100, "warning zone"), (300, "error zone")])
def test_an_image_over_pils_pixel_limit_is_refused(sandbox, monkeypatch, pixels, kind):
    """PIL only warns between its limit and twice it; both are refused. The limit is lowered so that a 20x20
    image (400 pixels) stands for a decompression bomb without writing one."""
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pixels)
    data = _image_folder(sandbox, b"big.png", _png(20))
    sandbox.run("train", sandbox.spec, "--device", "cpu", "--data", data, match="exceeds limit")


SUMMARY = {"spec": "tiny", "params": 1000, "macs": 2000000, "best_val_top1": 50.0, "final_val_top1": 49.0}

SUMMARIES: dict[str, tuple[bytes, str]] = {
    "1e999 MACs": (json.dumps(SUMMARY).replace("2000000", "1e999").encode(), "beyond a float's range"),
    "Infinity": (json.dumps({**SUMMARY, "macs": float("inf")}).encode(), "Infinity is not a number"),
    "NaN top-1": (json.dumps({**SUMMARY, "best_val_top1": float("nan")}).encode(), "NaN is not a number"),
    "5000-digit params": (json.dumps(SUMMARY).replace("1000", "9" * 5000).encode(), "cannot read summary.json"),
    "deep nesting": (b'{"spec": ' + b"[" * 100000 + b"]" * 100000 + b"}", "nested too deeply"),
    "MACs text": (json.dumps({**SUMMARY, "macs": "lots"}).encode(), "wrong type"),
    "MACs list": (json.dumps({**SUMMARY, "macs": [1]}).encode(), "wrong type"),
    "MACs zero": (json.dumps({**SUMMARY, "macs": 0}).encode(), "MACs must be a positive number"),
    "MACs negative": (json.dumps({**SUMMARY, "macs": -5}).encode(), "MACs must be a positive number"),
    "params negative": (json.dumps({**SUMMARY, "params": -1}).encode(), "params must be >= 0"),
    "top-1 dict": (json.dumps({**SUMMARY, "best_val_top1": {"a": 1}}).encode(), "wrong type"),
    "a list": (b"[1, 2]", "not a JSON object"),
    "not JSON": (b"{spec: tiny", "cannot read summary.json"),
    "not UTF-8": (b'{"spec": "caf\xe9"}', "cannot read summary.json"),
    "empty": (b"", "cannot read summary.json"),
    "missing top-1": (json.dumps({"spec": "tiny", "macs": 5}).encode(), "lacks best_val_top1"),
    "huge": (b" " * ((1 << 20) + 1) + b"{}", "larger than"),
}


@pytest.mark.parametrize("case", list(SUMMARIES), ids=list(SUMMARIES))
def test_hostile_summaries(sandbox, case):
    content, words = SUMMARIES[case]
    sandbox.write("runs/bad/summary.json", content)
    sandbox.write("runs/good/summary.json", json.dumps(SUMMARY))
    out = sandbox.root / "out"
    out.mkdir()
    sandbox.run("tradeoff", "runs/good", "runs/bad", "--out-dir", out, match=words)


def test_a_fifo_summary_never_blocks(sandbox):
    sandbox.fifo("runs/bad/summary.json")
    sandbox.run("tradeoff", "runs/bad/summary.json", match="no summary.json here")


def test_run_names_with_dollars_pipes_and_escapes_plot_and_tabulate(sandbox):
    """Two '$' would start matplotlib's math mode (a parse error on '$a_$'); a pipe would end a Markdown cell.
    Each run is of its own spec, so that each is a point of its own, labelled by its folder's name."""
    for name in ("a$b_$c", "x|y", "p$^$q"):
        sandbox.write(f"runs/{name}/summary.json", json.dumps({**SUMMARY, "spec": f"spec {name}"}))
    (sandbox.root / "out").mkdir()
    sandbox.run("tradeoff", "runs/a$b_$c", "runs/x|y", "runs/p$^$q", "--out-dir", "out", code=0, may_write=("out",))
    table = (sandbox.root / "out" / "tradeoff.md").read_text()
    assert "| x\\|y |" in table
