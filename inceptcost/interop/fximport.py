"""`inceptcost import MODEL`: a torch model (a factory, called without downloading weights) -> a spec.

The model is traced with torch.fx in training mode, so that aux classifiers (torchvision's GoogLeNet and
Inception-v3 run theirs only when training; their `if self.training` is plain Python that the tracer takes
as it stands) become `aux` heads; the first output is the logits. Batch norms are leaf modules (timm's
BatchNormAct2d carries its activation inside). The spec is then checked against the source before it is
written: its parameter count must equal the source's numel(), and our compiled model, given the source's
weights by name (its batch norms first given distinct statistics), must give the source's logits.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from ..errors import ImportFailed, printable
from ..spec.writer import spec_text
from .extras import need
from .fxgraph import Par, Reader, Res, common_path, fold, local_name, paths, unit_path, valid
from .fxops import Atom

MAX_SOURCE_BYTES = 1 << 24  # a model's Python file is a few hundred KB at most
AUX_WEIGHT = 0.3  # the paper's; a spec's aux weight is a training choice, not part of the model


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def make_model(factory: str, aux: bool | None = None) -> nn.Module:
    """`torchvision.models.googlenet`, `timm:inception_v4` or `path/to/file.py:make_net` -> the model.

    Every failure is one ImportFailed naming the target and the file: a name that is not there, a file that is
    not Python, a module or factory that raises (the user's error: its type, message and where it was raised;
    `ImportFailed.detail` keeps the traceback for INCEPTCOST_DEBUG=1)."""
    kwargs: dict[str, Any] = {}
    where: str | None = None  # the user's file, when the factory is one
    if factory.startswith("timm:"):
        timm = need("timm", factory)
        name = factory[5:]
        if not name.strip():
            raise ImportFailed("no timm model named after 'timm:'", hint="e.g. timm:inception_v4")
        fn: Any = lambda **kw: _timm_model(timm, name, **kw)  # noqa: E731
        kwargs["pretrained"] = False
    elif ":" in factory and factory.split(":", 1)[0].endswith(".py"):
        file, _, name = factory.partition(":")
        fn, where = _from_file(factory, file, name), file
    else:
        module_name, _, name = factory.rpartition(".")
        if not _DOTTED.fullmatch(factory):
            raise ImportFailed(
                f"'{printable(factory)}' is not a dotted factory",
                hint="e.g. torchvision.models.googlenet, timm:inception_v4 or path/to/file.py:make_net",
            )
        if module_name.split(".")[0] in ("torchvision", "timm"):
            need(module_name.split(".")[0], factory)
        module = _run_user_code(factory, module_name, lambda: importlib.import_module(module_name), "importing")
        fn = getattr(module, name, None)
        if fn is None:
            raise ImportFailed(
                f"cannot find '{factory}' (module '{module_name}' has no '{name}')", hint="give module.path.function"
            )
        try:
            params = inspect.signature(fn).parameters if callable(fn) else {}
        except (TypeError, ValueError):  # a builtin without a signature (torch.zeros): called as it is
            params = {}
        if "weights" in params:
            kwargs["weights"] = None
        elif "pretrained" in params:
            kwargs["pretrained"] = False
    if not callable(fn):
        raise ImportFailed(
            f"'{printable(factory)}' is an object of type {type(fn).__name__}, not a function that returns a model",
            file=where,
            hint="name a function (or class) that returns a torch module",
        )
    if aux is not None:
        kwargs["aux_logits"] = aux
    with warnings.catch_warnings():  # torchvision's notes on future init defaults
        warnings.simplefilter("ignore")
        try:
            model = fn(**kwargs)
        except TypeError as exc:
            if aux is not None and "aux_logits" in str(exc):
                raise ImportFailed(f"{factory}: {exc}", hint="--aux only for factories with aux_logits") from None
            raise _raised(factory, "calling", exc, where) from None
        except ImportFailed:
            raise
        except (Exception, SystemExit) as exc:  # the user's factory (or a library's) failed: their error
            raise _raised(factory, "calling", exc, where) from None
    if not isinstance(model, nn.Module):
        raise ImportFailed(f"{factory} returned {type(model).__name__}, not a torch module", file=where)
    return model


def _from_file(factory: str, file: str, name: str) -> Any:
    """The object `name` defined by running the Python file `file` (a file that is not Python is refused)."""
    from ..readsafe import read_regular

    if not Path(file).is_file():
        raise ImportFailed("no such file", file=file, hint="give path/to/file.py:function")
    if not name.isidentifier():
        raise ImportFailed(
            f"'{printable(name)}' is not a function name", file=file, hint="give path/to/file.py:function"
        )
    raw = read_regular(file, limit=MAX_SOURCE_BYTES, what="Python file", error=ImportFailed)
    try:
        source = raw.decode("utf-8")
        if "\0" in source:
            raise ValueError("it holds NUL bytes")
    except (UnicodeDecodeError, ValueError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise ImportFailed(f"not a Python source file ({reason})", file=file, hint="give a .py file of text") from None
    try:
        code = compile(source, file, "exec")
    except SyntaxError as exc:
        raise ImportFailed(
            f"syntax error: {exc.msg}", file=file, line=exc.lineno, hint="fix the file so that Python can run it"
        ) from None
    module = types.ModuleType(Path(file).stem)
    module.__file__ = str(file)
    _run_user_code(factory, file, lambda: exec(code, module.__dict__), "running", file)
    fn = getattr(module, name, None)
    if fn is None:
        raise ImportFailed(f"no '{name}' in the file", file=file, hint="name a function that returns the model")
    return fn


def _run_user_code(factory: str, what: str, run: Callable[[], Any], doing: str, file: str | None = None) -> Any:
    """Run a user's module (import it, or execute their file); what it raises is one ImportFailed."""
    try:
        return run()
    except ModuleNotFoundError as exc:
        if doing == "importing" and exc.name and (what == exc.name or what.startswith(exc.name + ".")):
            raise ImportFailed(f"cannot find '{factory}' (no module named '{exc.name}')", file=file) from None
        missing = f"'{exc.name}'" if exc.name else "a module"
        err = _raised(what, doing, exc, file)
        err.message = f"{doing} '{printable(what)}' needs {missing}, which is not installed"
        err.hint = f"install {missing} or remove that import"
        raise err from None
    except (Exception, SystemExit) as exc:
        raise _raised(what, doing, exc, file) from None


def _raised(what: str, doing: str, exc: BaseException, file: str | None) -> ImportFailed:
    """`doing` `what` (calling a factory, importing a module, running a file) raised `exc`: one line with its
    type, its message and where (the last frame in the user's file, else the last frame outside this package);
    the whole traceback stays in `.detail`."""
    import traceback

    ours = str(Path(__file__).resolve().parents[1])  # this package's frames say nothing about the user's code
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(ours)]
    theirs = [f for f in frames if file and Path(f.filename).name == Path(file).name] or frames[-1:]
    at = f" at {theirs[-1].filename}:{theirs[-1].lineno}" if theirs else ""
    if isinstance(exc, SyntaxError) and exc.filename:
        at = f" at {exc.filename}:{exc.lineno}"
    message = (str(exc).strip().splitlines() or [""])[0][:200]
    err = ImportFailed(
        f"{doing} '{printable(what)}' raised {type(exc).__name__}{': ' + message if message else ''}{at}",
        file=file,
        hint="the error comes from the factory or its module; set INCEPTCOST_DEBUG=1 to see the traceback",
    )
    err.detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return err


def _timm_model(timm, name: str, **kwargs) -> nn.Module:
    """timm.create_model, with an unknown name one line naming the closest ones."""
    try:
        return timm.create_model(name, **kwargs)
    except RuntimeError as exc:
        if not str(exc).startswith("Unknown model"):
            raise
        import difflib

        try:
            known = list(timm.list_models())
        except Exception:  # an odd timm: the refusal stays one line without suggestions
            known = []
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        raise ImportFailed(
            f"timm has no model '{printable(name)}'",
            hint=f"did you mean {', '.join(close)}?" if close else "see timm.list_models() for the names",
        ) from None


class _Tracer(fx.Tracer):
    """Batch norms stay whole; the module being traced when tracing fails is remembered for the message."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.failed: str | None = None

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, nn.BatchNorm2d) or super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        self.stack.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception:
            self.failed = self.failed or self.stack[-1]
            raise
        finally:
            self.stack.pop()


def trace(model: nn.Module, label: str) -> fx.Graph:
    tracer = _Tracer()
    model.train()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tracer.trace(model)
    except Exception as exc:
        where = tracer.failed or "the model's own forward"
        m = model.get_submodule(tracer.failed) if tracer.failed else model
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ImportFailed(
            f"torch.fx cannot trace module '{where}' ({type(m).__name__}): {first}",
            file=label,
            hint="symbolic tracing needs forward code without Python branches on tensor values",
        ) from None


def _outputs(reader: Reader) -> list[fx.Node]:
    (out,) = [n for n in reader.graph.nodes if n.op == "output"]
    value = out.args[0]
    if isinstance(value, fx.Node) and value.op == "call_function" and isinstance(value.target, type):
        value = [*value.args, *value.kwargs.values()]  # a namedtuple of outputs (GoogLeNetOutputs)
    if isinstance(value, fx.Node):
        return [value]
    found = [v for v in value if isinstance(v, fx.Node)] if isinstance(value, (list, tuple)) else []
    if not found:
        raise ImportFailed("the model returns no tensor", file=reader.label)
    return found


# ---- items -> the spec's layer mappings ----


def _layer(atom: Atom, name: str) -> dict[str, Any]:
    if atom.kind == "act":  # a standalone activation: `{type: relu}`
        return {"name": name, "type": atom.args["activation"]}
    if atom.kind == "bn":  # a standalone batch norm (its activation, if any, refused by fold)
        return {"name": name, "type": "bn", "eps": atom.args["eps"]}
    layer = {"name": name, "type": atom.kind, **atom.args}
    if atom.kind == "conv":
        layer.setdefault("norm", "none")
        layer.setdefault("activation", "none")
    if atom.kind == "linear":
        layer.setdefault("activation", "none")
    return layer


def _branch_name(items: list[dict[str, Any]], fallback: str, taken: set[str]) -> str:
    """A branch (or nested parallel) is named for what its layers share: `branch5x5_1`, `branch5x5_2` ->
    `branch5x5`; else for its last conv; else `fallback`."""
    names = [it["name"] for it in items]
    if len(names) == 1:
        candidate = names[0]
    else:
        prefix = names[0]
        for n in names[1:]:
            while not n.startswith(prefix):
                prefix = prefix[:-1]
        candidate = prefix.rstrip("_")
        if not valid(candidate) or len(candidate) < 2:
            convs = [it["name"] for it in items if it["type"] == "conv"]
            candidate = convs[-1] if convs else ""
    return candidate if valid(candidate) and candidate not in taken else fallback


def _unique(name: str, taken: set[str]) -> str:
    """A layer name not yet used in its list (a module called twice, such as a shared ReLU, gets _2, _3)."""
    found, i = name, 1
    while found in taken:
        i += 1
        found = f"{name}_{i}"
    return found


def _layers(items: list[Any], base: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for j, item in enumerate(items):
        taken = {o["name"] for o in out}
        if isinstance(item, Atom):
            out.append(_layer(item, _unique(local_name(unit_path(item), base), taken)))
            continue
        if isinstance(item, Res):
            block = common_path(paths([item]))
            name = local_name(block, base) if block and block != base else f"residual{j + 1}"
            layer = {"name": _unique(name, taken), "type": "residual", "scale": item.scale}
            layer.update(activation=item.activation, body=_layers(item.body, base))
            layer["shortcut"] = None if item.shortcut is None else _layers(item.shortcut, base)
            out.append(layer)
            continue
        branches: dict[str, list] = {}
        for i, branch in enumerate(item.branches, 1):
            layers = _layers(branch, base)
            branches[_branch_name(layers, f"branch{i}", set(branches))] = layers
        name = _branch_name([{"name": n, "type": ""} for n in branches], f"parallel{j + 1}", taken)
        out.append({"name": name, "type": "parallel", "branches": branches})
    return out


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(items, 1):
        if isinstance(item, Atom):
            rows.append(_layer(item, local_name(unit_path(item), "")))
            continue
        base = common_path(paths([item]))
        (layer,) = _layers([item], base)
        layer["name"] = local_name(base, "") if base else f"{'concat' if isinstance(item, Par) else 'residual'}{i}"
        rows.append(layer)
    return rows


def to_spec(model: nn.Module, label: str, input_chw: tuple[int, int, int]) -> dict[str, Any]:
    """The spec (as the mapping its YAML holds) of a traced model."""
    graph = trace(model, label)
    reader = Reader(model, graph, label)
    logits, *aux_outs = _outputs(reader)
    items = fold(reader, reader.chain(logits, reader.input))
    rows = _rows(items)
    main = set(reader.seen) | {reader.input}
    row_end = {
        (item.cat if isinstance(item, Par) else item.end): row["name"] for item, row in zip(items, rows, strict=True)
    }
    heads = []
    for value in aux_outs:
        tap = value
        while tap not in main:
            ins = reader.inputs(tap)
            if len(ins) != 1:
                raise reader.unsupported(tap, "an aux head that joins two tensors")
            tap = ins[0]
        if tap not in row_end:
            raise reader.fail(value, "an aux head taps a tensor inside a row", "aux heads may tap row outputs only")
        head_items = fold(reader, reader.chain(value, tap))
        base = common_path(paths(head_items)) if len(head_items) > 1 else ""
        name = local_name(base, "") if base else f"aux{len(heads) + 1}"
        heads.append({"name": name, "at": row_end[tap], "weight": AUX_WEIGHT, "layers": _layers(head_items, base)})
    leftover = [
        n for n in graph.nodes if n.op in ("call_module", "call_function", "call_method") and n not in reader.seen
    ]
    leftover = [n for n in leftover if not (n.op == "call_function" and isinstance(n.target, type))]
    if leftover:
        raise reader.fail(leftover[0], f"op '{leftover[0].name}' is on no path from the input to an output")
    classes = rows[-1].get("out") if rows[-1]["type"] == "linear" else None
    if classes is None:
        raise ImportFailed("the model does not end in a linear classifier", file=label)
    heads.sort(key=lambda h: [r["name"] for r in rows].index(h["at"]))
    c, h, w = input_chw
    return {"name": label, "input": f"{h}x{w}x{c}", "classes": classes, "layers": rows, "aux": heads}


# ---- the whole import, checked ----


def default_input(factory: str, model: nn.Module) -> tuple[int, int, int]:
    """The input the source was made for: timm's pretrained config, torchvision's weights metadata, or 224."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    if isinstance(cfg.get("input_size"), (tuple, list)) and len(cfg["input_size"]) == 3:
        return tuple(int(v) for v in cfg["input_size"])  # type: ignore[return-value]
    if factory.startswith("torchvision.models."):
        import torchvision

        try:
            weights = torchvision.models.get_model_weights(factory.rsplit(".", 1)[1])
            crop = next(iter(weights)).transforms.keywords["crop_size"]
            return (3, int(crop), int(crop))
        except (ValueError, StopIteration, AttributeError, KeyError):  # no published crop: the default below
            pass
    return (3, 224, 224)


def _distinct_norms(model: nn.Module) -> nn.Module:
    """Fresh batch norms all compute the identity, so a norm's tensors loaded into another norm would still
    give the source's logits: give each its own statistics and affine terms before the check."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d) and m.affine and m.track_running_stats:
                for t in (m.weight, m.running_var):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                for t in (m.bias, m.running_mean):
                    t.copy_(torch.randn(t.shape, generator=g) * 0.1)
    return model


# Checking an import runs the source and our model on one image; their first layers hold feature maps of many
# times the image's bytes (GoogLeNet's conv1 output alone is 5x its input, and two models are alive at once).
IMAGE_TIMES = 32


def check_input_fits(chw: tuple[int, int, int]) -> None:
    """Refuse an input whose forward pass cannot fit in this machine's free memory, before allocating it."""
    from ..train.bench.memory_check import check_allocation

    c, h, w = chw
    check_allocation(
        IMAGE_TIMES * 4 * c * h * w,
        f"a {h}x{w}x{c} float32 input",
        torch.device("cpu"),
        f"give a smaller --input HxWxC (running the models on one image holds about {IMAGE_TIMES}x its bytes)",
    )


def import_model(factory: str, aux: bool | None = None, input_chw: tuple[int, int, int] | None = None):
    """The spec's YAML text and a summary line; raises ImportFailed on anything the spec cannot say."""
    import tempfile

    from ..analyze.costs import summarize
    from ..graph.compile import compile_graph
    from ..graph.model import build_model
    from ..spec import load_spec
    from ..train.weights import load_state

    if input_chw is not None:  # before the factory runs
        check_input_fits(input_chw)
    source = _distinct_norms(make_model(factory, aux))
    label = factory.split(":")[-1].rsplit(".", 1)[-1]
    chw = input_chw or default_input(factory, source)
    check_input_fits(chw)
    x = torch.randn(1, *chw, generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            theirs = source.eval()(x)
    except Exception as exc:  # a wrong --input: channels, or a size too small for the model's strides
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        c, h, w = chw
        raise ImportFailed(
            f"the model does not run on a {h}x{w}x{c} input ({first})", file=label, hint="give --input HxWxC"
        ) from None
    text = spec_text(to_spec(source, label, chw), factory)
    with tempfile.TemporaryDirectory() as folder:  # read back the way a user's file is read
        (Path(folder) / f"{label}.yaml").write_text(text)
        spec = load_spec(Path(folder) / f"{label}.yaml")
    graph = compile_graph(spec)
    totals = summarize(graph)
    numel = sum(p.numel() for p in source.parameters())
    if totals["params"] + totals["params_aux"] != numel:
        raise ImportFailed(
            f"the spec has {totals['params'] + totals['params_aux']:,} params but the source {numel:,}",
            file=label,
            hint="a module's parameters are not used by the traced forward pass",
        )
    ours = build_model(graph, aux=True).eval()
    load_state(ours, source.state_dict(), label)
    with torch.no_grad():
        mine = ours(x)
    diff = float((theirs - mine).abs().max())
    if not torch.allclose(theirs, mine, atol=1e-4, rtol=1e-4):
        raise ImportFailed(
            f"the spec's model gives other logits than the source (max difference {diff:.3g})", file=label
        )
    c, h, w = chw
    heads = f" (+{totals['params_aux']:,} in {len(spec.aux)} aux heads)" if spec.aux else ""
    summary = (
        f"{label}: {len(graph) - 1 - sum(1 for n in graph if graph.nodes[n]['op'] in ('concat', 'add'))} layers, "
        f"{totals['params']:,} params{heads}, {totals['macs']:,} MACs at {h}x{w}x{c}; "
        f"checked: params equal the source's numel(), logits equal the source's with its weights (max diff {diff:.1e})"
    )
    return text, summary
