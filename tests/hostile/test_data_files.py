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
    "MACs text": (json.dumps({**SUMMARY, "macs": "lots"}).encode(), "macs: must be a number"),
    "MACs list": (json.dumps({**SUMMARY, "macs": [1]}).encode(), "macs: must be a number"),
    "MACs zero": (json.dumps({**SUMMARY, "macs": 0}).encode(), "macs: must be above 0"),
    "MACs negative": (json.dumps({**SUMMARY, "macs": -5}).encode(), "macs: must be a finite number from 0"),
    "params negative": (json.dumps({**SUMMARY, "params": -1}).encode(), "params: must be from 0"),
    "params fraction": (json.dumps({**SUMMARY, "params": 10.5}).encode(), "params: must be a whole number"),
    "params true": (json.dumps({**SUMMARY, "params": True}).encode(), "params: must be a whole number"),
    "top-1 1e308": (json.dumps({**SUMMARY, "best_val_top1": 1e308}).encode(), "best_val_top1: must be a finite"),
    "top-1 above 100": (json.dumps({**SUMMARY, "best_val_top1": 100.5}).encode(), "best_val_top1: must be a finite"),
    "top-1 text": (json.dumps({**SUMMARY, "best_val_top1": "high"}).encode(), "best_val_top1: must be a number"),
    "final top-1 negative": (json.dumps({**SUMMARY, "final_val_top1": -1}).encode(), "final_val_top1: must be"),
    "images/s text": (json.dumps({**SUMMARY, "images_per_s": "fast"}).encode(), "images_per_s: must be a number"),
    "MACs 1e300": (json.dumps({**SUMMARY, "macs": 1e300}).encode(), "macs: must be a finite number"),
    "epochs zero": (json.dumps({**SUMMARY, "epochs": 0}).encode(), "epochs: must be from 1"),
    "epochs text": (json.dumps({**SUMMARY, "epochs": "ten"}).encode(), "epochs: must be a whole number"),
    "seed float": (json.dumps({**SUMMARY, "seed": 1.5}).encode(), "seed: must be a whole number"),
    "world size 0": (json.dumps({**SUMMARY, "world_size": 0}).encode(), "world_size: must be from 1"),
    "device a list": (json.dumps({**SUMMARY, "device": ["cpu"]}).encode(), "device: must be text"),
    "spec a number": (json.dumps({**SUMMARY, "spec": 5}).encode(), "spec: must be text"),
    "top-1 dict": (json.dumps({**SUMMARY, "best_val_top1": {"a": 1}}).encode(), "must be a number"),
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


def test_two_seeds_of_1e308_are_refused_not_summed(sandbox):
    """Two runs of one spec are averaged (fsum overflowed on 1e308 + 1e308): the reader refuses the value first."""
    for name in ("s1", "s2"):
        sandbox.write(f"runs/{name}/summary.json", json.dumps({**SUMMARY, "best_val_top1": 1e308}))
    sandbox.run("tradeoff", "runs/s1", "runs/s2", "--out-dir", ".", match="runs/s1/summary.json: best_val_top1")


CONFIGS: dict[str, tuple[str, str]] = {
    "an infinite side": (
        "spec: {input: [3, .inf, 64], classes: 10}\n",
        "config.yaml:1: spec.input[1]: must be a whole",
    ),
    "input a number": ("spec: {input: 5, classes: 10}\n", "spec.input: must be [channels, height, width]"),
    "input of two": ("spec: {input: [3, 64], classes: 10}\n", "spec.input: must be [channels, height, width]"),
    "a zero side": ("spec: {input: [3, 0, 64], classes: 10}\n", "spec.input[1]: must be from 1"),
    "a negative side": ("spec: {input: [3, 64, -64], classes: 10}\n", "spec.input[2]: must be from 1"),
    "a side of text": ("spec: {input: [3, '64', 64]}\n", "spec.input[1]: must be a whole number"),
    "a side true": ("spec: {input: [true, 64, 64]}\n", "spec.input[0]: must be a whole number"),
    "classes text": ("spec:\n  input: [3, 64, 64]\n  classes: ten\n", "config.yaml:3: spec.classes: must be a whole"),
    "classes zero": ("spec: {input: [3, 64, 64], classes: 0}\n", "spec.classes: must be from 1"),
    "spec a list": ("spec: [1, 2]\n", "spec: must be a mapping"),
    "run text": ("run: fast\n", "run: must be a mapping"),
    "seed text": ("run: {seed: one}\n", "run.seed: must be a whole number"),
    "a list": ("- 1\n- 2\n", "config.yaml: is not a mapping"),
    "not YAML": ("spec: {input: [3\n", "config.yaml"),
    "binary": ("\0\1\2", "binary file"),
}


@pytest.mark.parametrize("case", list(CONFIGS), ids=list(CONFIGS))
def test_hostile_run_configs(sandbox, case):
    """A run's config.yaml (the image size, classes and seed it was trained with) is read field by field."""
    content, words = CONFIGS[case]
    sandbox.write("runs/bad/summary.json", json.dumps(SUMMARY))
    sandbox.write("runs/bad/config.yaml", content)
    sandbox.run("tradeoff", "runs/bad", "--out-dir", ".", match=words)


def test_hostile_run_config_with_x_predicted(sandbox):
    """`--x predicted` builds the run's spec from its config.yaml: the same reader refuses the same values."""
    spec = sandbox.spec
    sandbox.write("runs/bad/summary.json", json.dumps({**SUMMARY, "spec_file": str(spec)}))
    sandbox.write("runs/bad/config.yaml", "spec: {input: [1, 16, 16], classes: ten}\n")
    args = ["tradeoff", "runs/bad", "--out-dir", ".", "--x", "predicted", "--profile", "cpu", "--batch", "8"]
    sandbox.run(*args, match="spec.classes: must be a whole number")


def test_a_fifo_config_never_blocks(sandbox):
    sandbox.write("runs/bad/summary.json", json.dumps(SUMMARY))
    sandbox.fifo("runs/bad/config.yaml")
    sandbox.run("tradeoff", "runs/bad", "--out-dir", ".", match="config.yaml")


def test_a_valid_run_config_is_used(sandbox):
    sandbox.write("runs/a/summary.json", json.dumps(SUMMARY))
    sandbox.write("runs/a/config.yaml", "spec: {input: [1, 16, 16], classes: 10}\nrun: {seed: -3}\n")
    sandbox.run("tradeoff", "runs/a", "--out-dir", ".", code=0, may_write=("tradeoff.",))
    rows = json.loads((sandbox.root / "tradeoff.json").read_text())["runs"]
    assert rows[0]["input"] == "16x16"


def test_dollars_in_the_device_and_the_title_plot(sandbox):
    """Every text matplotlib draws is escaped for its math mode: the footer's device names and the title too."""
    from inceptcost.study.results import read_run
    from inceptcost.study.tradeoff import frontier, points
    from inceptcost.study.tradeoff_plot import plot

    sandbox.write("runs/a/summary.json", json.dumps({**SUMMARY, "device": "gpu $x^$", "finished": "$a_$"}))
    pts = points([read_run(sandbox.root / "runs/a")])
    files = plot(pts, frontier(pts), "cost $x^$", "plan $x^$: best top-1", True)
    assert files["png"].startswith(b"\x89PNG") and b"plan $x^$" in files["svg"]


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


KEY = {"spec_sha256": "ab", "input": [1, 16, 16], "classes": 10, "batch": 8, "device": "cpu", "threads": 1}
CACHED = {**KEY, "ms_per_image": 2.0, "min": 1.5, "max": 2.5}

CACHES: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"{ms_per_image: fast", "cannot read bench cache"),
    "empty": (b"", "cannot read bench cache"),
    "a list": (json.dumps([CACHED]).encode(), "not a JSON object (it holds a list)"),
    "a number": (b"3", "not a JSON object"),
    "time text": (json.dumps({**CACHED, "ms_per_image": "fast"}).encode(), "ms_per_image: must be a number"),
    "time missing": (json.dumps({**KEY, "min": 1.0, "max": 2.0}).encode(), "ms_per_image: must be a number"),
    "time NaN": (json.dumps({**CACHED, "min": float("nan")}).encode(), "NaN is not a number"),
    "time 1e999": (json.dumps(CACHED).replace("2.5", "1e999").encode(), "beyond a float's range"),
    "time zero": (json.dumps({**CACHED, "min": 0}).encode(), "min: must be above 0"),
    "time negative": (json.dumps({**CACHED, "max": -1}).encode(), "max: must be a finite number"),
    "time true": (json.dumps({**CACHED, "max": True}).encode(), "max: must be a number"),
    "median outside": (json.dumps({**CACHED, "ms_per_image": 9.0}).encode(), "ms_per_image: the median time"),
    "huge": (b" " * ((1 << 20) + 1) + b"{}", "larger than"),
}


@pytest.mark.parametrize("case", list(CACHES), ids=list(CACHES))
def test_hostile_bench_caches(tmp_path, case):
    """The study's bench/SPEC.json: one line naming the file and the field, and how to get a fresh one."""
    from inceptcost.errors import InceptcostError
    from inceptcost.study.timing import read_cache

    content, words = CACHES[case]
    cache = tmp_path / "tiny.json"
    cache.write_bytes(content)
    with pytest.raises(InceptcostError) as err:
        read_cache(cache, KEY)
    line = str(err.value)
    assert words in line and str(cache) in line and "time the spec again" in line, line


def test_a_bench_cache_of_other_settings_is_timed_again_and_a_valid_one_used(tmp_path):
    from inceptcost.study.timing import read_cache

    cache = tmp_path / "tiny.json"
    assert read_cache(cache, KEY) is None  # none yet
    cache.write_text(json.dumps({**CACHED, "batch": 16}))
    assert read_cache(cache, KEY) is None
    cache.write_text(json.dumps(CACHED))
    assert read_cache(cache, KEY)["ms_per_image"] == 2.0


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_bench_cache_that_is_no_file_never_blocks_or_is_written_into(tmp_path, kind):
    from inceptcost import load_spec
    from inceptcost.errors import InceptcostError
    from inceptcost.study.timing import timed

    from .conftest import TINY

    spec_file = tmp_path / "tiny.yaml"
    spec_file.write_text(TINY)
    (tmp_path / "bench").mkdir()
    cache = tmp_path / "bench" / "tiny.json"
    os.mkfifo(cache) if kind == "fifo" else cache.mkdir()
    with pytest.raises(InceptcostError, match="tiny.json"):
        timed(load_spec(spec_file), spec_file, 8, "cpu", tmp_path, 1)
