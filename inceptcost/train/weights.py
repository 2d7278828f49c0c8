"""`--weights FILE`: our own checkpoints, or a torchvision/timm state dict of a model that a spec mirrors.

A file is read with `torch.load(weights_only=True)`, so it cannot run code. Its tensors are matched to the
model's by name: as they are, or through a name map of `names` (the first map under which every tensor of
the model is found). Every problem is one WeightsError line: a missing, corrupt or hostile file, a tensor
the model lacks or the file lacks (named, the first one), or a shape that differs (both shapes given); a
classifier of another size names every tensor of it and the fix (`train --reset-head`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from . import names
from .checkpoint import MAGIC, MAX_BYTES, load_checkpoint, size_limit, tensor_problem


def read_state_dict(path: str | Path, limit: int = MAX_BYTES) -> dict[str, torch.Tensor]:
    """The tensors of a weights file: our training checkpoint's model, or a plain (possibly wrapped) state dict;
    a file over `limit` bytes (see checkpoint.size_limit) is refused before it is read."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError("no weights file here" if not path.exists() else "not a file", file=str(path))
    size = path.stat().st_size
    if size > limit:
        raise WeightsError(
            f"{size:,} bytes, more than the weights of this model can take ({limit:,} bytes at most)",
            file=str(path),
            hint="give the weights of the model this spec mirrors",
        )
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
    if head == MAGIC:
        state: Any = load_checkpoint(path, limit=limit).get("model")
    else:
        try:
            with warnings.catch_warnings():  # a pickle protocol note from the safe unpickler: the error says more
                warnings.simplefilter("ignore", UserWarning)
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types here; every one means "not loadable as plain tensors"
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            banned = next((ln for ln in lines if "GLOBAL" in ln), None)
            if banned:  # a pickle that would import and call something: never run, say what it wanted
                raise WeightsError(
                    f"refused: the file asks to run Python code, not only to hold tensors ({banned[:160]})",
                    file=str(path),
                    hint="save a plain state_dict (torch.save(model.state_dict(), FILE)) from code you trust",
                ) from None
            reason = next((ln for ln in lines if ln.startswith("Unsupported")), lines[0] if lines else "")
            raise WeightsError(
                f"not a readable torch weights file (corrupt, truncated or another format: {reason[:160]})",
                file=str(path),
                hint="give a file written by torch.save, or an inceptcost checkpoint",
            ) from None
    for key in ("state_dict", "model"):  # wrappers written by training scripts
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(
            "holds no state dict (a mapping of names to tensors)", file=str(path), hint="save model.state_dict()"
        )
    return {str(k).removeprefix("module."): v for k, v in state.items()}  # DDP's prefix


def _identity(name: str) -> str:
    return name


def _by_module_path(ours: list[str], theirs: dict[str, Any]) -> dict[str, str]:
    by_flat = {names.flat(k): k for k in theirs}
    order = list(theirs)
    position = {k: i for i, k in enumerate(order)}
    mapping = {}
    for name in ours:
        candidates = names.module_path_candidates(name)
        found = next((by_flat[c] for c in candidates if c in by_flat), None)
        unit, part, leaf = name.rsplit(".", 2) if name.count(".") >= 2 else ("", "", name)
        conv = mapping.get(f"{unit}.conv.weight")
        if found is None and part == "bn" and conv in position:  # the module registered right after the conv
            conv_module = conv.rpartition(".")[0]
            after = (k for k in order[position[conv] :] if k.rpartition(".")[0] != conv_module)
            found = f"{next(after, '').rpartition('.')[0]}.{leaf}"
        mapping[name] = found or name
    return mapping


def match(ours: list[str], theirs: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The name map (its name, our key -> their key) under which the most of our keys are found in theirs."""
    maps: list[tuple[str, Callable[[str], str]]] = [
        ("our names", _identity),
        ("torchvision googlenet", names.torchvision_googlenet),
    ]
    best = ("", {}, -1)
    for label, rename in maps:
        mapping = {n: rename(n) for n in ours}
        found = sum(v in theirs for v in mapping.values())
        if found > best[2]:
            best = (label, mapping, found)
    mapping = _by_module_path(ours, theirs)
    found = sum(v in theirs for v in mapping.values())
    if found > best[2]:
        best = ("module paths", mapping, found)
    return best[0], best[1]


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


def load_weights(model: torch.nn.Module, path: str | Path, reset_head: bool = False) -> str:
    """Load a weights file into `model` (all of its tensors, strictly); returns the name map used."""
    return load_state(model, read_state_dict(path, size_limit(model)), str(path), reset_head)


def head_names(model: torch.nn.Module) -> set[str]:
    """The state-dict keys of the classifiers: the last linear layer of the main net and of each aux head."""
    linears = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    groups = [set(getattr(model, "row_names", ())), *({a} for a in getattr(model, "aux_names", ()))]
    lasts = [found[-1] for group in groups if (found := [n for n in linears if n.split(".")[0] in group])]
    return {f"{n}.{leaf}" for n in lasts for leaf in ("weight", "bias")}


def load_state(model: torch.nn.Module, theirs: dict[str, torch.Tensor], where: str, reset_head: bool = False) -> str:
    """Load a state dict (ours, torchvision's or timm's) into `model` by name; returns the name map used.
    A classifier of another size (1000 classes into a 10-class spec) is an error, or with `reset_head` keeps
    the model's own initial weights while every other tensor loads (timm's rule for a new num_classes)."""
    ours = model.state_dict()
    label, mapping = match(list(ours), theirs)
    heads, other = head_names(model), []
    for name, key in mapping.items():
        if key not in theirs:
            raise WeightsError(
                f"the model's tensor '{name}' is not in the file (looked for '{key}', by {label})",
                file=where,
                hint="give weights of the model this spec describes",
            )
        problem = tensor_problem(theirs[key], ours[name])
        if problem:
            raise WeightsError(
                f"the file's tensor '{key}' (for '{name}') {problem}",
                file=where,
                hint="save plain dense float tensors: torch.save(model.state_dict(), FILE) of a float model",
            )
        if theirs[key].shape != ours[name].shape:
            if name in heads:
                other.append(name)
                continue
            raise WeightsError(
                f"'{name}' is {_shape(ours[name])} in the model but '{key}' is {_shape(theirs[key])} in the file",
                file=where,
                hint="the spec and the weights describe different models (widths, kernels or classes differ)",
            )
    used = set(mapping.values())
    if len(used) != len(mapping):
        raise WeightsError(f"two of the model's tensors map to one tensor of the file ({label})", file=where)
    unused = [k for k in theirs if k not in used]
    if unused:
        raise WeightsError(
            f"{len(unused)} tensor(s) of the file have no place in the model, the first '{unused[0]}'"
            f" ({_shape(theirs[unused[0]])})",
            file=where,
            hint="the weights have layers the spec lacks (aux heads?); give the spec that has them",
        )
    if other and not reset_head:
        sizes = ", ".join(f"'{n}' {_shape(ours[n])} vs {_shape(theirs[mapping[n]])}" for n in other)
        raise WeightsError(
            f"the classifier differs in size from the file's ({sizes})",
            file=where,
            hint="give the spec the file's classes, or train with --reset-head to load the rest and start the"
            " classifier afresh",
        )
    try:
        model.load_state_dict({n: theirs[k] for n, k in mapping.items() if n not in other}, strict=not other)
    except RuntimeError as exc:  # what the checks above did not foresee: still one line naming the file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[-1].strip()
        raise WeightsError(f"cannot load the tensors into the model ({first[:200]})", file=where) from None
    return label + (f", classifier reset ({', '.join(other)})" if other else "")
