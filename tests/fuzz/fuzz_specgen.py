"""Hypothesis strategies for inceptcost specs, and the checks every CLI run must pass.

`valid_specs()` draws specs as plain dicts (what `yaml.safe_dump` writes), tracking the feature-map shape while
it draws so that every spec compiles: stems of convs and pools (any kernel incl. 1xn/nx1, strides, padding,
ceil mode, groups, `reduce`/`multiplier` sugar), Table 1 rows (all spellings of the columns, naive modules,
zero-width branches, factorized kernels), the general `parallel` form (grid reductions where every branch has
the same total stride), residual blocks (identity or strided projection shortcuts, scales, standalone bn and
activations, separable convs), heads (gap, adaptive pool, flatten) and aux heads. The shape arithmetic here restates
PyTorch's documented output-size rule; the torch model is the oracle the tests compare against.

`mutations()` turns a valid spec into one that must fail (`must_fail=True`) or may pass.
"""

from __future__ import annotations

import copy
import gc
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

COUNTS: Counter[str] = Counter()  # examples tried per kind; printed at the end of the session (conftest)


def examples(n: int) -> int:
    """Examples per test: `n` in the ci and dev profiles, 25n in the long one (HYPOTHESIS_PROFILE=long)."""
    return n * (25 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 1)


# ---- shapes (PyTorch's rule for conv/pool output sizes) ----


def out_len(size: int, k: int, s: int, p: int, ceil: bool = False) -> int:
    span = size + 2 * p - k
    if span < 0:
        return 0
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= size + p:  # the last window must start inside the input or the left padding
        out -= 1
    return out


def _kernel_text(draw, kh: int, kw: int) -> Any:
    if kh == kw:
        return draw(st.sampled_from([kh, f"{kh}x{kh}", [kh, kh], f"{kh} x {kh}"]))
    return draw(st.sampled_from([f"{kh}x{kw}", [kh, kw], f"{kh}×{kw}"]))


def _pair_text(draw, a: int, b: int) -> Any:
    if a == b:
        return draw(st.sampled_from([a, f"{a}x{a}", [a, a]]))
    return draw(st.sampled_from([f"{a}x{b}", [a, b]]))


class Namer:
    """Explicit, unique layer names that cannot clash with the defaults (`conv1`) or torch attributes."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, draw) -> str:
        self.n += 1
        suffix = draw(st.text("abcxyz019_-", max_size=4))
        return f"L{self.n}x{suffix}"  # the 'x' ends the number: L1x0 and L10x never meet


def _conv_options(draw) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if draw(st.booleans()):
        opts["norm"] = draw(st.sampled_from(["none", "bn", "lrn"]))
        if opts["norm"] == "lrn" and draw(st.booleans()):
            opts["size"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        opts["activation"] = draw(st.sampled_from(["relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "none"]))
    if draw(st.booleans()):
        opts["bias"] = draw(st.booleans())
    return opts


@st.composite
def conv_layer(draw, shape: tuple[int, ...], free: bool = True, stride: int = 1) -> tuple[dict, tuple]:
    """A conv (maybe with `reduce` or `multiplier` sugar). `free`: any kernel/stride/padding; otherwise an odd
    kernel with 'same' padding and the given stride, so that parallel branches keep matching sizes."""
    c, h, w = shape
    layer: dict[str, Any] = {"type": draw(st.sampled_from(["conv", "conv", "conv", "convolution", "Conv"]))}
    kh = draw(st.sampled_from([1, 1, 3, 3, 5, 7] + ([2, 4] if free else [])))
    kw = draw(st.one_of(st.just(kh), st.sampled_from([1, 3, 5, 7])))
    if free:
        sh = draw(st.integers(1, 3))
        sw = draw(st.one_of(st.just(sh), st.integers(1, 3)))
        mode = draw(st.sampled_from(["same", "valid", "num", "hw", "default"]))
        if mode in ("same", "default") and (kh % 2 == 0 or kw % 2 == 0):
            mode = "valid"
    else:
        sh = sw = stride
        mode = draw(st.sampled_from(["same", "default", "numsame"]))
    if mode in ("same", "default", "numsame"):
        ph, pw = (kh - 1) // 2, (kw - 1) // 2
    elif mode == "valid":
        ph = pw = 0
    elif mode == "num":
        ph = pw = draw(st.integers(0, 3))
    else:
        ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    oh, ow = out_len(h, kh, sh, ph), out_len(w, kw, sw, pw)
    if oh < 1 or ow < 1:  # would collapse: fall back to a 1x1 conv, valid everywhere
        kh = kw = sh = sw = 1
        ph = pw = 0
        mode, oh, ow = "valid", h, w
    if mode == "same":
        layer["padding"] = "same"
    elif mode == "valid":
        layer["padding"] = draw(st.sampled_from(["valid", 0, "0x0"]))
    elif mode in ("num", "hw", "numsame"):
        layer["padding"] = _pair_text(draw, ph, pw)
    if sh == sw and draw(st.booleans()):
        layer["patch"] = f"{kh}x{kw}/{sh}" if (sh > 1 or draw(st.booleans())) else f"{kh}x{kw}"
    else:
        layer["kernel"] = _kernel_text(draw, kh, kw)
        if (sh, sw) != (1, 1) or draw(st.booleans()):
            layer["stride"] = _pair_text(draw, sh, sw)
    sugar = draw(st.sampled_from(["plain", "plain", "plain", "reduce", "multiplier"]))
    cin = c
    if sugar == "reduce":
        g = draw(st.sampled_from([1, 1, 2]))
        layer["reduce"] = cin = g * draw(st.integers(1, 4))
    elif sugar == "multiplier":
        g = 1
        layer["multiplier"] = draw(st.integers(1, 3))
    else:
        g = draw(st.sampled_from([d for d in (1, 1, 2, 3, 4) if cin % d == 0]))
    if g > 1:
        layer["groups"] = g
    out = g * draw(st.integers(1, max(1, 12 // g)))
    layer["out"] = out
    layer.update(_conv_options(draw))
    return layer, (out, oh, ow)


@st.composite
def pool_layer(draw, shape: tuple[int, ...], free: bool = True, stride: int = 1) -> tuple[dict, tuple]:
    c, h, w = shape
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    layer: dict[str, Any] = {"type": kind}
    if free:
        kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
        default_stride = draw(st.booleans())
        sh, sw = (kh, kw) if default_stride else (draw(st.integers(1, 3)),) * 2
        ceil = draw(st.booleans())
    else:
        kh = draw(st.sampled_from([1, 3, 5]))
        kw = draw(st.one_of(st.just(kh), st.sampled_from([1, 3])))
        ph, pw = kh // 2, kw // 2
        default_stride, sh, sw = False, stride, stride
        ceil = stride == 1 and draw(st.booleans())  # ceil with stride 1 changes nothing
    oh, ow = out_len(h, kh, sh, ph, ceil), out_len(w, kw, sw, pw, ceil)
    if oh < 1 or ow < 1:
        kh = kw = sh = sw = 1
        ph = pw = 0
        default_stride, oh, ow = False, h, w
    if not default_stride and sh == sw and kh == kw and draw(st.booleans()):
        layer["patch"] = f"{kh}x{kw}/{sh}"
    else:
        layer["kernel"] = _kernel_text(draw, kh, kw)
        if not default_stride:
            layer["stride"] = _pair_text(draw, sh, sw)
    if (ph, pw) != (0, 0) or draw(st.booleans()):
        layer["padding"] = _pair_text(draw, ph, pw)
    if ceil or draw(st.booleans()):
        layer["ceil"] = ceil
    if kind == "avgpool" and draw(st.booleans()):
        layer["count_pad"] = draw(st.booleans())
    return layer, (c, oh, ow)


@st.composite
def plain_layer(draw, shape: tuple[int, ...]) -> tuple[dict, tuple]:
    """LRN or dropout: the shape passes through."""
    if draw(st.booleans()):
        layer: dict[str, Any] = {"type": "lrn"}
        if draw(st.booleans()):
            layer["size"] = draw(st.integers(1, 5))
        if draw(st.booleans()):
            layer["alpha"] = draw(st.sampled_from([1e-4, 0.001, 1]))
        return layer, shape
    return {"type": "dropout", "p": draw(st.sampled_from([0, 0.0, 0.2, 0.4, 0.7, 0.99]))}, shape


@st.composite
def stem_layer(draw, shape: tuple[int, ...]) -> tuple[dict, tuple]:
    which = draw(st.sampled_from(["conv", "conv", "pool", "plain"]))
    if which == "conv":
        return draw(conv_layer(shape))
    if which == "pool":
        return draw(pool_layer(shape))
    return draw(plain_layer(shape))


_SPELLINGS = {
    "1x1": ["1x1", "#1x1", "1×1"],
    "3x3reduce": ["3x3reduce", "#3x3 reduce", "3x3_reduce", "3x3red", "# 3x3 reduce"],
    "3x3": ["3x3", "#3x3"],
    "5x5reduce": ["5x5reduce", "#5x5 reduce", "5x5 reduce", "5x5red"],
    "5x5": ["5x5", "#5x5"],
    "poolproj": ["poolproj", "pool proj", "pool_proj", "proj", "Pool Proj"],
}


@st.composite
def inception_row(draw, shape: tuple[int, ...]) -> tuple[dict, tuple]:
    """Table 1's row form, keeping the spatial size."""
    c, h, w = shape
    naive = draw(st.integers(0, 5)) == 0
    width = st.integers(0, 8)
    cols = {"1x1": draw(width)}
    for k in ("3x3", "5x5"):
        cols[k] = draw(width)
        cols[f"{k}reduce"] = 0 if naive or not cols[k] else draw(st.integers(1, 8))
    cols["poolproj"] = 0 if naive else draw(width)
    if not naive and not any(cols.values()):
        cols["1x1"] = 1
    row: dict[str, Any] = {"type": "inception"}
    for col, value in cols.items():
        if naive and col in ("3x3reduce", "5x5reduce", "poolproj") and draw(st.booleans()):
            continue  # a naive module may leave these out
        row[draw(st.sampled_from(_SPELLINGS[col]))] = value
    if naive:
        row["naive"] = True
    if draw(st.booleans()):
        row["pool"] = draw(st.sampled_from(["max", "avg"]))
    for opt in ("kernel_3x3", "kernel_5x5"):
        if draw(st.integers(0, 3)) == 0:
            kh, kw = draw(st.sampled_from([(1, 1), (3, 3), (1, 3), (3, 1), (5, 5), (1, 7), (7, 1)]))
            row[opt] = _kernel_text(draw, kh, kw)
    row.update(_conv_options(draw))
    row.pop("size", None)  # the row form takes no LRN size
    out = cols["1x1"] + cols["3x3"] + cols["5x5"] + (c if naive else cols["poolproj"])
    return row, (out, h, w)


@st.composite
def parallel_row(draw, shape: tuple[int, ...]) -> tuple[dict, tuple]:
    """The general form: named branches, all with the same total stride so that they concatenate."""
    c, h, w = shape
    stride = draw(st.sampled_from([1, 1, 2]))
    branches: dict[str, list] = {}
    channels = 0
    out_h, out_w = out_len(h, 1, stride, 0), out_len(w, 1, stride, 0)
    for i in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 3))
        strided = draw(st.integers(0, n - 1)) if stride > 1 else -1
        cur: tuple = shape
        layers = []
        for j in range(n):
            s = stride if j == strided else 1
            which = draw(st.sampled_from(["conv", "conv", "pool", "plain"]))
            if which == "plain" and s > 1:
                which = "conv"
            if which == "conv":
                layer, cur = draw(conv_layer(cur, free=False, stride=s))
            elif which == "pool":
                layer, cur = draw(pool_layer(cur, free=False, stride=s))
            else:
                layer, cur = draw(plain_layer(cur))
            layers.append(layer)
        assert cur[1:] == (out_h, out_w), (cur, out_h, out_w)
        branches[draw(st.sampled_from([f"b{i}", f"branch_{i}", f"B{i}x"]))] = layers
        channels += cur[0]
    kind = draw(st.sampled_from(["parallel", "parallel", "module"]))
    return {"type": kind, "branches": branches}, (channels, out_h, out_w)


@st.composite
def residual_row(draw, shape: tuple[int, ...]) -> tuple[dict, tuple]:
    """A residual block: a body that keeps the grid (or halves it, with a strided 1x1 projection on the
    shortcut), standalone bn / activation layers and separable convs in it, an optional scale and activation."""
    c, h, w = shape
    stride = draw(st.sampled_from([1, 1, 2]))
    body: list[dict] = []
    cur: tuple = shape
    for j in range(draw(st.integers(1, 3))):
        which = draw(st.sampled_from(["conv", "separable", "bn", "act", "parallel"]))
        if which == "conv":
            layer, cur = draw(conv_layer(cur, free=False, stride=stride if j == 0 else 1))
        elif which == "separable":
            layer, cur = draw(conv_layer(cur, free=False, stride=stride if j == 0 else 1))
            for key in ("reduce", "multiplier", "groups"):
                layer.pop(key, None)
            layer["type"] = "separable"
            if draw(st.booleans()):
                layer["between"] = draw(st.booleans())
            cur = (layer["out"], *cur[1:])
        elif which == "bn":
            layer = {"type": draw(st.sampled_from(["bn", "batchnorm"]))}
            if draw(st.booleans()):
                layer["eps"] = draw(st.sampled_from([1e-3, 1e-5]))
        elif which == "act":
            layer = {"type": draw(st.sampled_from(["relu", "relu6", "gelu", "silu", "sigmoid", "tanh"]))}
        else:
            layer, cur = draw(parallel_row(cur))
        body.append(layer)
    shortcut: Any = "identity"
    stride = 1 if cur[1:] == shape[1:] else 2  # a strided conv or module halves the grid as a 1x1/2 conv does
    if stride > 1 and cur[1:] != ((h - 1) // 2 + 1, (w - 1) // 2 + 1):
        # A valid-padded or pooled body can end one row short of what a 1x1/2 projection gives (11 px -> 5 vs 6):
        # no shortcut fits, so the layers stand as a plain sequence.
        return {"type": "sequence", "layers": body}, cur
    if stride > 1 or draw(st.integers(0, 3)) == 0:
        shortcut = [{"type": "conv", "patch": f"1x1/{stride}", "out": cur[0], "activation": "none"}]
        if draw(st.booleans()):
            shortcut.append({"type": "bn"})
    else:  # the last layer gives the input's width back: a 1x1 conv, as Inception-ResNet's "Linear" one
        closing = {"type": "conv", "kernel": 1, "out": c, "activation": "none"}
        if draw(st.booleans()):
            closing.update(bias=True, norm="none")
        body.append(closing)
        cur = (c, *cur[1:])
    row: dict[str, Any] = {"type": "residual", "body": body if len(body) > 1 or draw(st.booleans()) else body[0]}
    if shortcut != "identity" or draw(st.booleans()):
        row["shortcut"] = shortcut
    if draw(st.booleans()):
        row["scale"] = draw(st.sampled_from([0.1, 0.17, 1, 2.5, 1e-1]))
    if draw(st.booleans()):
        row["activation"] = draw(st.sampled_from(["relu", "none", "gelu"]))
    return row, cur


@st.composite
def head(draw, shape: tuple[int, ...], classes: int | None, namer: Namer) -> list[dict]:
    c, h, w = shape
    form = draw(st.sampled_from(["gap", "gap", "adaptive", "flatten"]))
    if form == "flatten" and c * h * w > 2048:
        form = "gap"
    rows: list[dict] = []
    if form == "gap":
        rows.append({"type": draw(st.sampled_from(["gap", "adaptive_avgpool"]))})
    elif form == "adaptive":
        oh, ow = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        rows.append({"type": "adaptive_avgpool", "output": _pair_text(draw, oh, ow)})
    else:
        rows.append({"type": "flatten"})
    if draw(st.booleans()):
        rows.append({"type": "dropout", "p": draw(st.sampled_from([0.2, 0.4, 0.7]))})
    if draw(st.booleans()):
        rows.append(
            {"type": "linear", "out": draw(st.integers(1, 16)), "activation": draw(st.sampled_from(["relu", "none"]))}
        )
    last: dict[str, Any] = {"type": draw(st.sampled_from(["linear", "fc"]))}
    if classes is not None and draw(st.booleans()):
        last["out"] = classes
    if draw(st.booleans()):
        last["bias"] = draw(st.booleans())
    rows.append(last)
    for r in rows:
        if draw(st.booleans()):
            r["name"] = namer(draw)
    return rows


@st.composite
def aux_head(draw, at: str, shape: tuple[int, ...], namer: Namer) -> dict:
    c, h, w = shape
    layers: list[dict] = []
    if h >= 5 and w >= 5 and draw(st.booleans()):
        layers.append({"name": "pool", "type": "avgpool", "patch": "5x5/3"})
    else:
        layers.append({"name": "pool", "type": "adaptive_avgpool", "output": draw(st.integers(1, 3))})
    layers.append({"name": "conv", "type": "conv", "kernel": 1, "out": draw(st.integers(1, 8))})
    layers.append({"name": "fc", "type": "linear", "out": draw(st.integers(1, 16)), "activation": "relu"})
    layers.append({"name": "dropout", "type": "dropout", "p": 0.7})
    layers.append({"name": "linear", "type": "linear"})
    out: dict[str, Any] = {"name": namer(draw), "at": at, "layers": layers}
    if draw(st.booleans()):
        out["weight"] = draw(st.sampled_from([0.3, 1, 0.05]))
    return out


@dataclass
class Generated:
    data: dict  # the spec, as YAML would hold it
    out_shape: tuple[int, ...]  # what the generator expects at the end (classes,)

    def yaml(self, flow: bool = False) -> str:
        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, default_flow_style=flow)


@st.composite
def valid_specs(draw, max_modules: int = 3) -> Generated:
    namer = Namer()
    h, w, c = draw(st.integers(4, 40)), draw(st.integers(4, 40)), draw(st.integers(1, 4))
    data: dict[str, Any] = {"name": draw(st.sampled_from(["fuzz", "fuzz-net", "a b"]))}
    data["input"] = draw(st.sampled_from([f"{h}x{w}x{c}", [h, w, c], f"{h} x {w} x {c}"]))
    classes = draw(st.one_of(st.none(), st.integers(1, 10)))
    if classes is not None:
        data["classes"] = classes
    if draw(st.booleans()):
        data["budget"] = {"macs": draw(st.sampled_from(["1.5G", "100M", 1000, "2.5k", 1e9]))}
    if draw(st.booleans()):
        d: dict[str, Any] = {}
        for key, options in (
            ("activation", ["relu", "gelu", "none"]),
            ("bias", [True, False]),
            ("norm", ["none", "bn", "lrn"]),
            ("eps", [1e-3, 1e-5]),
        ):
            if draw(st.booleans()):
                d[key] = draw(st.sampled_from(options))
        data["defaults"] = d
    shape: tuple[int, ...] = (c, h, w)
    rows: list[dict] = []
    tappable: list[tuple[str, tuple]] = []

    def add(row: dict, new_shape: tuple, named: bool | None = None) -> None:
        if named if named is not None else draw(st.integers(0, 9)) < 7:
            row["name"] = namer(draw)
            if len(new_shape) == 3:
                tappable.append((row["name"], new_shape))
        if draw(st.integers(0, 9)) == 0:
            row["paper"] = {"params": "2.7K", "ops": "34M", "output": f"{new_shape[1]}x{new_shape[2]}x{new_shape[0]}"}
        rows.append(row)

    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 5)) == 0:  # a nested sequence row
            inner, s = [], shape
            for _ in range(draw(st.integers(1, 3))):
                layer, s = draw(stem_layer(s))
                inner.append(layer)
            add({"type": "sequence", "layers": inner}, s)
            shape = s
        else:
            layer, shape = draw(stem_layer(shape))
            add(layer, shape)
    for _ in range(draw(st.integers(0, max_modules))):
        form = draw(st.sampled_from(["inception", "parallel", "residual"]))
        if form == "inception":
            row, shape = draw(inception_row(shape))
        elif form == "parallel":
            row, shape = draw(parallel_row(shape))
        else:
            row, shape = draw(residual_row(shape))
        add(row, shape)
        if draw(st.integers(0, 3)) == 0:
            layer, shape = draw(pool_layer(shape))
            add(layer, shape)
    for row in draw(head(shape, classes, namer)):
        rows.append(row)
    data["layers"] = rows
    if tappable and draw(st.booleans()):
        picks = draw(st.lists(st.sampled_from(tappable), min_size=1, max_size=2))
        data["aux"] = [draw(aux_head(at, s, namer)) for at, s in picks]
    return Generated(data, (classes or 1000,))


# ---- mutations: valid -> invalid (or maybe still valid) ----

ALL_KEYS = {
    *("name", "title", "reference", "notes", "input", "classes", "budget", "defaults", "layers", "aux"),
    *("type", "paper", "label", "out", "kernel", "stride", "padding", "groups", "bias", "norm", "activation"),
    *("eps", "size", "alpha", "beta", "k", "patch", "reduce", "multiplier", "ceil", "count_pad", "output", "p"),
    *("pool", "naive", "kernel_3x3", "kernel_5x5", "branches", "at", "weight", "layers", "macs", "params", "ops"),
    *("note", "1x1", "3x3reduce", "3x3", "5x5reduce", "5x5", "poolproj", "proj", "pool_proj", "3x3red", "5x5red"),
    *("body", "shortcut", "scale", "between", "claims", "claim", "measure", "value", "source", "compare", "versus"),
}
TYPO_KEYS = ["kernal", "strid", "poolprj", "outt", "Input", "layer", "activaton", "biass", "3x3reduc", "paddng"]
TYPO_KEYS += ["bdoy", "shortcat", "scael", "betwen"]
BAD_INTS = [0, -1, -(10**9), 1.5, "abc", True, 10**13, None, [1], {"a": 1}, "", "1e3", 2.0]
BAD_KERNELS = [0, -3, 1.5, "3x", "x3", "3x3x3", [1, 2, 3], True, 10**13, "0x3", [], "3/2", None]
BAD_FLOATS = [-0.1, 1.0, "x", True, 2, None, float("inf"), float("nan")]
BAD_WORDS = ["convv", "pool", "", 3, None, ["conv"], "max pool", "Linearr"]


@dataclass
class Mutation:
    what: str
    data: dict
    must_fail: bool


def _mappings(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """Every mapping inside the spec with its path (keys and list indexes)."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _mappings(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _mappings(v, (*path, i))


def _layers(data: dict) -> list[tuple[tuple, dict]]:
    """Mappings that are layers (they have a 'type'), not the spec, a paper block or a branches mapping."""
    return [(p, m) for p, m in _mappings(data) if "type" in m and isinstance(m.get("type"), str)]


@st.composite
def mutations(draw, gen: Generated) -> Mutation:
    data = copy.deepcopy(gen.data)
    layers = _layers(data)
    kind = draw(
        st.sampled_from(
            [
                "unknown_key",
                "drop_required",
                "bad_int",
                "bad_kernel",
                "bad_float",
                "bad_word",
                "duplicate_name",
                "aux_unknown",
                "collapse",
                "after_head",
                "drop_head",
                "even_same",
                "bad_container",
                "bad_input",
                "maybe_number",
                "maybe_drop",
                "maybe_swap",
            ]
        )
    )
    maps = [(p, m) for p, m in _mappings(data) if not (p and p[-1] == "branches")]
    if kind == "unknown_key":
        path, m = draw(st.sampled_from(maps))
        key = draw(st.sampled_from(TYPO_KEYS))
        m[key] = 1
        return Mutation(f"unknown key {key!r} at {path}", data, True)
    if kind == "drop_required":
        choices: list[tuple[dict, str]] = [(data, "input"), (data, "layers")]
        for _, m in layers:
            t = m["type"].lower()
            choices.append((m, "type"))
            if t in ("conv", "convolution") and "out" in m:
                choices.append((m, "out"))
            if t in ("conv", "convolution", "maxpool", "avgpool") and "kernel" in m:
                choices.append((m, "kernel"))
            if t == "dropout":
                choices.append((m, "p"))
            if t == "inception":
                from inceptcost.spec import normalize_column

                needed = (
                    ("1x1", "3x3", "5x5")
                    if m.get("naive")
                    else ("1x1", "3x3reduce", "3x3", "5x5reduce", "5x5", "poolproj")
                )
                choices += [(m, k) for k in m if normalize_column(k) in needed]
        for head_ in data.get("aux", []):
            choices.append((head_, "at"))
        m, key = draw(st.sampled_from(choices))
        del m[key]
        return Mutation(f"drop required {key!r}", data, True)
    if kind in ("bad_int", "bad_kernel", "bad_float", "bad_word"):
        keys = {
            "bad_int": ("out", "groups", "reduce", "multiplier", "classes", "size"),
            "bad_kernel": ("kernel", "stride", "kernel_3x3", "kernel_5x5", "output", "patch"),
            "bad_float": ("p", "eps", "weight", "alpha"),
            "bad_word": ("type", "activation", "norm", "pool", "padding", "bias", "ceil", "naive"),
        }[kind]
        spots = [(m, k) for p, m in _mappings(data) if not p or p[-1] != "paper" for k in m if k in keys]
        if not spots:
            data["classes"] = draw(st.sampled_from(BAD_INTS))
            return Mutation("bad classes", data, True)
        m, key = draw(st.sampled_from(spots))
        pool = {"bad_int": BAD_INTS, "bad_kernel": BAD_KERNELS, "bad_float": BAD_FLOATS, "bad_word": BAD_WORDS}[kind]
        if key != "p" and kind == "bad_float":
            pool = [0, -0.1, "x", True, None, float("inf"), float("nan")]  # 1.0 is a fine eps or weight
        if key == "patch":
            pool = [v for v in pool if v != "3/2"]  # a 3x3 patch with stride 2
        value = draw(st.sampled_from(pool))
        if key in ("bias", "ceil", "naive") and (isinstance(value, bool) or value is None):
            value = "yes"  # null bias means the spec's default
        if key == "padding" and value in (3, None):
            value = "full"
        if key in ("activation", "norm") and value is None:
            value = "relux"  # null means 'none' there
        if key == "stride" and value is None:
            value = "fast"  # a pool's stride may be null (= the kernel)
        if key == "patch" and isinstance(value, list):
            value = "7x7/0"
        m[key] = value
        return Mutation(f"{key} = {value!r}", data, True)
    if kind == "duplicate_name":
        lists = []  # lists of two or more mappings: layers, branches, aux heads
        for _p, m in _mappings(data):
            for v in m.values():
                if isinstance(v, list) and len(v) >= 2 and all(isinstance(x, dict) for x in v):
                    lists.append(v)
        if not lists:
            data["layers"].append(copy.deepcopy(data["layers"][-1]))
            data["layers"][-1]["name"] = data["layers"][-2]["name"] = "dup"
            return Mutation("duplicate name at the end", data, True)
        items = draw(st.sampled_from(lists))
        i, j = draw(st.sampled_from([(a, b) for a in range(len(items)) for b in range(len(items)) if a < b]))
        items[i]["name"] = items[j]["name"] = "twin"
        return Mutation("duplicate layer name", data, True)
    if kind == "aux_unknown":
        data.setdefault("aux", []).append(
            {
                "name": "auxz",
                "at": draw(st.sampled_from(["nowhere", "input", ["a"], 3, None])),
                "layers": [{"type": "linear"}],
            }
        )
        return Mutation("aux head at an unknown layer", data, True)
    if kind == "collapse":
        t = draw(st.sampled_from(["maxpool", "avgpool", "conv"]))
        layer = {"type": t, "kernel": 1000, "padding": 0, **({"out": 2} if t == "conv" else {})}
        data["layers"].insert(draw(st.integers(0, 0)), layer)
        return Mutation("spatial collapse", data, True)
    if kind == "after_head":
        data["layers"].append({"type": "conv", "kernel": 1, "out": 2})
        return Mutation("conv after the classifier", data, True)
    if kind == "drop_head":
        data["layers"].pop()
        # once flat (flatten, linear), the net stays flat and ends in a vector: still a valid spec
        still_flat = any(r.get("type") in ("linear", "fc", "flatten") for r in data["layers"])
        return Mutation("no classifier", data, not still_flat)
    if kind == "even_same":
        data["layers"].insert(0, {"type": "conv", "kernel": draw(st.sampled_from([2, 4, "2x3"])), "out": 2})
        return Mutation("even kernel with 'same' padding", data, True)
    if kind == "bad_container":
        target = draw(st.sampled_from(["layers", "layer_item", "aux", "budget", "defaults", "branches"]))
        bad = draw(st.sampled_from([{"a": 1}, "text", 3, [], None, [1, 2]]))
        if target == "layers" or (target == "branches" and not any("branches" in m for _, m in layers)):
            data["layers"] = bad if not isinstance(bad, list) or not bad else [bad]
        elif target == "layer_item":
            i = draw(st.integers(0, len(data["layers"]) - 1))
            data["layers"][i] = draw(st.sampled_from([[1], "conv", 3, None, []]))
        elif target == "branches":
            m = next(m for _, m in layers if "branches" in m)
            m["branches"] = draw(st.sampled_from([[], "b", {}, {"b1": []}, {"b1": "conv"}, {"b-1.2": []}]))
        else:
            data[target] = draw(st.sampled_from(["text", 3, [1], {"zz": 1}]))
        return Mutation(f"bad {target}", data, True)
    if kind == "bad_input":
        data["input"] = draw(
            st.sampled_from(["224x224", "0x10x3", "axbxc", [0, 1, 1], "", None, -3, "1e3x2x2", [1.5, 2, 3]])
        )
        return Mutation(f"input = {data['input']!r}", data, True)
    # may still be valid
    if kind == "maybe_number":
        spots = [
            (m, k) for _, m in _mappings(data) for k, v in m.items() if isinstance(v, int) and not isinstance(v, bool)
        ]
        if spots:
            m, key = draw(st.sampled_from(spots))
            m[key] = draw(st.sampled_from([0, 1, 2, 3, 7, 64, 10**12, m[key] + 1]))
        return Mutation("change a number", data, False)
    if kind == "maybe_drop":
        spots = [(m, k) for _, m in _mappings(data) for k in m]
        m, key = draw(st.sampled_from(spots))
        del m[key]
        return Mutation(f"drop {key!r}", data, False)
    rows = data["layers"]
    if len(rows) >= 2:
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows) - 1))
        rows[i], rows[j] = rows[j], rows[i]
    return Mutation("swap two rows", data, False)


# ---- text mutations (YAML level) ----

YAML_CHARS = list(":-[]{}&*!|>'\"#%@`\t\n ,?") + ["\\", "\u00e9", "\u2028", "- ", ": ", "  ", "&a ", "*a", "!!int "]


@st.composite
def text_mutations(draw, text: str) -> str:
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["insert", "delete", "dup_line", "del_line", "indent", "truncate", "swap"]))
        text = "\n".join(lines)
        if op == "insert":
            pos = draw(st.integers(0, len(text)))
            text = text[:pos] + draw(st.sampled_from(YAML_CHARS)) + text[pos:]
        elif op == "delete" and text:
            pos = draw(st.integers(0, len(text) - 1))
            text = text[:pos] + text[pos + draw(st.integers(1, 5)) :]
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        lines = text.split("\n")
        if op in ("dup_line", "del_line", "indent", "swap") and lines:
            i = draw(st.integers(0, len(lines) - 1))
            if op == "dup_line":
                lines.insert(i, lines[i])
            elif op == "del_line":
                del lines[i]
            elif op == "indent":
                lines[i] = draw(st.sampled_from([" ", "  ", "\t", "    "])) + lines[i]
            else:
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


# ---- running the CLI and checking what it says ----


class Hang(Exception):
    """A command that ran past the wall-clock guard."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail (rather than hang the suite) when the body runs longer than `seconds` (main thread, POSIX)."""

    def fire(signum, frame):
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float  # CPU seconds of the command, unaffected by other jobs on a busy CI machine
    exception: BaseException | None
    wall: float = 0.0


def run_cli(args: list[str], limit: float = 10.0) -> Run:
    """Invoke the CLI in-process; a run past `limit` wall seconds fails as a hang instead of blocking."""
    from typer.testing import CliRunner

    from inceptcost.cli import app

    # CPU time of this thread with the cyclic GC paused: the command's own work, not torch's spinning OpenMP
    # workers or a full collection of the test session's heap (both seen to add a second on long runs)
    gc.disable()
    try:
        start, cpu = time.perf_counter(), time.thread_time()
        with time_limit(limit):
            result = CliRunner().invoke(app, args)
        seconds, wall = time.thread_time() - cpu, time.perf_counter() - start
    finally:
        gc.enable()
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return Run(result.exit_code, result.stdout, result.stderr, seconds, exc, wall)


def assert_clean_error(run: Run, spec: Path | str, *, line: bool = True, what: str = "") -> str:
    """Exit 2, exactly one line on stderr, no traceback, naming the file (and line), with a hint."""
    context = f"{what}\nstdout: {run.stdout[-500:]}\nstderr: {run.stderr[-2000:]}"
    assert run.exception is None, f"crashed with {type(run.exception).__name__}: {run.exception}\n{context}"
    assert run.code == 2, f"exit {run.code}, expected 2\n{context}"
    assert "Traceback" not in run.stderr + run.stdout, context
    lines = run.stderr.strip("\n").split("\n")
    assert len(lines) == 1, f"{len(lines)} lines on stderr\n{context}"
    msg = lines[0]
    assert msg.startswith("error: "), context
    name = str(spec)
    assert name in msg, f"the message does not name {name}\n{context}"
    if line:
        assert f"{name}:" in msg and msg.split(f"{name}:", 1)[1][:1].isdigit(), f"no file:line\n{context}"
    assert "; " in msg or "expected" in msg, f"no hint\n{context}"
    return msg
