"""What torch really keeps: saved tensors per layer and the peak of live tensors, by walking the IR.

The walk runs the compiled model's op order (rows in order, branches in order then the concat, each aux head
right after the row it taps), with each op's tensors from its kind's memory rule (`inceptcost/kinds`):
- a storage lives while a later op still reads it, or an op's backward still needs it (saved), or the caller
  holds it (the input batch, the labels, the logits); in-place ops and views share their input's storage;
- `saved_bytes` counts every storage that autograd saves, once, on the layer that saves it first (what
  saved-tensor hooks see: parameters are not in it, their autocast copies are);
- training: the forward (saved tensors pile up), the loss (fp32 log-softmax per head, the int64 labels), then
  backward in reverse order: each op's gradients flow along its chain of buffers (two live at a time), the
  gradient of a tensor read by several ops is accumulated into one buffer, a concat's gradient is sliced
  (views) and lives until every branch has used it, an op's saved tensors are freed after its backward, its
  parameters' fp32 gradients appear then. Weights, BN buffers and optimizer state (SGD momentum: one copy,
  AdamW: two; fp32 even under autocast) are there throughout; gradients from backward to the optimizer step,
  where CUDA's multi-tensor AdamW adds one parameter-sized temporary.
- inference: the same forward without saved tensors (dropout returns its input), weights included.
Autocast's cached low-precision weight copies live from their first use to the end of the forward (and on,
while backward still needs them). Not modelled: library workspaces (cuDNN, oneDNN) and the allocator's
rounding and fragmentation, which is why the GPU check allows 10%.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

import networkx as nx

from ...kinds import NODE_KINDS, SIZES, Buf, RuleContext
from .setup import OPTIMIZER_COPIES, Memory, Setup


def run_order(graph: nx.DiGraph, train: bool) -> list[str]:
    """The op nodes in the order the compiled model runs them (aux heads after their row, in training)."""
    by_row: dict[str, list] = {}
    for head in graph.graph["aux"] if train else []:
        by_row.setdefault(head.at, []).append(head)
    order = []
    for row in graph.graph["rows"]:
        order += row.nodes
        for head in by_row.get(row.name, []):
            order += head.nodes
    return order


class _Walk:
    """Storages with their bytes and what keeps them alive; tracks the running total and its peak."""

    def __init__(self) -> None:
        self.bytes: dict[int, int] = {}
        self.readers: dict[int, int] = {}  # ops still to read it in the forward (or views of a gradient)
        self.savers: dict[int, set[str]] = {}
        self.held: set[int] = set()
        self.live = self.peak = 0
        self.peak_at = ""
        self._next = 0

    def new(self, nbytes: int, where: str, readers: int = 0) -> int:
        sid, self._next = self._next, self._next + 1
        self.bytes[sid], self.readers[sid], self.savers[sid] = nbytes, readers, set()
        self.live += nbytes
        if self.live > self.peak:
            self.peak, self.peak_at = self.live, where
        return sid

    def release(self, sid: int) -> None:
        if sid in self.bytes and self.readers[sid] <= 0 and not self.savers[sid] and sid not in self.held:
            self.live -= self.bytes.pop(sid)

    def read(self, sid: int) -> None:
        self.readers[sid] -= 1
        self.release(sid)

    def unsave(self, sid: int, op: str) -> None:
        self.savers[sid].discard(op)
        self.release(sid)


@dataclass
class _Value:
    sid: int
    dtype: str
    numel: int
    needs_grad: bool


def _state_bytes(graph: nx.DiGraph, setup: Setup, train: bool) -> tuple[int, int, int]:
    """Bytes there throughout the step: (fp32 weights, BN buffers, optimizer state)."""
    nodes = graph.nodes
    params = sum(a["params"] for _, a in graph.nodes(data=True))
    bn = [
        n for n in graph if nodes[n]["op"] == "bn" or nodes[n]["op"] == "conv" and nodes[n]["args"].get("norm") == "bn"
    ]
    weights = 4 * params
    buffers = sum(4 * 2 * nodes[n]["out_shape"][0] + 8 for n in bn)  # running mean, var; int64 batch count
    opt = OPTIMIZER_COPIES[setup.optimizer] * weights if train else 0
    return weights, buffers, opt


@dataclass
class _Saves:
    """What each op saves for backward: storages per op, the first saver of each, and the per-op report."""

    w: _Walk
    order: list[str]
    saved: dict[str, list[int]] = field(default_factory=dict)  # op -> storages it saves
    owner: dict[int, str] = field(default_factory=dict)  # storage -> first op that saved it
    keeps: dict[str, list[str]] = field(default_factory=dict)
    owned: dict[str, int] = field(default_factory=dict)
    chains: dict[str, list[Buf]] = field(default_factory=dict)  # op -> its chain of buffers, for its backward
    casts: dict[str, list[int]] = field(default_factory=dict)
    grads_by_op: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keeps = {n: [] for n in self.order}
        self.owned = {n: 0 for n in self.order}

    def save(self, op: str, sid: int, why: str) -> None:
        w = self.w
        if op in w.savers[sid]:
            return
        w.savers[sid].add(op)
        self.saved.setdefault(op, []).append(sid)
        if sid not in self.owner:
            self.owner[sid] = op
            self.owned[op] += w.bytes[sid]
            self.keeps[op].append(f"{why} {w.bytes[sid]:,} B")


def _forward_concat(w: _Walk, s: _Saves, n: str, preds: list[_Value], readers: int) -> _Value:
    """A concat: inputs of a narrower dtype cast up first, then one new tensor of all channels."""
    where = f"{n} (forward)"
    dt = max((v.dtype for v in preds), key=lambda d: SIZES[d])
    temps = [w.new(v.numel * SIZES[dt], where) for v in preds if v.dtype != dt]
    numel = sum(v.numel for v in preds)
    value = _Value(w.new(numel * SIZES[dt], where, readers), dt, numel, True)
    for sid in temps:
        w.release(sid)
    s.chains[n] = []
    return value


def _forward_op(
    w: _Walk, s: _Saves, n: str, a: dict, preds: list[_Value], readers: int, ctx: RuleContext, train: bool
) -> _Value:
    """One op's forward from its kind's memory rule: weight casts, saved tensors, its chain of buffers."""
    where, amp = f"{n} (forward)", ctx.amp
    x = preds[0]  # a residual add's body; its shortcut is preds[1]
    args = {**a["args"], "shortcut_dtype": preds[1].dtype} if a["op"] == "add" else a["args"]
    op = NODE_KINDS[a["op"]].memory(args, x.dtype, a["in_shape"], a["out_shape"], ctx)
    s.grads_by_op[n] = op.param_bytes if train else 0
    s.casts[n] = []
    for k, elements in enumerate(op.weight_casts):
        sid = w.new(elements * SIZES[amp], where)
        s.casts[n].append(sid)
        if k == 0 and train:
            s.save(n, sid, f"weight ({amp} copy)")
    if op.saves_input:
        s.save(n, x.sid, f"input ({x.dtype})")
    chain_bufs, prev = [], None
    for b in op.bufs:
        if b.alias:
            chain_bufs.append(b)
            continue
        sid = w.new(b.nbytes, where)
        if b.saved:
            s.save(n, sid, b.what)
        if b.side:
            w.release(sid)
            continue
        if prev is not None:
            w.release(prev)
        chain_bufs.append(b)
        prev = sid
    s.chains[n] = chain_bufs
    if op.out_is_input:
        w.readers[x.sid] += readers
        return _Value(x.sid, x.dtype, x.numel, x.needs_grad)
    w.readers[prev] += readers
    return _Value(prev, op.chain_dtype(x.dtype), chain_bufs[-1].numel, True)


def _loss(w: _Walk, s: _Saves, values: dict[str, _Value], outputs: list[str], labels: int) -> None:
    """Cross-entropy per head on fp32 logits: log-softmax output, nll's 0-dim total weight, labels."""
    s.keeps["loss"], s.owned["loss"] = [], 0
    s.save("loss", labels, "labels (int64)")
    for o in outputs:
        v = values[o]
        cast = w.new(v.numel * 4, "loss") if v.dtype != "fp32" else None
        s.save("loss", w.new(v.numel * 4, "loss"), f"{o} log-softmax (fp32)")
        s.save("loss", w.new(4, "loss"), "total weight")
        if cast is not None:
            w.release(cast)


def memory(graph: nx.DiGraph, setup: Setup) -> Memory:
    """Saved tensors per layer and the peak, for one training step or one inference forward (rules above)."""
    train, amp = setup.mode == "train", None if setup.dtype == "fp32" else setup.dtype
    ctx = RuleContext(setup.batch, train, amp=amp, device=setup.device, channels_last=setup.channels_last)
    order = run_order(graph, train)
    nodes = graph.nodes
    weights, buffers, opt = _state_bytes(graph, setup, train)
    w = _Walk()
    w.live = weights + buffers + opt
    w.peak, w.peak_at = w.live, "start"
    consumers = {n: sum(1 for s in graph.successors(n) if s in order) for n in ["input", *order]}
    numel = setup.batch * prod(graph.graph["spec"].input)
    image = _Value(w.new(numel * 4, "input", consumers["input"]), "fp32", numel, False)
    w.held.add(image.sid)
    if train:  # int64 class indices, the caller's like the batch
        w.held.add(labels := w.new(setup.batch * 8, "input"))
    values: dict[str, _Value] = {"input": image}
    s = _Saves(w, order)
    for n in order:
        preds = [values[p] for p in graph.predecessors(n)]
        if nodes[n]["op"] == "concat":
            values[n] = _forward_concat(w, s, n, preds, consumers[n])
        else:
            values[n] = _forward_op(w, s, n, nodes[n], preds, consumers[n], ctx, train)
        for v in preds:
            w.read(v.sid)
    outputs = [graph.graph["output"]] + ([h.output for h in graph.graph["aux"]] if train else [])
    for o in outputs:
        w.held.add(values[o].sid)
    if train:
        _loss(w, s, values, outputs, labels)
    for n in order:  # autocast's cache of parameter copies ends with the forward
        for sid in s.casts.get(n, []):
            w.release(sid)
    if train:
        _backward(w, graph, order, values, s.chains, s.saved, s.grads_by_op, outputs)
        if setup.optimizer == "adamw" and setup.device == "cuda":  # foreach AdamW: one param-sized temporary
            w.new(weights, "optimizer step")
    rows = [
        {
            "name": n,
            "row": "loss" if n == "loss" else nodes[n]["aux"] or nodes[n]["row"],
            "op": "loss" if n == "loss" else nodes[n]["op"],
            "saved_bytes": s.owned[n],
            "keeps": "; ".join(s.keeps[n]),
        }
        for n in s.keeps
    ]
    return Memory(
        setup=setup,
        rows=rows,
        saved_bytes=sum(r["saved_bytes"] for r in rows),
        peak_bytes=w.peak,
        peak_at=w.peak_at,
        weights_bytes=weights,
        buffers_bytes=buffers,
        grads_bytes=weights if train else 0,
        optimizer_bytes=opt,
        outputs={n: values[n].numel * SIZES[values[n].dtype] for n in order},
    )


def _backward(w: _Walk, graph: nx.DiGraph, order: list[str], values, chains, saved, param_grads, outputs) -> None:
    """Reverse run order; gradients as described in the module docstring."""
    grad: dict[str, int] = {}
    views: set[str] = set()  # values whose gradient is a slice of a concat's gradient

    def give(node: str, sid: int, view: bool) -> None:
        if node not in grad:
            grad[node] = sid
            if view:
                views.add(node)
            return
        if node in views:  # a view cannot take the sum in place: autograd adds into a new buffer
            v = values[node]
            total = w.new(v.numel * SIZES[v.dtype], f"{node} (backward)", 1)
            w.read(grad[node])
            views.discard(node)
            grad[node] = total
        w.read(sid)

    for o in outputs:
        v = values[o]
        give(o, w.new(v.numel * SIZES[v.dtype], "loss (backward)", 1), False)
    for sid in saved.get("loss", []):
        w.unsave(sid, "loss")
    for n in reversed(order):
        where = f"{n} (backward)"
        g = grad.pop(n)
        preds = list(graph.predecessors(n))
        if not chains[n]:  # concat slices, views and identities pass the gradient on as views
            w.readers[g] += len(preds)
            for p in preds:
                if values[p].needs_grad:
                    give(p, g, True)
                else:
                    w.read(g)
            w.read(g)
        else:
            cur = g
            for b in reversed(chains[n][:-1]):
                nxt = w.new(b.numel * SIZES[b.dtype], where, 1)
                w.read(cur)
                cur = nxt
            w.held.add(w.new(param_grads[n], where))
            if graph.nodes[n]["op"] == "add":
                _add_backward(w, graph.nodes[n]["args"]["scale"], values, preds, n, cur, give, where)
            else:
                x = values[preds[0]]
                if x.needs_grad:
                    give(preds[0], w.new(x.numel * SIZES[x.dtype], where, 1), False)
            w.read(cur)
        for sid in saved.get(n, []):
            w.unsave(sid, n)


def _add_backward(w: _Walk, scale: float, values, preds: list[str], n: str, cur: int, give, where: str) -> None:
    """The add passes its gradient on as it is (shared, like a concat's slices), except to the body when
    scaled and to an input of a narrower dtype: those get a new tensor."""
    out = values[n].dtype
    for k, p in enumerate(preds):
        v = values[p]
        if not v.needs_grad:
            continue
        if (k == 0 and scale != 1) or v.dtype != out:
            give(p, w.new(v.numel * SIZES[v.dtype], where, 1), False)
        else:
            w.readers[cur] += 1
            give(p, cur, True)
