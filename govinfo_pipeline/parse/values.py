"""Reading one table cell's raw text into (value, unit, status).

The raw text is never changed; these functions only interpret it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

NUMBER = "number"
BLANK = "blank"
NONE = "none"
TEXT = "text"
ABSENT = "absent"
CELL_STATUSES = (NUMBER, BLANK, NONE, TEXT, ABSENT)

# Word/LibreOffice text dumps leave bookmarks such as "[bookmark: _GoBack]" glued to a value.
_ARTIFACT = re.compile(r"\[bookmark:[^\]]*\]")
_SPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u3000\ufeff]+")
_NONE_MARKS = frozenset({"无", "/", "-", "--", "—", "——", "–", "_", "\\", "N/A", "NA", "n/a", "暂无", "空"})
_CHANGE = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)\(?(增|减|增加|减少)\)?$")
_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(万元|亿元|元|件|条|个|项|次)?$")
MONEY_UNITS = ("元", "万元", "亿元")


class CellValue(NamedTuple):
    value: float | None
    unit: str | None
    status: str


def clean(raw: str) -> str:
    """The cell text with artifacts and every kind of space removed, in NFKC form."""
    text = _ARTIFACT.sub("", raw)
    text = unicodedata.normalize("NFKC", text)
    return _SPACE.sub("", text)


@functools.lru_cache(maxsize=1 << 16)  # the same few raw texts ("0", "", "无") fill most cells
def parse_cell(raw: str | None, kind: str = "count", default_unit: str | None = None) -> CellValue:
    """Interpret a cell's raw text.

    ``kind`` is the codebook kind: ``count``, ``signed_count`` or ``money``. A unit written in a
    money cell wins over the template's default unit; counts carry no unit.
    """
    if raw is None:
        return CellValue(None, None, ABSENT)
    text = clean(raw)
    if not text:
        return CellValue(None, None, BLANK)
    if text in _NONE_MARKS:
        return CellValue(None, None, NONE)
    m = _CHANGE.match(text)
    if m and (m.group(1) == "" or kind == "signed_count"):
        magnitude = float(m.group(2))
        return CellValue(-magnitude if m.group(3).startswith("减") else magnitude, None, NUMBER)
    m = _NUMBER.match(text)
    if not m:
        return CellValue(None, None, TEXT)
    sign, digits, frac, unit = m.groups()
    value = float(digits.replace(",", "") + (frac or ""))
    if sign == "-":
        value = -value
    if kind == "money":
        return CellValue(value, unit if unit in MONEY_UNITS else default_unit, NUMBER)
    if unit in MONEY_UNITS:  # money written into a count cell: keep it, but not as a count
        return CellValue(None, None, TEXT)
    return CellValue(value, None, NUMBER)
