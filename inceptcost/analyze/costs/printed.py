"""Numbers as the paper prints them, and when ours agrees with one.

Table 1 prints 2-4 significant digits: `2.7K`, `159K`, `1072K` (params: weights, K = 1024) and `34M`, `128M`
(ops: multiply-adds, M = 10^6). A printed value p whose last digit is worth u (`2.7K`: u = 0.1K; `159K`: u = 1K;
`34M`: u = 1M) stands for any true value within p +/- u/2: that is what rounding allows. We grade ours:

- `ok`   |ours - p| <= u/2: agrees within the paper's rounding;
- `~`    |ours - p| <= u: off by at most one unit of the last digit (truncation, or a one-unit slip such as
         3b's 380K for 379.0K);
- `!`    beyond one unit: a real disagreement (marked in the table; `--strict` fails on it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SUFFIX = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_TEXT = re.compile(r"^\s*([0-9]*)(?:\.([0-9]+))?\s*([KMGT]?)\s*$", re.IGNORECASE)
_EPS = 1e-9  # relative slack so that an exact boundary (3a: 159.5K against 159K) counts as inside

OK, CLOSE, OFF = "ok", "~", "!"


@dataclass(frozen=True)
class Printed:
    """A value as printed: its text, its value and the worth of its last digit, both in base units."""

    text: str
    value: float
    unit: float
    scale: float  # the worth of the suffix (1024 for `K` params, 10^6 for `M` ops)
    decimals: int

    def grade(self, ours: float) -> str:
        off = abs(ours - self.value)
        slack = _EPS * max(abs(self.value), 1.0)
        if off <= self.unit / 2 + slack:
            return OK
        return CLOSE if off <= self.unit + slack else OFF

    def interval(self, units: float = 0.5) -> tuple[float, float]:
        """The true values this print allows (`units` = how many last-digit units either side)."""
        return self.value - units * self.unit, self.value + units * self.unit

    def same_style(self, ours: float, extra: int = 1) -> str:
        """Ours in the paper's style (same suffix), with `extra` more decimals: 2712 -> `2.65K` beside `2.7K`."""
        return f"{ours / self.scale:.{self.decimals + extra}f}{self.suffix}"

    def diff(self, ours: float, extra: int = 1) -> str:
        """ours - paper in the paper's style: `+0.5K`, `-54.0K`."""
        return f"{(ours - self.value) / self.scale:+.{self.decimals + extra}f}{self.suffix}"

    @property
    def suffix(self) -> str:
        m = _TEXT.match(self.text)
        return m.group(3).upper() if m else ""


def printed(text: object, base: int = 1000) -> Printed | None:
    """Parse `2.7K` (base 1024 for Table 1's params, 1000 for its ops); None when it is not a printed count."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float)):
        text = f"{text:g}"
    m = _TEXT.match(str(text))
    if not m or not (m.group(1) or m.group(2)):
        return None
    whole, frac, suffix = m.group(1) or "0", m.group(2) or "", m.group(3).upper()
    scale = float(base ** _SUFFIX[suffix])
    decimals = len(frac)
    return Printed(
        text=str(text).strip(),
        value=float(f"{whole}.{frac or 0}") * scale,
        unit=10.0**-decimals * scale,
        scale=scale,
        decimals=decimals,
    )
