"""Where an imported model comes from: a dotted factory, `timm:NAME` or `path/to/file.py:function`, called
without downloading weights; whatever the user's code raises becomes one ImportFailed naming it."""

from __future__ import annotations

import importlib
import inspect
import re
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from ..errors import ImportFailed, printable
from .extras import need

MAX_SOURCE_BYTES = 1 << 24  # a model's Python file is a few hundred KB at most

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
