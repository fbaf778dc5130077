"""Parsing one decoded report: metadata, the six sections' prose and every table cell."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypedDict

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.layout import HEADING, Layout, read_layout
from govinfo_pipeline.parse.prose import NO_APPLICATIONS_FIGURE, find_claims, says_no_applications
from govinfo_pipeline.parse.tables import CellRecord, core, detect_template, norm, read_tables, unread_tables

PARSER_VERSION = "2"  # 2: a reader or table that breaks no longer loses the report; HTML inside JS strings

_NUMERALS = (
    {c: i for i, c in enumerate("一二三四五六", start=1)}
    | {str(i): i for i in range(1, 7)}
    | {c: i for i, c in enumerate("１２３４５６", start=1)}
)
# Words that identify each section's heading when its wording differs from the template.
_SECTION_KEYS = {
    1: ("总体情况", "概述"),
    2: ("主动公开",),
    3: ("申请情况", "依申请公开"),
    4: ("行政复议", "行政诉讼"),
    5: ("问题",),
    6: ("其他需要报告", "其他事项"),
}
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_TITLE_MAX = 40
TITLE_LINES = 4  # the title is made of at most the first four prose lines
# An agency named in the opening prose, e.g. "2020年，靖江园区在市委……" -> 靖江园区.
_AGENCY_SUFFIX = (
    "人民政府|管理委员会|管委会|办事处|园区|开发区|高新区|度假区|街道|镇|乡|县|区|市|局|委员会|委|办公室|厅|中心|署|院"
)
_AGENCY_IN_BODY = re.compile(
    rf"(?:^|[，,。\s])((?:(?!年)[\u4e00-\u9fa5（）()]){{2,18}}?(?:{_AGENCY_SUFFIX}))"
    r"(?:在|认真|坚持|不断|始终|按照|根据|深入|全面|紧紧|围绕|切实|进一步|政府|以|共|严格)"
)
_NOT_AGENCY = ("本机关", "我区", "我镇", "我局", "全区", "全市", "全镇", "本单位")
# A portal's or crawler's label before the title ("标题：…"), and page furniture that is no part of it.
_TITLE_LABEL = re.compile(r"^\s*(?:文章)?(?:标题|题目|名称)\s*[:：]\s*")
_PAGE_FURNITURE = re.compile(
    r"^\s*(?:正文|打印|关闭|打印本页|关闭窗口|【?字[体号][:：]?\s*[大中小\s]*】?|"
    r"(?:来源|信息来源|发布(?:日期|时间|机构)|发文机关|索引号|作者|浏览次数|点击(?:数|率)|访问量|分类|文号)\s*[:：].*)\s*$"
)
# A sentence that names a body to contact, not the body that reports ("请与区政府办公室联系").
_CONTACT = re.compile(r"请与|联系|咨询|电话|地址|邮箱|邮编|传真")


@dataclass
class Section:
    section_no: int
    heading: str
    body_text: str
    source_line: int | None  # None where the format has no line numbers


class ClaimRecord(TypedDict):
    """A figure the prose quotes: a row of the claim frame, without its report id."""

    figure: str
    value: float | None  # None for the "no application received" claim
    phrase: str
    source_line: int | None


@dataclass
class ParsedReport:
    agency_name: str | None
    report_year: int | None
    template_version: str
    title: str | None
    parse_status: str  # parsed | partial | failed
    preamble: str
    sections: list[Section] = field(default_factory=list)
    cells: list[CellRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)  # figures quoted in the prose
    agency_source: str | None = None  # where the name was read: 'title' or 'opening_prose'


def _is_heading(line: str) -> tuple[int, str] | None:
    """(section number, heading text) when ``line`` opens one of the six sections."""
    m = HEADING.match(line)
    if not m:
        return None
    number = _NUMERALS[m.group(1)]
    text = m.group(2).strip()
    labels = [s for s in codebook.section_headings() if s["no"] == number]
    flat = norm(text)
    known = [norm(x) for s in labels for x in (s["label"], *s.get("aliases", ()))]
    if flat in known or any(k in flat for k in _SECTION_KEYS[number]):
        return number, text
    return None


def find_sections(layout: Layout) -> tuple[str, list[Section]]:
    """The preamble (text before section 一) and each section's heading and prose, in order."""
    starts: list[tuple[int, int, str]] = []  # (index in prose, section no, heading)
    last = 0
    for i, (_, line) in enumerate(layout.prose):
        hit = _is_heading(line)
        if hit and hit[0] > last and len(line.strip()) <= 48:
            starts.append((i, hit[0], line.strip()))
            last = hit[0]
    bodies: list[Section] = []
    for k, (i, number, heading) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(layout.prose)
        body = "\n".join(line.strip() for _, line in layout.prose[i + 1 : end])
        bodies.append(Section(number, heading, body, layout.prose[i][0]))
    first = starts[0][0] if starts else len(layout.prose)
    preamble = "\n".join(line.strip() for _, line in layout.prose[:first])
    return preamble, bodies


def find_title(layout: Layout) -> str | None:
    """The opening short lines before any prose, joined (titles are often split over lines)."""
    parts: list[str] = []
    lines = [line for _, line in layout.prose[: TITLE_LINES * 3] if not _PAGE_FURNITURE.match(line)][:TITLE_LINES]
    for line in lines:
        text = _TITLE_LABEL.sub("", line.strip())
        if len(text) > _TITLE_MAX or text.endswith(("。", "：", ":")) or _is_heading(line):
            break
        parts.append(text)
    return "".join(parts) or None


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` around ``start``..``end``."""
    left = max(text.rfind(p, 0, start) for p in "。；;\n")
    right = min((i for i in (text.find(p, end) for p in "。；;\n") if i >= 0), default=len(text))
    return text[left + 1 : right]


def find_year(title: str | None, text: str) -> int | None:
    """The year the report covers: from the title, else the first "YYYY年度" in the text."""
    if title:
        m = _YEAR.search(title)
        if m:
            return int(m.group(1))
    m = re.search(r"((?:19|20)\d{2})\s*年度", text[:3000])
    return int(m.group(1)) if m else None


def find_agency(title: str | None, preamble: str, sections: list[Section]) -> str | None:
    """The reporting body: what the title puts before the year, else the first body named in the prose."""
    return find_agency_and_source(title, preamble, sections)[0]


# A portal's "来源：本站" (source: this site) glued before the title when a page is flattened onto one line.
_SITE_SOURCE = re.compile(r"^(?:本站|本网站|本网|本平台|本机关)")


def _site_source_removed(head: str) -> str:
    """``head`` without a portal's source value glued before it (本站…), and a name the page printed twice in a
    row (来源：XX局 then the title XX局2021年…) once."""
    head = _SITE_SOURCE.sub("", head)
    half = len(head) // 2
    if len(head) % 2 == 0 and half >= 2 and head[:half] == head[half:]:
        return head[:half]
    return head


def find_agency_and_source(title: str | None, preamble: str, sections: list[Section]) -> tuple[str | None, str | None]:
    """The reporting body and where it was read: ``title`` or ``opening_prose`` (None, None when neither names
    one)."""
    if title:
        title = _TITLE_LABEL.sub("", title)
        m = _YEAR.search(title)
        head = title[: m.start()] if m else ""
        head = _site_source_removed(head.strip(" 　:：,，"))
        if len(core(head)) >= 2 and not _CONTACT.search(head):
            return head, "title"
    opening = preamble + "\n" + (sections[0].body_text[:500] if sections else "")
    for m in _AGENCY_IN_BODY.finditer(opening):
        name = m.group(1)
        if any(name.startswith(x) for x in _NOT_AGENCY) or _CONTACT.search(_sentence(opening, *m.span(1))):
            continue
        return name, "opening_prose"
    return None, None


def parse_report(text: str) -> ParsedReport:
    """Parse a decoded report in the text-dump layout. Never raises on odd input."""
    return parse_layout(read_layout(text), text)


def layout_text(layout: Layout) -> str:
    """All the text of a layout, prose and cells, for template and year detection."""
    return "\n".join([line for _, line in layout.prose] + [c.text for g in layout.groups for c in g])


def parse_layout(layout: Layout, text: str | None = None) -> ParsedReport:
    """Parse a report read into a Layout (from any format)."""
    text = text if text is not None else layout_text(layout)
    template, _ = detect_template(text)
    preamble, sections = find_sections(layout)
    title = layout.title or find_title(layout)
    year = find_year(title, text)
    agency, agency_source = find_agency_and_source(title, preamble, sections)
    notes: list[str] = list(layout.notes)
    cells: list[CellRecord] = []
    if template == "unknown":
        status = "failed"
        notes.append("no national table found: template unknown, prose kept")
    else:
        try:
            tables = read_tables(template, layout.groups)
        except Exception as exc:  # what else was read (metadata, sections, prose figures) is kept
            tables = unread_tables(template, f"the tables could not be read ({type(exc).__name__}: {exc})")
        cells = tables.cells
        notes.extend(tables.notes)
        missing = tables.unread_rows or any(
            c["cell_status"] == "absent" or c["cell_flag"] in ("unsplittable", "ocr_low") for c in cells
        )
        status = (
            "failed"
            if not tables.found_tables
            else ("parsed" if len(tables.found_tables) == len(codebook.SECTIONS) and not missing else "partial")
        )
    if agency is None:
        notes.append("agency name not found in title or opening prose")
    if year is None:
        notes.append("report year not found")
    try:
        found_claims, none_received = find_claims(layout.prose), says_no_applications(layout.prose)
    except Exception as exc:  # the prose figures are lost, not the report
        found_claims, none_received = [], None
        notes.append(f"the figures quoted in the prose could not be read ({type(exc).__name__}: {exc})")
    claims: list[ClaimRecord] = [
        {"figure": c.target, "value": c.value, "phrase": c.phrase, "source_line": c.line} for c in found_claims
    ]
    if none_received:
        claims.append(
            {
                "figure": NO_APPLICATIONS_FIGURE,
                "value": None,
                "phrase": none_received[0],
                "source_line": none_received[1],
            }
        )
    return ParsedReport(agency, year, template, title, status, preamble, sections, cells, notes, claims, agency_source)
