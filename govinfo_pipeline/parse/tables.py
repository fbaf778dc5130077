"""Mapping table row groups onto the codebook's cells, and telling the template version."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TypedDict

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.layout import Cell
from govinfo_pipeline.parse.values import ABSENT, BLANK, NONE, NUMBER, TEXT, clean, parse_cell

_PUNCT = re.compile(r"[\s\u00a0\u3000“”\"'‘’「」、，,.。：:；;·]")
_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\(?[一二三四五六七八九十]+\)|\(?\d+[、.)]?)")
_REVIEW_HEADER_WORDS = ("结果", "复议", "诉讼", "总计", "审结", "起诉")
_LOOKAHEAD = 4  # how many template rows a label may skip ahead (rows missing from the report)

FEATURES_2019 = (
    "本年新制作数量",
    "本年新公开数量",
    "对外公开总数量",
    "上一年项目数量",
    "本年增/减",
    "其他对外管理服务事项",
    "第二十条第(九)项",
    "政府集中采购",
    "采购总金额",
)
FEATURES_2021 = (
    "本年制发件数",
    "本年废止件数",
    "现行有效件数",
    "本年收费金额",
    "本年处理决定数量",
    "逾期不补正",
    "逾期未按收费通知要求缴纳费用",
)
# Text that shows a national application table is there at all.
_APPLICATION_ANCHORS = ("本年新收政府信息公开申请数量", "勾稽关系", "申请人情况")


@functools.lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    """Normalized label: NFKC (full-width brackets become half-width), no spaces or punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text))


@functools.lru_cache(maxsize=1 << 16)
def core(text: str) -> str:
    """A label without its enumerator ("1.", "（三）", "一、")."""
    return norm(_ENUM.sub("", unicodedata.normalize("NFKC", text).strip()))


def detect_template(text: str) -> tuple[str, dict[str, int]]:
    """'2019', '2021' or 'unknown', from table features (never from the year)."""
    flat = norm(text)
    score = {
        "2019": sum(norm(f) in flat for f in FEATURES_2019),
        "2021": sum(norm(f) in flat for f in FEATURES_2021),
    }
    has_tables = any(norm(a) in flat for a in _APPLICATION_ANCHORS) or "第二十条" in flat
    if not has_tables or score["2019"] == score["2021"]:
        return "unknown", score
    return ("2019" if score["2019"] > score["2021"] else "2021"), score


class CellRecord(TypedDict):
    """One codebook cell as read from a report: a row of the cell frame, without its report id."""

    section: str
    row: str
    col: str
    value: float | None
    unit: str | None
    cell_status: str
    raw_text: str | None
    source_line: int | None
    source_page: int | None
    source_table: int | None
    source_row: int | None
    source_col: int | None
    source_offset: int | None
    cell_flag: str | None
    box_x0: float | None
    box_top: float | None
    box_x1: float | None
    box_bottom: float | None
    ocr_confidence: float | None


@dataclass
class TableResult:
    """Cells found for one template, plus notes on what could not be read."""

    cells: list[CellRecord] = field(default_factory=list)
    found_tables: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    unread_rows: list[str] = field(default_factory=list)  # rows kept as text: their cells could not be aligned


def _label_matches(cell_text: str, label: str, aliases: tuple[str, ...] = ()) -> bool:
    c = core(cell_text)
    if not c:
        return False
    for candidate in (label, *aliases):
        target = core(candidate)
        if c == target:
            return True
        if len(c) >= 4 and len(target) >= 4 and (c in target or target in c):
            return True
    return False


def _is_subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def _label_nearly_matches(cell_text: str, label: str) -> bool:
    """A label whose text layer dropped characters (``其他法律行政止公开`` for ``其他法律行政法规禁止公开``): what
    is left stands in the template's label in order, and is most of it."""
    c, target = core(cell_text), core(label)
    return len(c) >= 6 and len(c) < len(target) and 4 * len(c) >= 3 * len(target) and _is_subsequence(c, target)


def _is_value_like(cell: Cell) -> bool:
    return cell.flag == "unsplittable" or parse_cell(cell.raw).status in (NUMBER, BLANK, NONE)


def _emit(result: TableResult, spec: codebook.CellSpec, cell: Cell | None, as_text: bool = False) -> None:
    raw = None if cell is None else cell.raw
    flag = None if cell is None else cell.flag
    if flag in ("unsplittable", "ocr_low"):  # glued digits no rule can cut, an OCR reading in doubt: kept as text
        as_text = True
    value, unit, status = (None, None, TEXT) if as_text else parse_cell(raw, spec.kind, spec.default_unit)
    box = None if cell is None else cell.box
    result.cells.append(
        {
            "section": spec.section,
            "row": spec.row,
            "col": spec.col,
            "value": value,
            "unit": unit,
            "cell_status": status,
            "raw_text": raw,
            "source_line": None if cell is None else cell.line,
            "source_page": None if cell is None else cell.page,
            "source_table": None if cell is None else cell.table,
            "source_row": None if cell is None else cell.row,
            "source_col": None if cell is None else cell.col,
            "source_offset": None if cell is None else cell.offset,
            "cell_flag": flag,
            "box_x0": None if box is None else box[0],
            "box_top": None if box is None else box[1],
            "box_x1": None if box is None else box[2],
            "box_bottom": None if box is None else box[3],
            "ocr_confidence": None if cell is None else cell.confidence,
        }
    )


def _region(groups: list[list[Cell]], start_markers: tuple[str, ...], begin: int = 0) -> int | None:
    for i in range(begin, len(groups)):
        if any(norm(m) in norm(c.text) for c in groups[i] for m in start_markers):
            return i
    return None


def _labelled_rows(result: TableResult, template: str, section: str, groups: list[list[Cell]]) -> None:
    """Tables whose rows start with a label cell (二 and 三): match labels in template order."""
    specs = codebook.rows(template, section)
    cell_specs = {(c.row, c.col): c for c in codebook.cells(template) if c.section == section}
    found: dict[str, list[Cell]] = {}
    misaligned: set[str] = set()
    pointer = 0
    for group in groups:
        hit: tuple[int, int] | None = None  # (row index, cell index of its label)
        for ci, cell in enumerate(group):
            if _is_value_like(cell):
                continue
            for ri in range(pointer, min(pointer + _LOOKAHEAD, len(specs))):
                if specs[ri].row not in found and _label_matches(cell.text, specs[ri].label, specs[ri].aliases):
                    hit = (ri, ci)  # keep the last label in the group: group headers come first
                    break
        if hit is None:  # no label as written: one that lost characters, if exactly one template row fits it
            near = [
                (ri, ci)
                for ci, cell in enumerate(group)
                if not _is_value_like(cell)
                for ri in range(pointer, min(pointer + _LOOKAHEAD, len(specs)))
                if specs[ri].row not in found and _label_nearly_matches(cell.text, specs[ri].label)
            ]
            if len(near) != 1:
                continue
            hit = near[0]
            result.notes.append(f"{section}.{specs[hit[0]].row}: label read with characters missing")
        ri, ci = hit
        spec = specs[ri]
        values = group[ci + 1 :]
        # Converters render a label merged over several columns as the label plus empty cells.
        while len(values) > len(spec.cols) and not clean(values[0].raw):
            values = values[1:]
        # …and pad a short row out to the table's width with empty cells.
        while len(values) > len(spec.cols) and not clean(values[-1].raw):
            values = values[:-1]
        if len(values) > len(spec.cols) and len(spec.cols) > 1:
            # More cells than the template has: which is which cannot be told, so none is read as a number.
            result.notes.append(
                f"{section}.{spec.row}: {len(values)} cells where the template has "
                f"{len(spec.cols)}; the row is kept as text, not guessed"
            )
            misaligned.add(spec.row)
        elif len(values) > len(spec.cols):
            result.notes.append(f"{section}.{spec.row}: extra cells after the first ignored")
        if len(values) < len(spec.cols):
            result.notes.append(
                f"{section}.{spec.row}: only {len(values)} of {len(spec.cols)} cells; "
                "the row is kept as text, not guessed"
                if values
                else f"{section}.{spec.row}: no cells"
            )
            if values:
                misaligned.add(spec.row)
        found[spec.row] = values
        pointer = ri + 1
    for spec in specs:
        row_cells = found.get(spec.row)
        if row_cells is None:
            result.notes.append(f"{section}.{spec.row}: row not found")
        if spec.row in misaligned:
            assert row_cells is not None  # a misaligned row is a found one
            result.unread_rows.append(f"{section}.{spec.row}")
            whole = Cell(
                " | ".join(c.raw for c in row_cells),
                line=row_cells[0].line,
                page=row_cells[0].page,
                table=row_cells[0].table,
                row=row_cells[0].row,
            )
            for col in spec.cols:
                _emit(result, cell_specs[(spec.row, col)], whole, as_text=True)
            continue
        for i, col in enumerate(spec.cols):
            value_cell = row_cells[i] if row_cells is not None and i < len(row_cells) else None
            _emit(result, cell_specs[(spec.row, col)], value_cell)
    if found:
        result.found_tables.add(section)


def _review_row(result: TableResult, template: str, groups: list[list[Cell]]) -> None:
    """Table 四: header rows, then one row of 15 unlabelled values."""
    specs = [c for c in codebook.cells(template) if c.section == "review_litigation"]
    values: list[Cell] = []
    for group in groups:
        value_like = [c for c in group if _is_value_like(c)]
        is_header = any(w in c.text for c in group for w in _REVIEW_HEADER_WORDS)
        if not is_header and len(value_like) * 2 > len(group):
            values.extend(value_like)
        elif values:  # the data row(s) ended: what follows is not this table
            break
        if len(values) >= len(specs):
            break
    if len(values) != len(specs):
        result.notes.append(f"review_litigation: {len(values)} value cells where the template has {len(specs)}")
    for i, spec in enumerate(specs):
        _emit(result, spec, values[i] if i < len(values) else None)
    if values:
        result.found_tables.add("review_litigation")


def unread_tables(template: str, why: str) -> TableResult:
    """Every cell of ``template`` absent, with the reason: what a report whose tables could not be read holds."""
    result = TableResult(notes=[why])
    for spec in codebook.cells(template):
        _emit(result, spec, None)
    return result


def read_tables(template: str, groups: list[list[Cell]]) -> TableResult:
    """All cells of ``template`` from the row groups; cells not found are 'absent'."""
    result = TableResult()
    app_start = _region(groups, _APPLICATION_ANCHORS)
    review_start = _region(groups, ("结果维持",), begin=app_start + 1 if app_start is not None else 0)
    if review_start is not None:  # the header's first row ("行政复议 | 行政诉讼") may stand just before it
        while review_start > 0 and any(norm(c.text) in ("行政复议", "行政诉讼") for c in groups[review_start - 1]):
            review_start -= 1
    pro_end = app_start if app_start is not None else review_start if review_start is not None else len(groups)
    app_end = review_start if review_start is not None else len(groups)
    regions = {
        "proactive": groups[:pro_end],
        "application": groups[app_start:app_end] if app_start is not None else [],
        "review_litigation": groups[review_start:] if review_start is not None else [],
    }
    for section, rows in regions.items():
        before = len(result.cells)
        try:
            if section == "review_litigation":
                _review_row(result, template, rows)
            else:
                _labelled_rows(result, template, section, rows)
        except Exception as exc:  # a reader bug in one table must not lose the others: that table is unread
            del result.cells[before:]
            result.found_tables.discard(section)
            for spec in codebook.cells(template):
                if spec.section == section:
                    _emit(result, spec, None)  # absent: K2 says so, and the report is not 'parsed'
            result.unread_rows.append(section)
            result.notes.append(f"{section}: the table could not be read ({type(exc).__name__}: {exc})")
    missing = [s for s in codebook.SECTIONS if s not in result.found_tables and s not in result.unread_rows]
    for s in missing:
        result.notes.append(f"{s}: table not found")
    assert all(c["cell_status"] == ABSENT or c["raw_text"] is not None for c in result.cells)
    return result
