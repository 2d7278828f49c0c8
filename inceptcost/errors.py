"""Typed errors. Library code raises these; only the CLI turns them into one line and an exit code."""

from __future__ import annotations

import codecs
import difflib
import re
from collections.abc import Callable, Iterable


class InceptcostError(Exception):
    """Base error: `file:line: where: message; hint` on one line.

    With `settings=True` the message, where and hint name the arguments of the library call that raised it
    as `{name}` placeholders: `str()` shows the bare names (`batch_size must be >= 1`), the command line its
    own spelling of them (`--batch-size must be >= 1`) through `shown()`."""

    exit_code = 2
    detail: str | None = None  # more than one line can say (a user's traceback), shown with INCEPTCOST_DEBUG=1

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        where: str | None = None,
        hint: str | None = None,
        settings: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.where = where
        self.hint = hint
        self.settings = settings

    def shown(self, spell: Callable[[str], str] = str) -> str:
        """One line; each `{setting}` (with settings=True) written as `spell(setting)`."""
        where, message, hint = self.where, self.message, self.hint
        if self.settings:
            names = _Spelled(spell)
            where, message, hint = (t.format_map(names) if t else t for t in (where, message, hint))
        place = ""
        if self.file:
            place = f"{self.file}:{self.line}" if self.line else self.file
        parts = [p for p in (place, where) if p]
        text = ": ".join(parts + [message])
        if hint:
            text += f"; {hint}"
        return printable(" ".join(text.split()))  # always one line

    def __str__(self) -> str:
        return self.shown()

    def __reduce__(self):
        """Pickled whole (a run in a worker process raises it to the parent): file, line and settings kept."""
        return _rebuild, (type(self), self.message, dict(self.__dict__))

    def setting_names(self) -> list[str]:
        """The settings this error names (its `{name}` placeholders, with settings=True), in order."""
        if not self.settings:
            return []
        found: list[str] = []
        for text in (self.where, self.message, self.hint):
            for name in re.findall(r"(?<!\{)\{(\w+)\}(?!\})", text or ""):
                if name not in found:
                    found.append(name)
        return found


def _rebuild(cls: type[InceptcostError], message: str, state: dict) -> InceptcostError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class _Spelled(dict):
    def __init__(self, spell: Callable[[str], str]) -> None:
        super().__init__()
        self.spell = spell

    def __missing__(self, key: str) -> str:
        return self.spell(key)


class SpecError(InceptcostError):
    """A spec that cannot be read or is not valid (bad YAML, unknown key, wrong type or range)."""


class ShapeError(SpecError):
    """A valid-looking spec whose tensor shapes do not work out (spatial collapse, concat mismatch)."""


class CheckFailed(InceptcostError):
    """A verification that did not hold (over budget, a row off the paper) where the user asked for strictness."""

    exit_code = 1


class ToolMissing(InceptcostError):
    """An external program (graphviz `dot`) or optional package that this command needs is not installed."""


class OutputError(InceptcostError):
    """An output file that cannot be written: no such folder, a folder in its place, no permission, disk full."""


class BadValue(InceptcostError, ValueError):
    """A value that does not parse (a count like '1.5G', a size like '3x3', a flag's choice); the caller adds
    where it came from. Also a ValueError, the type Python's own parsers raise for the same thing."""


class SettingError(InceptcostError):
    """An argument of a library call out of range or at odds with another (a batch of 0, a budget below 0);
    its text names settings as `{name}` placeholders (see InceptcostError)."""

    def __init__(self, message: str, **where) -> None:
        super().__init__(message, settings=True, **where)


def _escaped(ch: str) -> str:
    """One character as a backslash escape: an undecodable byte of a file name (Python keeps it as a lone
    surrogate, U+DC80-U+DCFF) as the byte it was, `\\xe9`; any other character as Python writes it."""
    if "\udc80" <= ch <= "\udcff":
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return ch.encode("unicode_escape", "backslashreplace").decode("ascii")


def printable(text: str) -> str:
    """`text` safe to print on any terminal: control characters (ESC, NUL) and the undecodable bytes of a file
    name (surrogates) as backslash escapes; everything else as it is."""
    return "".join(ch if ch.isprintable() or ch == " " else _escaped(ch) for ch in text)


def encodable(text: str) -> str:
    """`text` that any UTF-8 writer, parser or terminal takes: the undecodable bytes of a file name (lone
    surrogates, which a UTF-8 encoder refuses) as backslash escapes (`caf\\xe9.yaml`); all else unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escaped(ch) if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def _escape_errors(exc: UnicodeError) -> tuple[str, int]:
    """The codec error handler `inceptcost-escape`: what an encoder cannot write (a file name's undecodable
    byte, a symbol an ASCII terminal lacks) as the backslash escape printable() gives it."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(_escaped(ch) for ch in exc.object[exc.start : exc.end]), exc.end


codecs.register_error("inceptcost-escape", _escape_errors)


class WeightsError(InceptcostError):
    """A weights file that cannot be loaded into a model: missing, corrupt, hostile, or not matching it."""


class ImportFailed(InceptcostError):
    """A torch model the importer cannot turn into a spec: untraceable, or an op the spec language lacks."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing them when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"expected one of: {', '.join(choices)}"


def literal(value: object) -> str:
    """`value` as text to put into a message with settings=True: its braces are not placeholders."""
    return str(value).replace("{", "{{").replace("}", "}}")
