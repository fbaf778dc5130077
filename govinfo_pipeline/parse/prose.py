"""Numbers the prose quotes about applications and appeals, so they can be checked against the tables.

Each claim names the table figure it should equal: a sum of application rows' 总计 cells, or a
review/litigation total. Phrases follow the ways reports word them ("新收到…申请共计23件",
"上年度结转1件", "2件结转下一年度继续办理", "提起行政复议有1件", "未提起行政诉讼").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from govinfo_pipeline.parse import codebook


class Claim(NamedTuple):
    target: str  # a figure name from FIGURES
    value: float
    phrase: str
    line: int | None  # None where the format has no line numbers (HTML, DOCX, PDF prose)


def _rows(prefix: str) -> tuple[str, ...]:
    return tuple(r["row"] for r in codebook.load()["application_rows"] if r["row"].startswith(prefix))


# figure -> the cells that add up to it, as (section, row, col)
FIGURES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "new_received": (("application", "new_received", "total"),),
    "carried_over": (("application", "carried_over", "total"),),
    "total_processed": (("application", "total_processed", "total"),),
    "granted": (("application", "granted", "total"),),
    "partially_granted": (("application", "partially_granted", "total"),),
    "denied": tuple(("application", r, "total") for r in _rows("denied_")),
    "unable": tuple(("application", r, "total") for r in _rows("unable_")),
    "not_processed": tuple(("application", r, "total") for r in _rows("not_processed_")),
    "other_handling": tuple(("application", r, "total") for r in ("other", *_rows("other_"))),
    "carried_forward": (("application", "carried_forward", "total"),),
    "review": (("review_litigation", "review", "total"),),
    "litigation": (
        ("review_litigation", "litigation_direct", "total"),
        ("review_litigation", "litigation_after_review", "total"),
    ),
}

_N = r"(\d{1,7})\s*(?:件|个|宗|起)"
_GAP = r"[^，。；;,\d]{0,12}?"  # a few words, never crossing a clause or another number
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "new_received",
        re.compile(r"(?:新收|新接收|收到|受理)[^。；]{0,20}?申请" + _GAP + r"(?:共计|共|合计|总计)?\s*" + _N),
    ),
    ("carried_over", re.compile(r"上(?:一)?年(?:度)?结转" + _GAP + _N)),
    ("total_processed", re.compile(r"(?<!未)办结" + _GAP + _N)),
    ("granted", re.compile(r"(?<![部分不予动])(?:予以)?公开" + r"(?:的)?\s*" + _N)),
    ("partially_granted", re.compile(r"部分公开\s*" + _N)),
    ("denied", re.compile(r"不予公开\s*" + _N)),
    ("unable", re.compile(r"无法提供\s*" + _N)),
    ("not_processed", re.compile(r"不予处理\s*" + _N)),
    ("other_handling", re.compile(r"其他处理\s*" + _N)),
    ("carried_forward", re.compile(r"结转(?:至)?下(?:一)?年(?:度)?" + _GAP + _N)),
    ("carried_forward", re.compile(_N + r"\s*结转(?:至)?下(?:一)?年(?:度)?")),
    ("review", re.compile(r"行政复议(?:案件)?(?:有|共|共计)?\s*" + _N)),
    ("litigation", re.compile(r"行政诉讼(?:案件)?(?:有|共|共计)?\s*" + _N)),
)
ZERO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("review", re.compile(r"(?:未|没有)(?:被)?(?:提起|发生|申请)?(?:政府信息公开)?行政复议")),
    ("litigation", re.compile(r"(?:未|没有)(?:被)?(?:提起|发生)?(?:政府信息公开)?行政诉讼")),
)
# "No application was received": the X9 rule compares this with the table.
NO_APPLICATIONS_FIGURE = "no_applications"
NO_APPLICATIONS = re.compile(
    r"(?:未|没有|无)(?:收到|接到|受理)[^。；]{0,40}?申请|申请(?:数量)?(?:为|是)\s*(?:0|零)\s*件"
)


_SENTENCE_END = ("。", "；", ";", "！", "？", "：", ":")


def paragraphs(prose: Sequence[tuple[int | None, str]]) -> list[tuple[str, list[tuple[int, int | None]]]]:
    """Prose lines joined where a sentence wraps onto the next line (PDF layout text breaks lines mid-phrase:
    "结转下年度" / "继续办理 3 件"): (text, [(offset, line), …]) with the line each piece starts."""
    out: list[tuple[str, list[tuple[int, int | None]]]] = []
    adjacent = False  # the previous entry was prose on the line just before (or, without line numbers, just before)
    prev: int | None = None
    for line_no, line in prose:
        if line.startswith("\t"):
            adjacent = False
            continue
        text = line.strip()
        follows = adjacent and (
            line_no is None and prev is None or line_no is not None and prev is not None and line_no == prev + 1
        )
        if out and follows and not out[-1][0].endswith(_SENTENCE_END):
            joined, starts = out[-1]
            out[-1] = (joined + text, [*starts, (len(joined), line_no)])
        else:
            out.append((text, [(0, line_no)]))
        prev, adjacent = line_no, True
    return out


def _line_at(starts: list[tuple[int, int | None]], offset: int) -> int | None:
    return next(line for start, line in reversed(starts) if start <= offset)


def find_claims(prose: Sequence[tuple[int | None, str]]) -> list[Claim]:
    """Every quoted figure in the prose, in order, with the line where its phrase starts; a line may hold
    several, and a phrase may wrap onto the next line."""
    claims: list[Claim] = []
    for text, starts in paragraphs(prose):
        taken: list[tuple[int, int]] = []
        for target, pattern in PATTERNS:
            for m in pattern.finditer(text):
                span = m.span(1)
                if any(a <= span[0] < b for a, b in taken):
                    continue
                taken.append(span)
                claims.append(Claim(target, float(m.group(1)), m.group(0), _line_at(starts, m.start())))
        for target, pattern in ZERO_PATTERNS:
            for m in pattern.finditer(text):
                claims.append(Claim(target, 0.0, m.group(0), _line_at(starts, m.start())))
    return claims


def says_no_applications(prose: Sequence[tuple[int | None, str]]) -> tuple[str, int | None] | None:
    """(phrase, line) where the prose says no application was received."""
    for line_no, line in prose:
        m = NO_APPLICATIONS.search(line)
        if m:
            return m.group(0), line_no
    return None
