"""Safe YAML loading that keeps line numbers and refuses alias bombs, deep nesting and huge files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

MAX_BYTES = 1 << 20  # a spec is a few KB; 1 MiB is far beyond any real one
MAX_NODES = 200_000  # nodes after alias expansion: a "billion laughs" file stops here
MAX_DEPTH = 64


class LineMap(dict):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    line: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int | None:
        return self.lines.get(key, self.line)


class LineList(list):
    line: int | None = None


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise SpecError(f"a mapping key must be a plain word, got {key!r}", line=line)
        if key in result:
            raise SpecError(f"duplicate key '{key}'", line=line, hint="each key may appear once; remove one")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def _check_size(root: yaml.Node) -> None:
    """Count nodes as if every alias were expanded, without expanding them (memoized by identity)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise SpecError(
                f"nesting deeper than {MAX_DEPTH} levels",
                line=node.start_mark.line + 1,
                hint="a spec needs only a few levels; flatten it",
            )
        if id(node) in sizes:
            return sizes[id(node)]
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v, depth + 1) for v in node.value)
        else:
            total = 1
        if total > MAX_NODES:
            raise SpecError(
                f"the document expands to more than {MAX_NODES:,} nodes",
                line=node.start_mark.line + 1,
                hint="aliases (*name) that refer to each other repeatedly multiply the size; inline them",
            )
        sizes[id(node)] = total
        return total

    size(root, 0)


def load_yaml(path: str | Path) -> tuple[Any, str]:
    """Read and parse `path`; returns (data, shown file name). Every failure is a SpecError with the file."""
    shown = str(path)
    p = Path(path)
    try:
        if p.is_dir():
            raise SpecError("is a directory, not a spec file", file=shown, hint="pass a .yaml file")
        if p.stat().st_size > MAX_BYTES:
            raise SpecError(f"file is larger than {MAX_BYTES >> 20} MiB", file=shown, hint="a spec is a few KB")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise SpecError("no such file", file=shown, hint="check the path; shipped specs are in specs/") from None
    except PermissionError:
        raise SpecError("permission denied", file=shown, hint="make the file readable") from None
    except OSError as exc:
        raise SpecError(f"cannot read file ({exc.strerror})", file=shown) from None
    if b"\0" in raw:
        raise SpecError("binary file, not YAML text", file=shown, hint="pass a .yaml spec")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError("not UTF-8 text", file=shown, line=line, hint="save the file as UTF-8") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("empty file", file=shown, hint="a spec needs at least 'input' and 'layers'")
        _check_size(node)
        data = loader.construct_document(node)
    except SpecError as exc:
        exc.file = shown
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        hint = None
        commented = re.search(r"^.*[{,\s]#\s*[1-9]x[1-9].*$", text, re.MULTILINE)
        if commented:  # Table 1's "#3x3" read as a comment: point at that line, not where parsing gave up
            line = text.count("\n", 0, commented.start()) + 1
            hint = "quote keys that start with '#' (YAML comments), e.g. \"#3x3 reduce\""
        raise SpecError(f"YAML syntax error: {problem}", file=shown, line=line, hint=hint) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", file=shown) from None
    except RecursionError:
        raise SpecError("nesting too deep", file=shown, hint="flatten the document") from None
    finally:
        loader.dispose()
    return data, shown
