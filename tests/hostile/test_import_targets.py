"""`inceptcost import TARGET` of targets that are not a model factory: a name that is not there, a file that is
not Python or does not compile, a module that raises or imports something missing, a factory that raises (the
user's own error: its type, message and place in one line, the traceback with INCEPTCOST_DEBUG=1), and an
unknown timm name (with a stand-in for timm, so that the case runs where timm is not installed)."""

from __future__ import annotations

import sys

import pytest

NET = """import torch
from torch import nn


def make():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
"""

FILES: dict[str, tuple[str | bytes, str, str]] = {  # file content, target, what the line says
    "raises": ("def make():\n    raise ValueError('width 0')\n", "make", "raised ValueError: width 0 at"),
    "module raises": ("raise KeyError('boom')\ndef make():\n    pass\n", "make", "raised KeyError: 'boom' at"),
    "module exits": ("import sys\nsys.exit(3)\n", "make", "raised SystemExit: 3"),
    "imports missing": ("import no_such_lib_xyz\n", "make", "needs 'no_such_lib_xyz', which is not installed"),
    "syntax error": ("def make(:\n    pass\n", "make", "m.py:1: syntax error"),
    "binary": (bytes(range(256)), "make", "not a Python source file"),
    "NUL bytes": ("x = 1\0\n", "make", "not a Python source file (it holds NUL bytes)"),
    "not defined": (NET, "nothing", "no 'nothing' in the file"),
    "not a function": (NET + "width = 3\n", "width", "is an object of type int, not a function"),
    "a bad name": (NET, "make()", "is not a function name"),
    "returns no module": ("def make():\n    return 5\n", "make", "returned int, not a torch module"),
    "needs arguments": ("def make(width):\n    pass\n", "make", "raised TypeError: make() missing 1 required"),
}


@pytest.mark.parametrize("case", list(FILES), ids=list(FILES))
def test_a_python_file_that_gives_no_model(sandbox, case):
    content, name, words = FILES[case]
    sandbox.write("m.py", content)
    out = sandbox.run("import", f"m.py:{name}", "--out", "n.yaml", match=words)
    assert "m.py" in out.stderr and "Traceback" not in out.stderr


def test_the_traceback_of_the_users_error_on_request(sandbox, monkeypatch):
    from typer.testing import CliRunner

    from inceptcost.cli import app

    sandbox.write("m.py", "def make():\n    raise ValueError('width 0')\n")
    monkeypatch.setenv("INCEPTCOST_DEBUG", "1")
    r = CliRunner().invoke(app, ["import", "m.py:make", "--out", "n.yaml"])
    assert r.exit_code == 2
    assert "Traceback" in r.stderr and "raise ValueError('width 0')" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: m.py: calling 'm.py:make' raised ValueError")


@pytest.fixture
def on_path(tmp_path_factory, monkeypatch):
    """A folder on sys.path (outside the sandbox: imports may leave bytecode there) for stand-in modules."""
    folder = tmp_path_factory.mktemp("modules")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)

    def write(name: str, text: str) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        for key in [k for k in sys.modules if k == name.split("/")[0].removesuffix(".py") or k.startswith("usernet")]:
            monkeypatch.delitem(sys.modules, key)

    return write


DOTTED: dict[str, str] = {
    "..x": "is not a dotted factory",
    ".x": "is not a dotted factory",
    "x..y": "is not a dotted factory",
    "math.pi": "'math.pi' is an object of type float, not a function",
    "torch.zeros": "calling 'torch.zeros' raised TypeError",
    "no_such_module_xyz.make": "cannot find 'no_such_module_xyz.make' (no module named 'no_such_module_xyz')",
    "os.path.no_such_function": "module 'os.path' has no 'no_such_function'",
    "usernet_raises.make": "importing 'usernet_raises' raised RuntimeError: no GPU at ",
    "usernet_missing.make": "importing 'usernet_missing' needs 'no_such_lib_xyz', which is not installed",
    "usernet_factory.make": "calling 'usernet_factory.make' raised ZeroDivisionError: division by zero at",
}


@pytest.mark.parametrize("target", list(DOTTED))
def test_a_dotted_target_that_gives_no_model(sandbox, on_path, target):
    on_path("usernet_raises.py", "raise RuntimeError('no GPU')\n")
    on_path("usernet_missing.py", "import no_such_lib_xyz\n")
    on_path("usernet_factory.py", "def make():\n    return 1 / 0\n")
    sandbox.run("import", target, "--out", "n.yaml", match=DOTTED[target])


FAKE_TIMM = '''"""A stand-in for timm's two calls that `import` uses; create_model fails as timm's does on an unknown name."""
import torch


def list_models(pattern=None):
    return ["inception_v3", "inception_v4", "inception_resnet_v2"]


def create_model(name, pretrained=False, **kwargs):
    if name not in list_models():
        raise RuntimeError(f"Unknown model ({name})")
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
'''


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("timm:no_such_net", "timm has no model 'no_such_net'; see timm.list_models()"),
        ("timm:inception_v5", "did you mean inception_v4, inception_v3"),
        ("timm:", "no timm model named after 'timm:'"),
        ("timm:   ", "no timm model named after 'timm:'"),
    ],
)
def test_an_unknown_timm_name_is_one_line(sandbox, on_path, target, words):
    on_path("timm/__init__.py", FAKE_TIMM)
    sandbox.run("import", target, "--out", "n.yaml", match=words)


def test_feeds_two_places_names_the_module_type():
    """A module's node has its path as target: the message names the module's type (MaxPool2d), never `str`."""
    import torch
    from torch import fx, nn

    from inceptcost.interop.fxops import _describe

    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2))
    graph = fx.symbolic_trace(net).graph
    pool = next(n for n in graph.nodes if n.op == "call_module" and n.target == "1")
    assert _describe(pool, net) == "MaxPool2d"
    assert _describe(pool) == "1"  # without the root: its path, still not `str`
    relu = next(n for n in fx.symbolic_trace(lambda x: torch.relu(x)).graph.nodes if n.op == "call_function")
    assert _describe(relu) == "relu"
