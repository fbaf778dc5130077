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

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.layout import Cell, Layout, split_lines
from govinfo_pipeline.parse.layoutcols import (
    _ENUM,
    _PAGE_NO,
    Extent,
    _build_rows,
    _fit,
    _is_page_no,
    _is_value,
    _Line,
    _lines,
    _place_segments,
    _resolve_orphans,
    _Row,
    _row_cells,
    _Segment,
    _table_like,
    _Tok,
)
from govinfo_pipeline.parse.report import _is_heading
from govinfo_pipeline.parse.tables import core, norm

_STRONG_HEADER = ("申请人情况", "自然人", "法人或其他组织")


_REVIEW_WORDS = {"结果", "维持", "纠正", "其他", "尚未", "审结", "总计"}


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
