"""PDF text in raw reading order (``pdftotext`` without ``-layout``): one table cell per line.

An empty cell leaves no line, and a block of a table's rows may come column by column (all its labels, then
each column's numbers top to bottom), so a label can stand far from its numbers. The reader finds the
template's row labels, in order, in the text lines between the numbers (a label wrapped over several lines
is found in their joined text), and places the numbers that follow a run of labels by the template's shape:

* one label, then as many numbers as its row has cells: the row, in order;
* several labels, then exactly as many numbers as their rows have cells together: the block came column by
  column, and each column's numbers are dealt to the rows that have a cell there (short rows are the
  rightmost cells, as the tables are drawn);
* labels with no number after them at all: every cell of those rows is blank (it printed nothing);
* any other count: which number is whose cannot be told, and those rows are left unread (absent), not
  guessed.

A block read column by column prints the labels of the label column before the sub-labels of the next one
(四、结转下年度继续办理 before 4.…, 5.…, （七）总计 above it): labels passed over in template order are looked for
again out of order, and a block's numbers are always dealt to its rows in the template's order.

The review table's fifteen numbers are read in order when all fifteen are there (or none: all blank).
Page numbers (a number line right before a form feed) and footers (``— 4 —``) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.flattext import (
    _find_rows,
    _kinds,
    _label_patterns,
    _Row,
)
from govinfo_pipeline.parse.layout import Cell, Layout, split_lines
from govinfo_pipeline.parse.tables import detect_template
from govinfo_pipeline.parse.values import NONE, NUMBER, parse_cell

_FOOTER = re.compile(r"[—–\-－]+\s*\d{1,3}\s*[—–\-－]+|第\s*\d{1,3}\s*页")
_APP_START = re.compile(r"[（(]本列数据|申请人情况")
_REVIEW_START = re.compile(r"^(?:四|4)[、.．].*(?:复议|诉讼)|^行政复议$")
_REVIEW_END = re.compile(r"^(?:五|5)[、.．]")
# Column headings, which a block read column by column prints among the numbers.
_HEADER = re.compile(
    r"信息内容|[^\d]*(?:数量|件数|金额[^\d]*)|自然人|法人或其他组织|总计|商业企业|科研机构|社会公益组织|法律服务机构|其他"
    r"|[（(][三四五六][）)](?:不予公开|无法提供|不予处理|其他处理)|三、本年度办理结果|.{0,3}收到和处理政府信息公开申请情况"
    r"|申请人情况|第二十条第[（(][一二三四五六七八九十]+[）)]项|[（(]本列数据.*|.*勾稽关系.*|本年[新]?|制作数量|公开数量|增/减|本年增/减"
)
_LABELS = ("规章", "规范性文件", "行政许可", "行政处罚", "第二十条", "申请数量")


def _is_value(text: str) -> bool:
    return any(parse_cell(text, kind).status in (NUMBER, NONE) for kind in ("count", "signed_count", "money"))


def looks_raw(text: str) -> bool:
    """True for raw reading order: no tabs, many lines that are one number each, and template labels on lines
    of their own."""
    if "\t" in text[:20000]:  # a Word dump or a layout text with tabs
        return False
    lines = [line.strip() for line in split_lines(text) if line.strip()]
    if len(lines) < 40:
        return False
    values = sum(_is_value(line) for line in lines)
    labels = sum(line in _LABELS or line.startswith("第二十条第") for line in lines)
    return values >= 20 and labels >= 3


@dataclass
class _Token:
    line: int  # 1-based
    text: str
    value: bool


def _tokens(lines: list[str]) -> list[_Token]:
    out: list[_Token] = []
    for i, raw in enumerate(lines):
        t = raw.strip().strip("\f").strip()
        if not t or _FOOTER.fullmatch(t):
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if t.isdigit() and (nxt.startswith("\f") or raw.startswith("\f")):
            continue  # a page number
        out.append(_Token(i + 1, t, _is_value(t)))
    return out


def _rows(tokens: list[_Token], template: str, section: str, notes: list[str]) -> list[list[Cell]]:
    """The section's rows from its tokens, each [label cell, value cells…], placed by the template's shape."""
    joined = ""
    at: list[int] = []  # token index of each character of ``joined``
    for k, tok in enumerate(tokens):
        if not tok.value:
            joined += tok.text
            at += [k] * len(tok.text)
    if not joined:
        return []
    found = _find_rows(joined, template, section, 0, len(joined))
    found = sorted(found + _labels_out_of_order(joined, template, section, found), key=lambda r: r.start)
    specs = {s.row: s for s in codebook.rows(template, section)}
    order = {row: i for i, row in enumerate(specs)}
    marks = [(at[r.start], at[r.run_start - 1], r) for r in found]
    groups: list[list[Cell]] = []
    block: list[tuple[int, int, _Row]] = []
    for i, (first, last, r) in enumerate(marks):
        block.append((first, last, r))
        stop = marks[i + 1][0] if i + 1 < len(marks) else len(tokens)
        values = [t for t in tokens[last + 1 : stop] if t.value]
        covered = {k for a, b, _ in block for k in range(a, b + 1)}
        stray = [
            t.text
            for k, t in enumerate(tokens[block[0][0] : stop], start=block[0][0])
            if not t.value and k not in covered and not _HEADER.fullmatch(t.text)
        ]
        if stray:  # text among the labels or numbers that is neither a label found nor a heading: a label missed?
            names = ", ".join(f"{section}.{x[2].row}" for x in block)
            notes.append(f"{names}: text {stray[0]!r} among their numbers; left unread")
            block = []
            continue
        if not values and i + 1 < len(marks):
            continue  # a run of labels: their numbers (if any) come after the last of them
        # Dealt in the template's order: a block read column by column prints a label drawn in the label column
        # before the group's sub-labels drawn in the next one (四、结转… before 4.…, 5.…, （六）…, （七）总计).
        block.sort(key=lambda x: order[x[2].row])
        rows = [x[2] for x in block]
        widths = [len(specs[x.row].cols) for x in rows]
        placed: list[list[Cell]] | None = None
        if not values:
            placed = [[Cell("", line=tokens[x[1]].line) for _ in range(w)] for x, w in zip(block, widths, strict=True)]
        elif len(rows) == 1 and len(values) == widths[0]:
            placed = [[Cell(v.text, line=v.line) for v in values]]
        elif len(rows) > 1 and len(values) == sum(widths):
            w = max(widths)
            placed = [[] for _ in rows]
            it = iter(values)
            for c in range(w):
                for k, width in enumerate(widths):
                    if c >= w - width:
                        v = next(it)
                        placed[k].append(Cell(v.text, line=v.line))
        else:
            names = ", ".join(f"{section}.{x.row}" for x in rows)
            notes.append(f"{names}: {len(values)} numbers after their labels, not {sum(widths)}; left unread")
        if placed is not None:
            for (first, _, r), cells in zip(block, placed, strict=True):
                label = specs[r.row].label
                groups.append([Cell(label, line=tokens[first].line), *cells])
        block = []
    return groups


def _labels_out_of_order(joined: str, template: str, section: str, found: list[_Row]) -> list[_Row]:
    """Rows of the section whose labels ``_find_rows`` (which reads them in template order) passed over: a
    label printed before the labels of rows above it. Only a label of four characters or more, outside the
    labels already found, is taken."""
    have = {r.row for r in found}
    spans = [(r.start, r.run_start) for r in found]
    out = []
    for spec in codebook.rows(template, section):
        if spec.row in have:
            continue
        for pattern in _label_patterns(spec):
            m = next(
                (
                    m
                    for m in pattern.finditer(joined)
                    if m.end() - m.start() >= 4 and all(m.end() <= a or m.start() >= b for a, b in spans)
                ),
                None,
            )
            if m:
                out.append(_Row(section, spec.row, m.group(0), m.start(), m.end(), "", _kinds(template, section, spec)))
                spans.append((m.start(), m.end()))
                break
    return out


def read_raw_text(text: str) -> Layout:
    """The Layout of raw-order text: the rows placed by the template's shape, the rest as prose."""
    lines = split_lines(text)
    template, _ = detect_template(text)
    tokens = _tokens(lines)
    layout = Layout(source_format="text")
    pro = next((k for k, t in enumerate(tokens) if t.text.startswith("第二十条")), None)
    app = next((k for k, t in enumerate(tokens) if _APP_START.search(t.text)), None)
    rev = next((k for k, t in enumerate(tokens[app or 0 :], start=app or 0) if _REVIEW_START.search(t.text)), None)
    end = next((k for k, t in enumerate(tokens[rev or 0 :], start=rev or 0) if _REVIEW_END.match(t.text)), None)
    if template == "unknown" or None in (pro, app, rev, end):
        layout.prose = [(t.line, t.text) for t in tokens]
        layout.notes.append("raw reading order: tables not found")
        return layout
    assert pro is not None and app is not None and rev is not None and end is not None
    layout.prose = [(t.line, t.text) for t in tokens[:pro]]
    layout.groups += _rows(tokens[pro:app], template, "proactive", layout.notes)
    layout.groups.append([Cell("申请人情况", line=tokens[app].line)])
    layout.groups += _rows(tokens[app:rev], template, "application", layout.notes)
    layout.prose.append((tokens[rev].line, tokens[rev].text))
    values = [t for t in tokens[rev + 1 : end] if t.value]
    kinds = [c for c in codebook.cells(template) if c.section == "review_litigation"]
    if len(values) in (0, len(kinds)):
        layout.groups.append([Cell("结果维持", line=tokens[rev].line)])
        cells = [Cell(v.text, line=v.line) for v in values] or [Cell("", line=tokens[rev].line) for _ in kinds]
        layout.groups.append(cells)
    else:
        layout.notes.append(f"review_litigation: {len(values)} numbers, not {len(kinds)}; left unread")
    layout.prose += [(t.line, t.text) for t in tokens[end:]]
    return layout
