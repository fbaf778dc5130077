"""Text laid out in columns (``pdftotext -layout``): tokens with their positions, rows, and fitting them to
column spans. The reading of the report's tables from them is in ``layouttext``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import median

from govinfo_pipeline.parse.layout import Cell, split_lines
from govinfo_pipeline.parse.values import NONE, NUMBER, parse_cell

_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)]|\d{1,2}[.．、])")
Extent = tuple[float, float]  # a column's span of characters: (first, last)

_PAGE_NO = re.compile(
    r"^\s*(?:[—\-－–]+\s*\d{1,4}\s*[—\-－–]+|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?)\s*$"
)


_UNIT = re.compile(r"^(?:万元|亿元|元|[（(][增减][）)])$")


_TOKEN = re.compile(r"\S+")


_NEAR = 3  # how far (in characters) a wrapped label part may stand from the label it continues


@dataclass
class _Tok:
    text: str
    start: int  # code-point index in the line without its leading form feeds
    end: int

    @property
    def center(self) -> float:
        return (self.start + self.end - 1) / 2


@dataclass
class _Line:
    no: int  # 1-based
    text: str  # the line without leading form feeds
    shift: int  # how many form feeds were cut from its start
    page: int
    toks: list[_Tok]

    @property
    def blank(self) -> bool:
        return not self.toks


@dataclass
class _Piece:
    """A label, possibly over several lines."""

    parts: list[str]
    line: _Line
    start: int
    end: int

    def cell(self) -> Cell:
        return Cell("\n".join(self.parts), line=self.line.no, offset=self.start + self.line.shift)


@dataclass
class _Row:
    label: _Piece | None  # None: a line of values without a label (an orphan)
    values: list[_Tok] = field(default_factory=list)
    value_line: _Line | None = None
    own: bool = False  # the values stand on the label's first line
    poisoned: bool = False  # values may be missing or misplaced: emit no cells


def _is_value(text: str) -> bool:
    """A cell's text: a number (money with its unit too), 无 or /, or anything opening with a digit
    that is not an enumerated label ("3件" is read as text later, never as a label)."""
    if parse_cell(text, "money").status in (NUMBER, NONE):
        return True
    return bool(re.match(r"[+\-]?\d", text)) and not _ENUM.match(text)


def _tokens(text: str) -> list[_Tok]:
    """Whitespace-separated tokens; a unit or （增）/（减） one space after a number joins it."""
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        tok = _Tok(m.group(), m.start(), m.end())
        if (
            toks
            and _UNIT.match(tok.text)
            and tok.start - toks[-1].end == 1
            and parse_cell(toks[-1].text).status == NUMBER
        ):
            prev = toks[-1]
            toks[-1] = _Tok(text[prev.start : tok.end], prev.start, tok.end)
            continue
        toks.append(tok)
    return toks


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    page = 1
    for no, raw in enumerate(split_lines(text), start=1):
        body = raw.lstrip("\f")
        shift = len(raw) - len(body)
        page += shift
        out.append(_Line(no, body, shift, page, _tokens(body)))
    return out


def _is_page_no(line: _Line) -> bool:
    return bool(line.toks) and bool(_PAGE_NO.match(line.text))


def _split(toks: list[_Tok]) -> tuple[list[_Tok], list[_Tok]]:
    """(label tokens, values): the values are the trailing run of value-like tokens."""
    i = len(toks)
    while i > 0 and _is_value(toks[i - 1].text):
        i -= 1
    return toks[:i], toks[i:]


def _pieces(toks: list[_Tok]) -> list[_Tok]:
    """Label tokens one space apart joined; two or more spaces separate label pieces."""
    out: list[_Tok] = []
    for tok in toks:
        if out and tok.start - out[-1].end <= 1:
            out[-1] = _Tok(out[-1].text + " " + tok.text, out[-1].start, tok.end)
        else:
            out.append(tok)
    return out


def _table_like(line: str) -> bool:
    """A label followed by two or more values, the values set apart by runs of spaces."""
    if line.startswith("\t"):
        return False
    toks = _tokens(line.lstrip("\f"))
    label, values = _split(toks)
    if not label or len(values) < 2:
        return False
    gaps = [b.start - a.end for a, b in zip([label[-1], *values], values, strict=False)]
    return min(gaps) >= 2


def _fit(centers: list[float], ext: Sequence[Extent | None]) -> list[int] | None:
    """The one order-keeping placement of ``centers`` into the columns, or None if there are several
    or none. A value may not stand inside another column's extent, and must stand between its
    neighbours' extents."""
    n, k = len(ext), len(centers)
    if k == n:
        return list(range(n))
    if k > n or k == 0 or any(e is None for e in ext):
        return None
    spans: list[Extent] = [e for e in ext if e is not None]

    def fits(x: float, j: int) -> bool:
        if any(jj != j and s - 0.5 <= x <= e + 0.5 for jj, (s, e) in enumerate(spans)):
            return False
        lo = spans[j - 1][1] if j > 0 else float("-inf")
        hi = spans[j + 1][0] if j < n - 1 else float("inf")
        return lo < x < hi

    found: list[list[int]] = []

    def place(i: int, first: int, chosen: list[int]) -> None:
        if len(found) > 1:
            return
        if i == k:
            found.append(list(chosen))
            return
        for j in range(first, n - (k - i) + 1):
            if fits(centers[i], j):
                place(i + 1, j + 1, [*chosen, j])

    place(0, 0, [])
    return found[0] if len(found) == 1 else None


def _hull(a: Extent | None, b: Extent | None) -> Extent | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def _data_extents(rows: list[list[_Tok]], n: int) -> list[Extent | None]:
    """Per column, the span of the value centres of rows that fill every column."""
    ext: list[Extent | None] = [None] * n
    for values in rows:
        if len(values) == n:
            for j, tok in enumerate(values):
                ext[j] = _hull(ext[j], (tok.center, tok.center))
    return ext


def _pattern_fit(rows: list[list[_Tok]], pattern: list[int] | None) -> list[int] | None:
    """On a page without a header whose rows all have k values, the columns the table used on the
    page before (``pattern``), if the spacing of the value columns agrees with it."""
    counts = {len(v) for v in rows if v}
    if pattern is None or counts != {len(pattern)}:
        return None
    k = len(pattern)
    clusters = [(min(v[i].center for v in rows if v), max(v[i].center for v in rows if v)) for i in range(k)]
    if any(clusters[i][1] + 1 >= clusters[i + 1][0] for i in range(k - 1)):
        return None
    centers = [(a + b) / 2 for a, b in clusters]
    gaps = [centers[i + 1] - centers[i] for i in range(k - 1)]
    steps = [pattern[i + 1] - pattern[i] for i in range(k - 1)]
    unit_gaps = [g for g, s in zip(gaps, steps, strict=True) if s == 1]
    if len(unit_gaps) < 2 or all(s == 1 for s in steps):
        return None
    pitch = median(unit_gaps)
    if any(abs(g / pitch - s) > 0.35 for g, s in zip(gaps, steps, strict=True)):
        return None
    return pattern


@dataclass
class _Segment:
    """The rows of one table on one page, and what tells their columns."""

    header: list[Extent | None] | None = None
    rows: list[_Row] = field(default_factory=list)


def _place_segments(segments: list[_Segment], n: int) -> dict[int, list[int] | None]:
    """Column indexes for each row's values (by id of the row), page by page."""
    out: dict[int, list[int] | None] = {}
    pattern: list[int] | None = None
    for seg in segments:
        value_rows = [r.values for r in seg.rows if r.values]
        data = _data_extents(value_rows, n)
        if seg.header is not None:
            ext = [_hull(h, d) for h, d in zip(seg.header, data, strict=True)]
            placed = {id(r): _fit([t.center for t in r.values], ext) for r in seg.rows if r.values}
        elif any(e is not None for e in data):
            placed = {id(r): _fit([t.center for t in r.values], data) for r in seg.rows if r.values}
        else:
            fit = _pattern_fit(value_rows, pattern)
            placed = {
                id(r): (
                    fit if fit is not None and len(r.values) == len(fit) else _fit([t.center for t in r.values], data)
                )
                for r in seg.rows
                if r.values
            }
        out.update(placed)
        used = {tuple(p) for r in seg.rows if r.values and (p := placed[id(r)]) is not None and len(p) < n}
        if len(used) == 1 and all(placed[id(r)] is not None for r in seg.rows if r.values):
            pattern = list(next(iter(used)))
        elif value_rows:
            pattern = None
    return out


def _row_cells(row: _Row, n: int | None, cols: list[int] | None) -> list[Cell]:
    """The row's label cell, then its value cells in column order (blank where nothing is printed)."""
    cells = [row.label.cell()] if row.label is not None else []
    if row.poisoned:
        return cells
    if not row.values:
        line = row.label.line.no if row.label is not None else None
        return cells + [Cell("", line=line) for _ in range(n or 0)]
    assert row.value_line is not None
    vline = row.value_line
    found = [Cell(t.text, line=vline.no, offset=t.start + vline.shift) for t in row.values]
    if n is None or cols is None:
        return cells + found
    slots = [Cell("", line=vline.no) for _ in range(n)]
    for j, cell in zip(cols, found, strict=True):
        slots[j] = cell
    return cells + slots


def _build_rows(body: list[_Line], is_new: Callable[[str, bool], bool]) -> list[_Row]:
    """Rows, and lines of values without a label (orphans), in order. A label piece that ``is_new``
    opens a label; any other piece continues the open label it stands under."""
    items: list[_Row] = []
    open_: list[_Piece] = []
    for line in body:
        label_toks, values = _split(line.toks)
        pieces = _pieces(label_toks)
        new = [i for i, p in enumerate(pieces) if is_new(p.text, bool(values))]
        row_piece: _Piece | None = None
        for i, tok in enumerate(pieces):
            if i in new:
                piece = _Piece([tok.text], line, tok.start, tok.end)
                open_ = [p for p in open_ if p.end <= tok.start or p.start >= tok.end]
                open_.append(piece)
                if i == new[-1]:
                    row_piece = piece
            else:
                _continue(open_, tok)
        if row_piece is not None:
            items.append(_Row(row_piece, values, line if values else None, own=bool(values)))
        elif values:
            items.append(_Row(None, values, line))
    return items


def _continue(open_: list[_Piece], tok: _Tok) -> None:
    """Append a wrapped label part to the open label above it (the latest that overlaps, else the
    nearest within a few characters); a part with no such label is left out."""

    def distance(p: _Piece) -> int:
        return max(p.start - tok.end, tok.start - p.end, 0)

    near = [p for p in reversed(open_) if distance(p) <= _NEAR]
    if near:
        best = min(near, key=distance)
        best.parts.append(tok.text)
        best.start, best.end = min(best.start, tok.start), max(best.end, tok.end)


def _resolve_orphans(rows: list[_Row]) -> list[_Row]:
    """Give each line of values without a label to the one neighbouring row that has none; when
    neither or both could take it, the neighbours without values get no cells (read as absent)."""
    for i, orphan in enumerate(rows):
        if orphan.label is not None:
            continue
        prev = rows[i - 1] if i > 0 else None
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if (prev is not None and prev.label is None) or (nxt is not None and nxt.label is None):
            prev_full = next_full = True  # two orphans in a row: nothing is certain
        else:
            prev_full = prev is None or bool(prev.values)
            next_full = nxt is None or nxt.own
        if prev is not None and not prev_full and next_full:
            prev.values, prev.value_line = orphan.values, orphan.value_line
        elif nxt is not None and prev_full and not next_full:
            nxt.values, nxt.value_line = orphan.values, orphan.value_line
        else:
            for r in (prev, nxt):
                if r is not None and r.label is not None and not r.values:
                    r.poisoned = True
    return [r for r in rows if r.label is not None]
