"""PDF text in layout mode (``pdftotext -layout``): table columns told by their positions.

pdftotext draws each page on a grid of characters: a table row is one line (or several, when its
label wraps), cells are set apart by runs of spaces, and an empty cell prints nothing at all. This
reader finds the three national tables by their headers, cuts each line into label text and values
(positions are code-point indexes, which is how pdftotext lays out the grid), and places a row's
values in its columns:

* a row with as many values as the table has columns takes them in order;
* a row with fewer values is placed by the header words above each column, or on a page without a
  header by the columns the table used on the page before, when the spacing agrees. Only a single
  possible placement is accepted; otherwise the row keeps its values unplaced and ``tables`` reads it
  as text.

Labels that wrap are joined by position; the vertical group label (三/、/本/年/…) is left out; page
numbers, form feeds and header rows repeated after a page break are skipped; a line of numbers with no
label of its own goes to the neighbouring row that has none, when only one can take it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.layout import Cell, Layout, split_lines
from govinfo_pipeline.parse.report import _is_heading
from govinfo_pipeline.parse.tables import core, norm
from govinfo_pipeline.parse.values import NONE, NUMBER, parse_cell

_PAGE_NO = re.compile(
    r"^\s*(?:[—\-－–]+\s*\d{1,4}\s*[—\-－–]+|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?)\s*$"
)
_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)]|\d{1,2}[.．、])")
_UNIT = re.compile(r"^(?:万元|亿元|元|[（(][增减][）)])$")
_TOKEN = re.compile(r"\S+")
_STRONG_HEADER = ("申请人情况", "自然人", "法人或其他组织")
_REVIEW_WORDS = {"结果", "维持", "纠正", "其他", "尚未", "审结", "总计"}
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


# ---- lines and tokens ----


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


# ---- detection ----


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


def looks_like_layout(text: str) -> bool:
    """True for PDF text in layout mode: several lines of label + space-separated values, and page
    marks (form feeds, page numbers) or many such lines."""
    lines = split_lines(text)
    nonblank = [line for line in lines if line.strip()]
    if len(nonblank) < 5 or sum(line.startswith("\t") for line in nonblank) * 5 > len(nonblank):
        return False
    rows = sum(_table_like(line) for line in nonblank)
    marks = text.count("\f") + sum(bool(_PAGE_NO.match(line.lstrip("\f"))) for line in nonblank)
    return rows >= 8 or (rows >= 4 and marks >= 1)


# ---- column placement ----

Extent = tuple[float, float]


def _fit(centers: list[float], ext: list[Extent | None]) -> list[int] | None:
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


# ---- rows ----


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


# ---- headers ----


@functools.cache
def _app_header_vocab() -> tuple[str, ...]:
    cols = [c["label"] for c in codebook.load()["application_cols"]]
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    return tuple(norm(w) for w in (note, "申请人情况", "法人或其他组织", "单位：件", *cols))


def _is_app_header_line(line: _Line) -> bool:
    vocab = _app_header_vocab()
    return bool(line.toks) and all(
        "勾稽" in t.text or any(norm(t.text) and norm(t.text) in v for v in vocab) for t in line.toks
    )


def _app_header_end(lines: list[_Line], i: int) -> int | None:
    """The end (exclusive) of a header block starting at ``lines[i]``, if one starts there."""
    j = i
    while j < len(lines) and _is_app_header_line(lines[j]):
        j += 1
    block = [t.text for line in lines[i:j] for t in line.toks]
    if j > i and any("勾稽" in t or norm(t) in _STRONG_HEADER for t in block):
        return j
    return None


@dataclass
class _Stack:
    """A header word, possibly printed over several lines, and the columns it spans."""

    text: str  # normalized
    parts: list[str]
    line: _Line
    extent: Extent


def _stacks(lines: list[_Line], labels: list[str]) -> list[_Stack]:
    """Header words printed over several lines ("社会" / "公益" / "组织"), found by stacking tokens
    that stand one under the other while they spell the start of one of ``labels``; left to right."""
    targets = {norm(x) for x in labels}

    def prefix(text: str) -> bool:
        return any(t.startswith(text) for t in targets)

    found: list[_Stack] = []
    for i, line in enumerate(lines):
        for tok in line.toks:
            above = _under(lines, i - 1, (tok.start, tok.end - 1)) if i > 0 else None
            if above is not None and prefix(norm(above.text) + norm(tok.text)):
                continue  # the lower part of a word that starts on the line above
            text, parts, span, k = norm(tok.text), [tok.text], (tok.start, tok.end - 1), i
            while (nxt := _under(lines, k + 1, span)) is not None and prefix(text + norm(nxt.text)):
                text, k = text + norm(nxt.text), k + 1
                parts.append(nxt.text)
                span = (min(span[0], nxt.start), max(span[1], nxt.end - 1))
            if text in targets:
                found.append(_Stack(text, parts, line, (float(span[0]), float(span[1]))))
    return sorted(found, key=lambda f: f.extent[0])


def _under(lines: list[_Line], k: int, span: tuple[int, int]) -> _Tok | None:
    """The one token of ``lines[k]`` that overlaps ``span``, if exactly one does."""
    if not 0 <= k < len(lines):
        return None
    over = [t for t in lines[k].toks if t.start <= span[1] and t.end - 1 >= span[0]]
    return over[0] if len(over) == 1 else None


def _column_extents(header: list[_Line], labels: list[str]) -> list[Extent | None] | None:
    """Each column's extent from the header words, when they are found in template order."""
    stacks = _stacks(header, labels)
    if [s.text for s in stacks] != [norm(x) for x in labels]:
        return None
    return [s.extent for s in stacks]


# ---- the three tables ----


@functools.cache
def _labels(section: str) -> frozenset[str]:
    """The row labels (and aliases) of both templates, without enumerators."""
    return frozenset(
        core(x) for t in codebook.TEMPLATES for r in codebook.rows(t, section) for x in (r.label, *r.aliases)
    )


def _vertical_chars(lines: list[_Line]) -> set[int]:
    """Line numbers whose first token is one character of a vertical label: single characters at
    the same position on three or more lines close together."""
    by_pos: dict[int, list[int]] = {}
    for line in lines:
        toks = line.toks
        if (
            toks
            and len(toks[0].text) == 1
            and not _is_value(toks[0].text)
            and (len(toks) == 1 or toks[1].start - toks[0].end >= 2)
        ):
            by_pos.setdefault(toks[0].start, []).append(line.no)
    out: set[int] = set()
    for numbers in by_pos.values():
        run = [numbers[0]]
        for no in numbers[1:] + [10**9]:
            if no - run[-1] <= 2:
                run.append(no)
                continue
            if len(run) >= 3:
                out.update(run)
            run = [no]
    return out


def _app_body(
    lines: list[_Line], cols: list[str]
) -> tuple[list[Cell], dict[int, list[Extent | None] | None], list[_Line]]:
    """The first header's marks (for ``tables`` to find the table), each page's column extents from
    its header (repeated headers included), and the body lines without the vertical group label."""
    vertical = _vertical_chars(lines)
    marks: list[Cell] = []
    headers: dict[int, list[Extent | None] | None] = {}
    body: list[_Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        end = _app_header_end(lines, i) if not line.blank else None
        if end is not None:
            header = lines[i:end]
            if not marks:
                marks = [
                    Cell(t.text, line=h.no, offset=t.start + h.shift)
                    for h in header
                    for t in h.toks
                    if "勾稽" in t.text or norm(t.text) in _STRONG_HEADER
                ]
            headers[line.page] = _column_extents(header, cols)
            i = end
            continue
        i += 1
        if line.no in vertical:
            line = _Line(line.no, line.text, line.shift, line.page, line.toks[1:])
        if not line.blank and not _is_page_no(line):
            body.append(line)
    return marks, headers, body


def _by_page(rows: list[_Row], headers: dict[int, list[Extent | None] | None]) -> list[_Segment]:
    """Rows grouped by the page their values (or label) stand on, with that page's header extents."""
    segments: dict[int, _Segment] = {}
    for row in rows:
        where = row.value_line or (row.label.line if row.label else None)
        if where is not None:
            segments.setdefault(where.page, _Segment(header=headers.get(where.page))).rows.append(row)
    return list(segments.values())


def _application(lines: list[_Line]) -> list[list[Cell]]:
    """Table 三: header rows, then rows whose labels open with an enumerator (一、 / （一） / 1.)."""
    cols = [c["label"] for c in codebook.load()["application_cols"]]
    marks, headers, body = _app_body(lines, cols)
    known = _labels("application")

    def is_new(text: str, has_values: bool) -> bool:  # 一、 / （一） / 1. …, or a whole label without it
        return bool(_ENUM.match(text)) or (has_values and core(text) in known)

    rows = _resolve_orphans(_build_rows(body, is_new))
    placed = _place_segments(_by_page(rows, headers), len(cols))
    return ([marks] if marks else []) + [_row_cells(r, len(cols), placed.get(id(r))) for r in rows]


@dataclass
class _Block:
    """One block of table 二: its title and header cells, column count and extents, and body lines."""

    cells: list[Cell] = field(default_factory=list)
    n: int | None = None
    header: list[Extent | None] | None = None
    header_page: int | None = None
    body: list[_Line] = field(default_factory=list)


def _blocks(lines: list[_Line]) -> list[_Block]:
    blocks: list[_Block] = []
    for line in lines:
        if line.blank or _is_page_no(line):
            continue
        first = line.toks[0]
        if first.text.startswith("第二十条") and len(line.toks) == 1:
            blocks.append(_Block([Cell(first.text, line=line.no, offset=first.start + line.shift)]))
            continue
        if not blocks or (norm(first.text) == "信息内容" and blocks[-1].n is not None):
            blocks.append(_Block())
        block = blocks[-1]
        if norm(first.text) == "信息内容" and block.n is None:
            heads = line.toks[1:]
            block.cells += [Cell(t.text, line=line.no, offset=t.start + line.shift) for t in line.toks]
            block.n, block.header_page = len(heads), line.page
            block.header = [(float(t.start), float(t.end - 1)) for t in heads]
            continue
        block.body.append(line)
    return blocks


def _proactive(lines: list[_Line]) -> list[list[Cell]]:
    """Blocks: a title (第二十条第（一）项), a header (信息内容 | column words), rows of label + values."""
    known = _labels("proactive")
    groups: list[list[Cell]] = []
    for block in _blocks(lines):
        if block.cells:
            groups.append(block.cells)
        rows = _resolve_orphans(_build_rows(block.body, lambda text, values: values or core(text) in known))
        headers = {block.header_page: block.header} if block.header_page is not None else {}
        placed = _place_segments(_by_page(rows, headers), block.n) if block.n else {}
        groups.extend(_row_cells(r, block.n, placed.get(id(r))) for r in rows)
    return groups


def _review(lines: list[_Line]) -> list[list[Cell]]:
    """Header rows, then one row of 15 values (possibly over several lines)."""
    labels = [c["label"] for c in codebook.load()["review_litigation_cols"]]
    n = len(labels) * len(codebook.load()["review_litigation_rows"])
    header = [line for line in lines if line.toks and not _is_data(line) and not _is_page_no(line)]
    data = [line for line in lines if _is_data(line)]
    groups: list[list[Cell]] = []
    for line in header:
        if not any(norm(t.text) in _REVIEW_WORDS for t in line.toks):
            groups.append([Cell(t.text, line=line.no, offset=t.start + line.shift) for t in line.toks])
    stacks = _stacks(header, labels)
    groups.append([Cell("\n".join(s.parts), line=s.line.no, offset=int(s.extent[0]) + s.line.shift) for s in stacks])
    values = [(t, line) for line in data for t in line.toks]
    cells = [Cell(t.text, line=line.no, offset=t.start + line.shift) for t, line in values]
    if len(cells) != n:
        ext = [s.extent for s in stacks] if [s.text for s in stacks] == [norm(x) for x in labels] * 3 else None
        place = _fit([t.center for t, _ in values], ext) if ext and len(data) == 1 else None
        if place is None:  # cannot be placed with certainty: none is read (the cells stay absent)
            return groups
        slots = [Cell("", line=data[0].no) for _ in range(n)]
        for j, cell in zip(place, cells, strict=True):
            slots[j] = cell
        cells = slots
    return groups + [cells] if cells else groups


# ---- regions ----


def _is_review_header(line: _Line) -> bool:
    words = [norm(t.text) for t in line.toks]
    return ("行政复议" in words and "行政诉讼" in words) or sum(w in _REVIEW_WORDS for w in words) >= 4


def _is_prose(line: _Line) -> bool:
    return "。" in line.text and len(line.text.strip()) >= 12


def _ends_table(line: _Line) -> bool:
    return _is_heading(line.text) is not None or _is_prose(line)


def _is_data(line: _Line) -> bool:
    return bool(line.toks) and all(_is_value(t.text) for t in line.toks) and not _is_page_no(line)


def _table_end(lines: list[_Line], start: int, stop: Callable[[_Line], bool] = lambda _line: False) -> int:
    """The index of the first line after ``start`` that ends a table (a section heading, a line of
    prose, or what ``stop`` says), or the end of the text."""
    return next((j for j in range(start + 1, len(lines)) if _ends_table(lines[j]) or stop(lines[j])), len(lines))


def _application_start(lines: list[_Line]) -> int | None:
    """Table 三 starts at its header, or, with no header, at its first row (一、本年新收…)."""
    found = next((i for i in range(len(lines)) if _app_header_end(lines, i) is not None), None)
    if found is None:
        found = next(
            (
                i
                for i, line in enumerate(lines)
                if line.toks
                and _ENUM.match(line.toks[0].text)
                and "本年新收政府信息公开申请" in norm(line.toks[0].text)
            ),
            None,
        )
    return found


def _review_end(lines: list[_Line], start: int) -> int:
    """After the review header: its lines of values, up to the first other line that follows them."""
    seen_data = False
    for j in range(start + 1, len(lines)):
        line = lines[j]
        if _ends_table(line) or (seen_data and line.toks and not _is_data(line)):
            return j
        seen_data = seen_data or _is_data(line)
    return len(lines)


def _regions(lines: list[_Line]) -> list[tuple[str, int, int]]:
    """(table, first index, end index) of the proactive, application and review tables."""
    out: list[tuple[str, int, int]] = []
    app = _application_start(lines)
    limit = app if app is not None else len(lines)
    pro = next(
        (
            i
            for i in range(limit)
            if lines[i].toks
            and (
                (lines[i].toks[0].text.startswith("第二十条") and len(lines[i].toks) == 1)
                or norm(lines[i].toks[0].text) == "信息内容"
            )
        ),
        None,
    )
    after = 0
    if pro is not None:
        after = min(_table_end(lines, pro), limit)
        out.append(("proactive", pro, after))
    if app is not None:
        after = _table_end(lines, app, _is_review_header)
        out.append(("application", app, after))
    rev = next((j for j in range(after, len(lines)) if _is_review_header(lines[j])), None)
    if rev is not None:
        out.append(("review", rev, _review_end(lines, rev)))
    return out


def _title(lines: list[_Line]) -> str | None:
    """The opening lines before the first blank line, joined without pdftotext's spaces."""
    parts: list[str] = []
    for line in lines:
        if line.blank:
            if parts:
                break
            continue
        text = line.text.strip()
        if len(text) > 40 or "。" in text or len(parts) == 3:
            return None
        parts.append(text)
    title = re.sub(r"\s+", "", "".join(parts))
    return title if "报告" in title else None


def read_layout_text(text: str) -> Layout:
    """Tables by column position, everything else as prose lines (1-based line numbers)."""
    lines = _lines(text)
    readers = {"proactive": _proactive, "application": _application, "review": _review}
    layout = Layout(source_format="text", title=_title(lines))
    taken: set[int] = set()
    for kind, a, b in _regions(lines):
        layout.groups.extend(readers[kind](lines[a:b]))
        taken.update(range(a, b))
    layout.prose = [
        (line.no, line.text)
        for i, line in enumerate(lines)
        if i not in taken and not line.blank and not _is_page_no(line)
    ]
    return layout
