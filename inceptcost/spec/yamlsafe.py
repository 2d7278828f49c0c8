"""Safe YAML loading that keeps line numbers and refuses alias bombs, deep nesting, huge files, explicit tags and
duplicate keys. Specs, recipes and device profiles are all read through `load_yaml`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import InceptcostError, SpecError
from ..readsafe import read_regular

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


# libyaml's parser is about 5x faster than PyYAML's pure-Python one; its composer recurses in C (a very deep
# document would crash the interpreter), so `_precheck` bounds depth and size on the flat event stream first.
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """A safe loader of our own, so that the constructors we add do not change yaml's global one."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged = len(node.value) - own  # flatten_mapping puts the pairs brought in by `<<` first
    result = LineMap()
    result.line = node.start_mark.line + 1
    written: set[Any] = set()  # keys written in this mapping itself; they may override merged ones, not each other
    for i, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise SpecError(f"a mapping key must be a plain word, got {key!r}", line=line, hint="e.g. 'out' or 'type'")
        if i >= merged and key in written:
            raise SpecError(
                f"duplicate key '{key}' (also on line {result.lines[key]})",
                line=line,
                hint="each key may appear once; remove one",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
        if i >= merged:
            written.add(key)
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


def _scalar(construct):
    """Wrap a scalar constructor so that a value Python refuses (a 5000-digit int, month 13) is a SpecError."""

    def wrapped(loader: _Loader, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError) as exc:
            text = str(node.value)
            shown = text if len(text) <= 40 else text[:37] + "..."
            reason = "too many digits" if "digits" in str(exc) else str(exc)
            raise SpecError(
                f"cannot read the value {shown!r} ({reason})",
                line=node.start_mark.line + 1,
                hint="write a plain number (sizes are at most 10^12), or quote it to make it text",
            ) from None

    return wrapped


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
for _tag in ("int", "float", "timestamp"):
    _Loader.add_constructor(
        f"tag:yaml.org,2002:{_tag}", _scalar(getattr(yaml.constructor.SafeConstructor, f"construct_yaml_{_tag}"))
    )


# YAML 1.1 reads `1e-5` (no dot) as text; YAML 1.2 and every spec writer mean a number.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def _precheck(text: str) -> None:
    """One pass over the parser's events, no tree built: refuse explicit tags, deep nesting and huge documents."""
    loader = _Loader(text)
    depth = count = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            count += 1
            tag = getattr(event, "tag", None)
            if tag is not None and tag != "!":  # `!!python/...`, `!!bool "abc"`, `!!timestamp x`: types from text
                raise SpecError(
                    f"explicit YAML tag {tag.replace('tag:yaml.org,2002:', '!!')!r} is not allowed",
                    line=event.start_mark.line + 1,
                    hint="remove the tag and write the plain value",
                )
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SpecError(
                        f"nesting deeper than {MAX_DEPTH} levels",
                        line=event.start_mark.line + 1,
                        hint="flatten the document; a few levels are enough",
                    )
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            if count > MAX_NODES:
                raise SpecError(
                    f"the document has more than {MAX_NODES:,} nodes",
                    line=event.start_mark.line + 1,
                    hint="a spec, recipe or profile is a few hundred entries at most",
                )
    finally:
        loader.dispose()


def _check_size(root: yaml.Node) -> None:
    """Count nodes as if every alias were expanded, without expanding them (memoized by identity)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise SpecError(
                f"nesting deeper than {MAX_DEPTH} levels",
                line=node.start_mark.line + 1,
                hint="flatten the document; a few levels are enough",
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


def load_yaml(path: str | Path, kind: str = "spec", error: type[InceptcostError] = SpecError) -> tuple[Any, str]:
    """Read and parse `path` (a `kind` file: spec, recipe, profile); returns (data, shown file name).

    Every failure is one `error` naming the file and, where there is one, the line.
    """
    shown = str(path)
    try:
        return _load(path, kind), shown
    except SpecError as exc:
        if error is SpecError or isinstance(exc, error):
            raise
        raise error(exc.message, file=exc.file, line=exc.line, where=exc.where, hint=exc.hint) from None


def _load(path: str | Path, kind: str) -> Any:
    shown = str(path)
    raw = read_regular(path, limit=MAX_BYTES, what=kind, error=SpecError)
    if b"\0" in raw:
        raise SpecError("binary file, not YAML text", file=shown, hint=f"pass a .yaml {kind}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError("not UTF-8 text", file=shown, line=line, hint="save the file as UTF-8") from None
    loader = _Loader(text)
    try:
        _precheck(text)
        node = loader.get_single_node()
        if node is None:  # nothing, or only comments: point at the first line that has anything
            first = next((i for i, line in enumerate(text.splitlines(), 1) if line.strip()), None)
            what = "empty file" if first is None else "no YAML content (only comments or markers)"
            raise SpecError(what, file=shown, line=first, hint=f"write the {kind}'s keys in it")
        _check_size(node)
        data = loader.construct_document(node)
    except SpecError as exc:
        exc.file = shown
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "maximum nesting depth" in problem:  # libyaml >= 0.2.6 stops deep documents before `_precheck` does
            raise SpecError(
                f"nesting deeper than {MAX_DEPTH} levels",
                file=shown,
                line=line,
                hint="a spec needs only a few levels; flatten it",
            ) from None
        hint = "check the indentation, colons, quotes and brackets on that line or just before it"
        commented = re.search(r"^.*[{,\s]#\s*[1-9]x[1-9].*$", text, re.MULTILINE)
        if commented:  # Table 1's "#3x3" read as a comment: point at that line, not where parsing gave up
            line = text.count("\n", 0, commented.start()) + 1
            hint = "quote keys that start with '#' (YAML comments), e.g. \"#3x3 reduce\""
        raise SpecError(f"YAML syntax error: {problem}", file=shown, line=line, hint=hint) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", file=shown, hint="check the YAML syntax") from None
    except RecursionError:
        raise SpecError("nesting too deep", file=shown, hint="flatten the document") from None
    finally:
        loader.dispose()
    return data
