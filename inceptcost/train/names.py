"""Name maps from the state dicts of torchvision and timm models to our dotted layer names.

Two maps exist, tried in turn by `weights.match`:
- `torchvision_googlenet`: specs/googlenet-torchvision.yaml, whose inception rows use Table 1's branch names
  (b1x1, b3x3.reduce, ...) where torchvision has branch1..branch4;
- `module_path`: specs written by `inceptcost import`, whose layer names are the source's module paths with
  '.' turned into '_', relative to their top-level row (branch, residual body and shortcut names are ours and
  carry no path). A key maps to the source's key with the same '_'-joined spelling; a conv unit named for its
  bare conv (torchvision's ResNet: `conv1`, then `bn1`) finds its conv's tensors without the `conv` part and
  its batch norm's as the tensors that follow the conv's in the file (`weights._by_module_path`).
"""

from __future__ import annotations

import re

# Our dotted names -> torchvision's module paths (branch1..4 hold BasicConv2d units or Sequentials of them).
_GOOGLENET_RENAMES = [
    (r"\.b1x1\.conv\.", ".branch1."),
    (r"\.b3x3\.reduce\.", ".branch2.0."),
    (r"\.b3x3\.conv\.", ".branch2.1."),
    (r"\.b5x5\.reduce\.", ".branch3.0."),
    (r"\.b5x5\.conv\.", ".branch3.1."),
    (r"\.bpool\.proj\.", ".branch4.1."),
]

# The parts of a conv unit that hold tensors (a linear layer holds its own).
_UNIT_PARTS = ("conv", "bn")


def torchvision_googlenet(name: str) -> str:
    for pattern, repl in _GOOGLENET_RENAMES:
        name = re.sub(pattern, repl, name)
    return name


def flat(name: str) -> str:
    return name.replace(".", "_")


def module_path_candidates(name: str) -> list[str]:
    """The flat spellings a source key of our `name` may have: the row and the layer name joined (the layer
    is named relative to its row), or the layer name alone (a row with no module path of its own)."""
    parts = name.split(".")
    cut = 2 if len(parts) >= 3 and parts[-2] in _UNIT_PARTS else 1
    unit, tail = parts[:-cut], ".".join(parts[-cut:])
    first, last = unit[0].lstrip("_"), unit[-1].lstrip("_")
    spellings = [first] if len(unit) == 1 else [f"{first}_{last}", last]
    tails = [flat(tail), *([parts[-1]] if cut == 2 and parts[-2] == "conv" else [])]
    return [f"{s}_{t}" for t in tails for s in spellings]
