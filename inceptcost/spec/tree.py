"""The typed tree a spec reads into: the `Spec`, its layers (`Node`), aux heads, and a row's published values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .claims import ClaimSpec

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")  # a layer, branch or head name
COMMON_KEYS = ("name", "type", "paper", "label")  # keys every layer takes beside its kind's own


@dataclass(frozen=True)
class Paper:
    """A row's published values as written in the paper (parsed, and the text kept for display)."""

    params: float | None = None  # weights, K = 1024 as in Table 1
    ops: float | None = None  # multiply-adds, M = 10^6
    output: tuple[int, int, int] | None = None  # H, W, C
    text: dict[str, str] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Node:
    """One layer (a kind of `kinds.KINDS`) or a structural node (`sequence` / `parallel`)."""

    name: str
    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    children: tuple[Node, ...] = ()
    line: int | None = None
    paper: Paper | None = None
    label: str | None = None  # Table 1's "type" column, e.g. "inception (3a)"
    # Table 1's #1x1 ... pool proj values when written that way (a pool cell written as text is kept as text)
    columns: dict[str, int | str] | None = None
    shortcut: Node | None = None  # a residual's projection (a sequence named "shortcut"); None: the identity


@dataclass(frozen=True)
class AuxHead:
    name: str
    at: str
    weight: float
    body: Node  # a sequence
    line: int | None = None


@dataclass(frozen=True)
class Spec:
    name: str
    file: str
    input: tuple[int, int, int]  # C, H, W
    classes: int
    body: Node  # the main sequence; its children are the rows of the table
    aux: tuple[AuxHead, ...] = ()
    budget_macs: float | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    reference: str | None = None
    notes: str | None = None
    claims: tuple[ClaimSpec, ...] = ()

    def __repr__(self) -> str:  # the dataclass's own repr prints every node: tens of thousands of characters
        c, h, w = self.input
        rows, aux = len(self.body.children), len(self.aux)
        return (
            f"<Spec {self.name} ({self.file}): input {h}x{w}x{c}, {self.classes} classes, {rows} rows, {aux} aux heads>"
        )
