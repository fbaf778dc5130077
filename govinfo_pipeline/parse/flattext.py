"""Pages flattened onto one line, their table cells glued together (``规范性文件898989``).

A report page copied as visible text with every ASCII space, tab and newline deleted keeps each table
row as its label followed by a glued run of values (``行政许可61（增）86``). The reader finds the
codebook's row labels in template order, takes the run up to the next label, and cuts it into the
row's cells. A cut is a numeral of its column's kind (``count``: no leading zero; ``signed_count``: a
sign or ``（增）``/``（减）`` after it; ``money``: decimals and 万元/元) or one NBSP/U+3000 (blank), 无 or
``/`` (none). One cut: taken. Several: the row total (B3), the column rules B1/B2 (jointly over the
application rows) and C1–C3 (the review run) must leave exactly one, flagged ``inferred_split``;
otherwise every cell of the row holds the whole run, flagged ``unsplittable``. Nothing is guessed.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from govinfo_pipeline.parse import codebook, infer
from govinfo_pipeline.parse.layout import Cell, Layout, split_lines
from govinfo_pipeline.parse.tables import detect_template
from govinfo_pipeline.parse.values import parse_cell

MAX_SPLITS = 2000  # cuts of one run; beyond this the row is unsplittable
MAX_COMBINATIONS = 200_000  # search nodes over the ambiguous application rows' cuts
_MIN_FLAT_LINE = 300
_MAX_TOKEN = 24

_ANCHORS = (
    "第二十条第",
    "信息内容",
    "申请人情况",
    "本年新收政府信息公开申请数量",
    "上年结转政府信息公开申请数量",
    "结转下年度继续办理",
    "结果维持",
    "尚未审结",
)
_GLUED = re.compile(
    r"(?:规章|规范性文件|行政许可|行政处罚|行政强制|行政事业性收费|政府集中采购|申请数量|予以公开|"
    r"继续办理|尚未审结总计)[0-9无/\u00a0\u3000]"
)
_SINGLE_CELLS = frozenset("\u00a0\u3000无/—")
_PADDING = frozenset("\u00a0")
_BLANKS = frozenset("\u00a0\u3000")  # a blank or none cell, one character
_KIND = {
    "count": re.compile(r"0|[1-9]\d*|[1-9]\d{0,2}(?:,\d{3})+", re.A),
    "signed_count": re.compile(r"[+-]?(?:0|[1-9]\d*)(?:[（(](?:增加|减少|增|减)[）)])?", re.A),
    "money": re.compile(r"(?:0|[1-9]\d*)(?:\.\d+)?(?:万元|亿元|元)?", re.A),
}
# The characters a glued run is made of; it stops at the first text that cannot be part of a cell.
_RUN = re.compile(r"(?:[\d.,+\-/\u00a0\u3000无—]|[（(](?:增加|减少|增|减)[）)]|万元|亿元|元)*")
_REVIEW_WORD = r"(?:行政复议|行政诉讼|结果维持|结果纠正|其他结果|尚未审结|总计|未经复议直接起诉|复议后起诉)"
_REVIEW_HEAD = re.compile(rf"{_REVIEW_WORD}(?:[\u00a0\u3000]*{_REVIEW_WORD})*")
_APP_HEAD = re.compile(r"[（(]本列数据|申请人情况")
_FLOW_ROWS = ("new_received", "carried_over", "total_processed", "carried_forward")
_APPLICANTS = 6  # application columns before 总计
_TITLE = re.compile(
    r"(?:(?<=[：:>】\u00a0\u3000。])|(?<=报告)|^)((?:(?!报告)[\u4e00-\u9fff（）()]){2,30}?)"
    r"(?:19|20)\d{2}年度?(?:政府)?信息公开(?:工作)?(?:年度)?报告"
)
_SECTION_KEYS = {
    1: ("总体情况", "概述"),
    2: ("主动公开",),
    3: ("申请情况", "依申请公开"),
    4: ("行政复议", "行政诉讼"),
    5: ("问题",),
    6: ("其他需要报告", "其他事项"),
}
_LOOSE = {
    "（": "[（(]",
    "(": "[（(]",
    "）": "[）)]",
    ")": "[）)]",
    "，": "[，,]",
    ",": "[，,]",
    "、": "[、，,]",
    "：": "[：:]",
    ":": "[：:]",
    "“": '[“”"「]',
    "”": '[“”"」]',
    '"': '[“”"「」]',
    "/": "[/／]",
}
_ENUM = re.compile(r"^(?:([0-9]+)[.．、]|[（(]([一二三四五六七八九十]+)[）)]|([一二三四五六七八九十]+)[、.．])")


def looks_flat(text: str) -> bool:
    """True when a line of hundreds of characters holds several table labels with digits glued on."""
    for line in split_lines(text):
        if len(line) >= _MIN_FLAT_LINE and sum(a in line for a in _ANCHORS) >= 3 and len(_GLUED.findall(line)) >= 2:
            return True
    return False


# ---- cutting one run ----


def _token_ends(run: str, i: int, kind: str, empties: bool = False) -> list[int]:
    """Where a cell of ``kind`` starting at ``run[i]`` may end (at ``i`` itself too with ``empties``: an empty
    cell, which leaves nothing in glued text)."""
    if i >= len(run):
        return [i] if empties else []
    ends = [i] if empties else []
    if run[i] in _SINGLE_CELLS:
        ends.append(i + 1)
        j = i + 1  # a blank cell may be several spaces wide ("\u3000\u3000")
        while j < min(len(run), i + 4) and run[i] in _BLANKS and run[j] in _BLANKS:
            j += 1
            ends.append(j)
    pattern = _KIND[kind]
    # A number padded with a NBSP ("&nbsp; 12" once its space is deleted) is one cell as well as a blank then
    # a number: both cuts are kept, and the rules settle which (or none does, and the row is text).
    start = i + 1 if run[i] in _PADDING and i + 1 < len(run) and run[i + 1].isdigit() else i
    for j in range(i + 1, min(len(run), i + _MAX_TOKEN) + 1):
        if pattern.fullmatch(run, i, j) or (start > i and j > start and pattern.fullmatch(run, start, j)):
            ends.append(j)
    return ends


def token_splits(
    run: str, kinds: tuple[str, ...] | list[str], cap: int = MAX_SPLITS, empties: bool = False
) -> list[tuple[str, ...]] | None:
    """Every cut of ``run`` into one cell per kind, in order; None when there are more than ``cap``. With
    ``empties``, a cell may also be empty (it left nothing in the text)."""
    n, k = len(run), len(kinds)
    if n > _MAX_TOKEN * k:
        return []
    last = n + 1 if empties else n
    ends = {(i, c): _token_ends(run, i, kinds[c], empties) for i in range(last) for c in range(k)}
    ways = {(n, k): 1}  # ways[(i, c)]: cuts of run[i:] into kinds[c:]
    for c in range(k - 1, -1, -1):
        for i in range(last - 1, -1, -1):
            ways[(i, c)] = sum(ways.get((j, c + 1), 0) for j in ends[(i, c)])
    total = ways.get((0, 0), 0) if n or empties else int(k == 0)
    if total > cap:
        return None

    def walk(i: int, c: int) -> list[tuple[str, ...]]:
        if c == k:
            return [()] if i == n else []
        return [(run[i:j], *rest) for j in ends[(i, c)] if ways.get((j, c + 1), 0) for rest in walk(j, c + 1)]

    return walk(0, 0) if total else []


def _number(token: str, kind: str) -> float:
    """A cell's value for the arithmetic: blank and none count as 0."""
    return parse_cell(token, kind).value or 0.0


def row_total_holds(split: tuple[str, ...]) -> bool:
    """B3: the 总计 cell equals the six applicant cells."""
    values = [_number(t, "count") for t in split]
    return math.isclose(values[_APPLICANTS], sum(values[:_APPLICANTS]))


def review_totals_hold(split: tuple[str, ...]) -> bool:
    """C1–C3: in each group of five, the total equals the four outcomes."""
    values = [_number(t, "count") for t in split]
    return all(math.isclose(values[g + 4], sum(values[g : g + 4])) for g in range(0, len(values) - 4, 5))


# ---- rows found in the line ----


@dataclass
class _Row:
    section: str
    row: str
    label: str  # as written
    start: int  # offset of the label
    run_start: int
    run: str
    kinds: tuple[str, ...]
    options: list[tuple[str, ...]] | None = None  # cuts still possible
    choice: tuple[str, ...] | None = None
    flag: str | None = None

    @property
    def code(self) -> str:
        return f"{self.section}.{self.row}"


def _loose(text: str) -> str:
    """A regex for ``text`` that accepts full- and half-width punctuation alike."""
    return "".join(_LOOSE.get(ch, re.escape(ch)) for ch in text)


def _label_patterns(spec: codebook.RowSpec) -> list[re.Pattern[str]]:
    """Patterns for a row label: the label and aliases with their enumerators, then the bare label."""
    out = []
    for name in (spec.label, *spec.aliases):
        m = _ENUM.match(name)
        if not m:
            out.append(re.compile(_loose(name)))
            continue
        core = name[m.end() :]
        number = next(g for g in m.groups() if g)
        enum = f"{number}[.．、]" if m.group(1) else f"[（(]{number}[）)]" if m.group(2) else f"{number}[、.．]"
        out.append(re.compile(enum + _loose(core)))
        if len(core) >= 4:
            out.append(re.compile(_loose(core)))
    return out


def _kinds(template: str, section: str, spec: codebook.RowSpec) -> tuple[str, ...]:
    kinds = {(c.row, c.col): c.kind for c in codebook.cells(template) if c.section == section}
    return tuple(kinds[(spec.row, col)] for col in spec.cols)


def _find_rows(line: str, template: str, section: str, lo: int, hi: int) -> list[_Row]:
    """The section's rows whose labels stand in line[lo:hi], in template order, each with its run."""
    found: list[tuple[codebook.RowSpec, re.Match[str]]] = []
    pos = lo
    for spec in codebook.rows(template, section):
        hits = [m for p in _label_patterns(spec) if (m := p.search(line, pos, hi))]
        if hits:
            best = min(hits, key=lambda m: (m.start(), -m.end()))
            found.append((spec, best))
            pos = best.end()
    rows = []
    for i, (spec, m) in enumerate(found):
        stop = found[i + 1][1].start() if i + 1 < len(found) else hi
        run = _RUN.match(line, m.end(), stop)
        rows.append(
            _Row(
                section,
                spec.row,
                m.group(0),
                m.start(),
                m.end(),
                run.group(0) if run else "",
                _kinds(template, section, spec),
            )
        )
    return rows


def _find_headings(line: str) -> dict[int, tuple[int, int, str]]:
    """Section number -> (start, end, text) of the six headings, in order."""
    out: dict[int, tuple[int, int, str]] = {}
    pos = 0
    for s in codebook.section_headings():
        n = s["no"]
        prefix = f"[{'一二三四五六'[n - 1]}{n}{'１２３４５６'[n - 1]}][、.．]"
        names = sorted((s["label"], *s["aliases"]), key=len, reverse=True)
        m = re.compile(prefix + "(?:" + "|".join(_loose(x) for x in names) + ")").search(line, pos)
        if m is None:  # a wording the codebook does not list: the section's key word close after the number
            keys, gap = "|".join(_SECTION_KEYS[n]), r"[^\d。；，,：:、]"
            tail = rf"(?:{gap}{{0,6}}?(?:情况|举措|措施|事项))?"
            m = re.compile(rf"{prefix}{gap}{{0,16}}?(?:{keys}){tail}").search(line, pos)
        if m:
            out[n] = (m.start(), m.end(), m.group(0))
            pos = m.end()
    return out


# ---- choosing among cuts ----


def _lossy_sections(rows: list[_Row]) -> set[str]:
    """Tables whose empty cells left nothing in the text: a label with nothing after it, or a run too short for
    its row. There a cut that looks unique is not (any cell may have been empty), so empty cells are allowed."""
    return {r.section for r in rows if not r.run or token_splits(r.run, r.kinds) == []}


def _cut_rows(rows: list[_Row], notes: list[str]) -> None:
    """Each row's possible cuts, narrowed by its own total (B3, C1–C3)."""
    lossy = _lossy_sections(rows)
    for r in rows:
        if not r.run and r.section not in lossy:
            continue  # a label with nothing after it: its cells are not in the report
        options = token_splits(r.run, r.kinds, empties=r.section in lossy)
        if options is None:
            r.flag = "unsplittable"
            notes.append(f"{r.code}: glued run {r.run!r} has more than {MAX_SPLITS} cuts; kept as text")
        elif not options:
            r.flag = "unsplittable"
            notes.append(f"{r.code}: glued run {r.run!r} cannot be cut into {len(r.kinds)} cells; kept as text")
        elif len(options) == 1:
            r.choice = options[0]
        elif r.section == "application":
            r.options = [o for o in options if row_total_holds(o)]
        elif r.section == "review_litigation":
            r.options = [o for o in options if review_totals_hold(o)]
        else:
            r.options = options


def _column_rules(template: str) -> list[dict[str, int]]:
    """B1 and B2 as coefficients per application row: the signed sum must be 0 in every column."""
    outcome = [s.row for s in codebook.rows(template, "application") if s.row not in _FLOW_ROWS]
    b1 = {"new_received": 1, "carried_over": 1, "total_processed": -1, "carried_forward": -1}
    b2 = {r: 1 for r in outcome} | {"total_processed": -1}
    return [b1, b2]


def _choose_jointly(template: str, rows: list[_Row], notes: list[str]) -> None:
    """B1/B2 over the ambiguous application rows' cuts (``infer.settle``: an exact search of every
    combination); a row is cut where all combinations that satisfy the rules agree on it."""
    app = {r.row: r for r in rows if r.section == "application"}
    pending = [r for r in app.values() if r.options is not None]
    for r in pending:
        if not r.options:  # no cut adds up: the row is unknown to the column rules too
            r.options, r.flag = None, "unsplittable"
            notes.append(f"{r.code}: no cut of glued run {r.run!r} has total = sum (B3); kept as text")
    pending = [r for r in pending if r.options]
    if not pending:
        return
    readings = {row: [tuple(_number(t, "count") for t in r.choice)] for row, r in app.items() if r.choice}
    readings |= {r.row: [tuple(_number(t, "count") for t in o) for o in r.options or ()] for r in pending}
    picks = infer.settle(readings, _column_rules(template), cap=MAX_COMBINATIONS)
    for r in pending:
        pick = picks.get(r.row)
        if pick is not None and r.options:
            r.choice, r.options, r.flag = r.options[pick], None, "inferred_split"
        else:
            notes.append(
                f"{r.code}: glued run {r.run!r} has {len(r.options or ())} cuts that B1-B3 do not settle "
                "to one; kept as text, not guessed"
            )
            r.options, r.flag = None, "unsplittable"


def _settle(rows: list[_Row], notes: list[str]) -> None:
    """Rows outside the joint check: one cut left is inferred, several are unsplittable."""
    for r in rows:
        if r.options is None:
            continue
        if len(r.options) == 1:
            r.choice, r.flag = r.options[0], "inferred_split"
        else:
            r.flag = "unsplittable"
            notes.append(
                f"{r.code}: glued run {r.run!r} has {len(r.options) or 'no'} possible cuts that the "
                "rules cannot choose between; kept as text, not guessed"
            )
        r.options = None


# ---- the layout ----


def _cells(r: _Row, line_no: int) -> list[Cell]:
    if r.flag == "unsplittable":
        return [Cell(r.run, line=line_no, offset=r.run_start, flag="unsplittable") for _ in r.kinds]
    cells, at = [], r.run_start
    for token in r.choice or ():
        cells.append(Cell(token, line=line_no, offset=at, flag=r.flag))
        at += len(token)
    return cells


def _prose(
    line: str, line_no: int, headings: dict[int, tuple[int, int, str]], spans: list[tuple[int, int]]
) -> list[tuple[int | None, str]]:
    """The text outside the tables, cut into pieces at the section headings (each heading a piece)."""
    marks = {0, len(line)} | {x for s in spans for x in s} | {x for h in headings.values() for x in h[:2]}
    out: list[tuple[int | None, str]] = []
    for a, b in itertools.pairwise(sorted(marks)):
        piece = line[a:b].strip()
        if piece and not any(s <= a and b <= e for s, e in spans):
            out.append((line_no, piece))
    return out


def read_flat(text: str) -> Layout:
    """The Layout of a flattened page: one group per table row (label cell, then value cells with their
    offsets and split flags), the review run after its header, and the rest as prose pieces."""
    lines = split_lines(text)
    idx = max(range(len(lines)), key=lambda i: sum(a in lines[i] for a in _ANCHORS) * 10_000 + len(lines[i]))
    line, line_no = lines[idx], idx + 1
    template, _ = detect_template(line)
    headings = _find_headings(line)
    layout = Layout(source_format="text")
    m = _TITLE.search(line)
    layout.title = m.group(0) if m else None
    rows: list[_Row] = []
    spans: list[tuple[int, int]] = []
    review_header = None
    if template != "unknown":
        rows, spans, review_header = _tables(line, template, headings)
        notes: list[str] = []
        _cut_rows(rows, notes)
        _choose_jointly(template, rows, notes)
        _settle(rows, notes)
        layout.notes.extend(notes)
    for r in rows:
        if r.section == "review_litigation":
            if review_header is not None:
                layout.groups.append([Cell(review_header.group(0), line=line_no, offset=review_header.start())])
            layout.groups.append(_cells(r, line_no))
        else:
            layout.groups.append([Cell(r.label, line=line_no, offset=r.start), *_cells(r, line_no)])
    before: list[tuple[int | None, str]] = [(i + 1, s) for i, s in enumerate(lines[:idx]) if s.strip()]
    after: list[tuple[int | None, str]] = [(idx + 2 + i, s) for i, s in enumerate(lines[idx + 1 :]) if s.strip()]
    layout.prose = before + _prose(line, line_no, headings, spans) + after
    return layout


def _tables(
    line: str, template: str, headings: dict[int, tuple[int, int, str]]
) -> tuple[list[_Row], list[tuple[int, int]], re.Match[str] | None]:
    """The rows of the three tables, the spans of text they take, and the review table's header."""
    end = len(line)
    spans: list[tuple[int, int]] = []
    # 二: the proactive table, up to the application table.
    lo = headings[2][1] if 2 in headings else max(line.find("第二十条第"), 0)
    app_anchor = re.compile(r"[（(]本列数据|申请人情况|本年新收政府信息公开申请数量").search(line, lo)
    hi = min(headings[3][0] if 3 in headings else end, app_anchor.start() if app_anchor else end)
    proactive = _find_rows(line, template, "proactive", lo, hi)
    if proactive:
        first = line.find("第二十条", lo, proactive[0].start)
        spans.append((first if first >= 0 else proactive[0].start, proactive[-1].run_start + len(proactive[-1].run)))
    # 三: the application table, up to the review table.
    lo = headings[3][1] if 3 in headings else (spans[-1][1] if spans else lo)
    review_lo = headings[4][1] if 4 in headings else lo
    review_hi = headings[5][0] if 5 in headings else end
    header = next((h for h in _REVIEW_HEAD.finditer(line, review_lo, review_hi) if "结果维持" in h.group(0)), None)
    hi = headings[4][0] if 4 in headings else header.start() if header else end
    application = _find_rows(line, template, "application", lo, hi)
    if application:
        head = _APP_HEAD.search(line, lo, application[0].start)
        spans.append(
            (head.start() if head else application[0].start, application[-1].run_start + len(application[-1].run))
        )
    rows = proactive + application
    # 四: fifteen cells after the review table's header.
    if header is not None:
        run = _RUN.match(line, header.end(), review_hi)
        text = run.group(0) if run else ""
        rows.append(
            _Row(
                "review_litigation", "all", header.group(0), header.start(), header.end(), text, _review_kinds(template)
            )
        )
        spans.append((header.start(), header.end() + len(text)))
    return rows, spans, header


def _review_kinds(template: str) -> tuple[str, ...]:
    return tuple(c.kind for c in codebook.cells(template) if c.section == "review_litigation")
