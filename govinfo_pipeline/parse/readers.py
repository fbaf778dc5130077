"""Reading each input format into the parser's Layout: prose lines plus table rows with provenance.

Formats are told by content, not by file name: PDF and DOCX by their magic bytes, HTML and Markdown
by their markup. Every table becomes a full grid (merged cells repeated into each position they
cover), so that the same label-driven table reader serves all formats.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from typing import TYPE_CHECKING, Any

from govinfo_pipeline import settings
from govinfo_pipeline.parse import flattext, layouttext, rawtext
from govinfo_pipeline.parse.layout import Cell, Layout, read_layout
from govinfo_pipeline.parse.values import BLANK, NONE, NUMBER, parse_cell

if TYPE_CHECKING:
    import pdfplumber
    from lxml.etree import _Element  # lxml ships no type information: Any to mypy


def max_unzipped_bytes() -> int:
    """A DOCX that inflates beyond this (GOVINFO_MAX_UNZIPPED_BYTES, default 100 MB) is a zip bomb."""
    return settings.current().max_unzipped_bytes


_BLOCK_TAGS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "tr",
    "br",
    "section",
    "article",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "dd",
    "dt",
    "header",
    "footer",
    "center",
    "font",
}
_CHROME_TAGS = ("script", "style", "noscript", "nav", "iframe", "select", "button", "form", "head")
_HTML_HINT = re.compile(r"<(?:!doctype\s+html|html|body|table|div|p)\b", re.I)
_JS_STRING = re.compile(r'"((?:[^"\\]|\\.)*<table(?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*<table(?:[^\'\\]|\\.)*)\'', re.S)
# Markup saved out of a JavaScript string, its attribute quotes still escaped: <td rowspan=\"5\">
_ESCAPED_MARKUP = re.compile(r'<(?:table|tr|td|th|p|div|span)\b[^<>]*=\\["\']', re.I)
_SCRIPTS = re.compile(r"<script\b.*?</script\s*>", re.S | re.I)
_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_JS_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "", "f": "", "v": "", "0": ""}
MAX_SPAN = 1000  # a rowspan or colspan beyond this is not a table a person made
_MD_ROW = re.compile(r"^[^\S\n]*\|", re.M)  # a line whose first non-blank character is "|"
_TITLE_HINT = re.compile(r"(?:19|20)\d{2}\s*年")


class Unreadable(Exception):
    """A file whose format is known but whose content cannot be read; carries a rejection reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def sniff_binary(data: bytes) -> str | None:
    """'pdf', 'docx' or None (not a binary format we read); raises Unreadable for known others."""
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile as exc:
            raise Unreadable("malformed", f"a damaged zip archive: {exc}") from exc
        if "word/document.xml" in names:
            return "docx"
        raise Unreadable("unsupported_format", "a zip archive that is not a Word document")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise Unreadable("unsupported_format", "a legacy Word/Excel file (.doc/.xls); save it as .docx")
    return None


def sniff_text(text: str) -> str:
    """'html', 'markdown' or 'text'."""
    head = text[:20000]
    if _HTML_HINT.search(head):
        return "html"
    if len(list(itertools.islice(_MD_ROW.finditer(head), 3))) == 3:
        return "markdown"
    return "text"


def _grid(rows: list[list[tuple[str, int, int]]]) -> list[list[str | None]]:
    """Place (text, rowspan, colspan) cells on the table grid. A cell merged down several rows repeats
    in each (group labels); a cell merged across columns stands once, at its first column."""
    grid: dict[tuple[int, int], str | None] = {}
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for text, rowspan, colspan in row:
            while (r, c) in grid:
                c += 1
            for dr in range(max(rowspan, 1)):
                for dc in range(max(colspan, 1)):
                    grid[(r + dr, c + dc)] = text if dc == 0 else None
            c += max(colspan, 1)
            width = max(width, c)
    return [[grid.get((r, c)) for c in range(width)] for r in range(len(rows))]


Box = tuple[float, float, float, float]


def _groups(
    table_index: int,
    grid: list[list[str | None]],
    page: int | None = None,
    boxes: list[list[Box | None]] | None = None,
) -> list[list[Cell]]:
    def box(r: int, c: int) -> Box | None:
        if boxes is None or r >= len(boxes) or c >= len(boxes[r]):
            return None
        return boxes[r][c]

    groups: list[list[Cell]] = []
    for r, row in enumerate(grid):
        cells = [
            Cell(text, page=page, table=table_index, row=r, col=c, box=box(r, c))
            for c, text in enumerate(row)
            if text is not None
        ]
        if cells:
            groups.append(cells)
    return groups


# ---- HTML ----


def _html_text(el: _Element) -> str:
    """An element's text with <br> and block boundaries as newlines, NBSP kept."""
    parts: list[str] = []

    def walk(node: _Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag == "br":
            parts.append("\n")
        elif tag in _BLOCK_TAGS and parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        if node.text and tag not in _CHROME_TAGS:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCK_TAGS and tag != "br":
            parts.append("\n")

    walk(el)
    return "".join(parts)


def _cell_text(td: _Element) -> str:
    text = _html_text(td)
    lines = [line.strip(" \t\r") for line in text.split("\n")]
    return "\n".join(line for line in lines if line != "") if any(lines) else text.strip(" \t\r\n")


def _report_tables(root: _Element) -> list[_Element]:
    return [t for t in root.iter("table") if not list(t.iter("table"))[1:]]


def js_unescape(text: str) -> str:
    """The value of a JavaScript string literal's body: ``\\"``, ``\\n``, ``\\uXXXX`` and the rest undone."""

    def one(m: re.Match[str]) -> str:
        esc = m.group(1)
        if len(esc) > 1:
            return chr(int(esc[1:], 16))
        return _JS_SIMPLE.get(esc, esc)

    # \\uD83D\\uDE00 pairs become one character; a lone surrogate (no character at all) becomes U+FFFD
    return _JS_ESCAPE.sub(one, text).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _span(value: str | None) -> int:
    """A rowspan/colspan as written (``5``, ``"5"``, ``\\"5\\"``, junk): its digits, 1 without, at most MAX_SPAN."""
    m = re.search(r"\d+", value or "")
    return max(1, min(int(m.group()) if m else 1, MAX_SPAN))


def read_html(text: str) -> Layout:
    import lxml.html

    if _ESCAPED_MARKUP.search(_SCRIPTS.sub("", text)):  # the page is a JS string's body: undo its escapes first
        text = js_unescape(text)
    doc = lxml.html.fromstring(text) if text.strip() else None
    if doc is None:
        return Layout(source_format="html")
    title = None
    for h in doc.iter("h1", "h2", "h3"):
        t = " ".join(h.text_content().split())
        if _TITLE_HINT.search(t) and ("报告" in t or "公开" in t):
            title = t
            break
    root = doc
    if not any("申请" in t.text_content() or "第二十条" in t.text_content() for t in doc.iter("table")):
        # The report body may sit in a script as a string (filled into the page by JavaScript).
        for script in doc.iter("script"):
            for m in _JS_STRING.finditer(script.text or ""):
                body = js_unescape(m.group(1) if m.group(1) is not None else m.group(2))
                if "申请" in body or "第二十条" in body:  # a report's tables, not some other markup
                    root = lxml.html.fromstring(body)
                    break
            if root is not doc:
                break
    for bad in list(root.iter(*_CHROME_TAGS)):
        bad.drop_tree()
    tables = _report_tables(root)
    groups: list[list[Cell]] = []
    for i, table in enumerate(tables):
        rows: list[list[tuple[str, int, int]]] = []
        for tr in table.iter("tr"):
            rows.append(
                [
                    (_cell_text(td), _span(td.get("rowspan")), _span(td.get("colspan")))
                    for td in tr
                    if td.tag in ("td", "th")
                ]
            )
        groups += _groups(i, _grid(rows))
    for table in tables:  # the prose is what remains
        table.drop_tree()
    container = _content_root(root)
    page_text = _html_text(container)
    if not groups:  # no <table>: a text dump pasted into the page keeps its tab-separated cells
        dumped = read_layout(page_text)
        if dumped.groups:
            dumped.source_format, dumped.title = "html", title
            return dumped
    prose_lines = [" ".join(line.split()) for line in page_text.split("\n")]
    prose: list[tuple[int | None, str]] = [(None, line) for line in prose_lines if line]
    if title and (not prose or prose[0][1] != title):
        prose.insert(0, (None, title))
    return Layout(groups=groups, prose=prose, title=title, source_format="html")


def _content_root(root: _Element) -> _Element:
    """The smallest element holding the report's section headings, so that site chrome is left out."""
    best = root
    for el in root.iter("div", "td", "article", "section", "body"):
        text = el.text_content()
        if "总体情况" in text and ("主动公开" in text or "存在的主要问题" in text or "其他" in text):
            if len(text) < len(best.text_content()):
                best = el
    return best


# ---- DOCX ----


def read_docx(data: bytes) -> Layout:
    from govinfo_pipeline.parse.docx import DocxError, read_docx_xml

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        inflated = sum(i.file_size for i in z.infolist())
    if inflated > max_unzipped_bytes():
        raise Unreadable("too_large", f"the Word document inflates to {inflated} bytes (a zip bomb?)")
    try:
        return read_docx_xml(data)
    except DocxError as exc:
        raise Unreadable("malformed", f"not a readable Word document: {exc}") from exc


# ---- PDF ----


def read_pdf(data: bytes) -> Layout:
    """A PDF read by the PDFium reader (``pdftext``); a file it leaves (a page it does not handle, an error, or no
    table found in a file whose text speaks of 信息公开) is read by pdfplumber instead, with a note saying so."""
    from govinfo_pipeline.parse import pdftext

    try:
        layout = pdftext.read_layout(data)
    except pdftext.NotHandled as exc:
        why = str(exc)
    except Exception as exc:
        why = f"failed ({type(exc).__name__}: {exc})"
    else:
        ocr_read = any(n.startswith("OCR") for n in layout.notes)
        if layout.groups or ocr_read or not any("信息公开" in line or "政务公开" in line for _, line in layout.prose):
            return layout
        why = "found no table"
    layout = read_pdf_plumber(data)
    if not why.startswith("PDFium cannot open"):
        layout.notes.append(f"read with pdfplumber: the PDFium reader {why}")
    return layout


def read_pdf_plumber(data: bytes) -> Layout:
    """A PDF read by pdfplumber (pdfminer): the reader before ``pdftext``, kept as its fallback."""
    import pdfplumber

    def unreadable(exc: Exception) -> Unreadable:
        name = type(exc).__name__
        chain = [exc, exc.__cause__, exc.__context__, *[a for a in exc.args if isinstance(a, BaseException)]]
        words = " ".join(f"{type(e).__name__} {e}" for e in chain if e is not None).lower()
        encrypted = "password" in words or "encrypt" in words
        if encrypted:
            return Unreadable(
                "encrypted", "the PDF is encrypted (it needs a password to open); an unprotected copy is needed"
            )
        return Unreadable("malformed", f"a malformed PDF that cannot be read: {name}: {exc}")

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        raise unreadable(exc) from exc
    try:
        return _pdf_layout(pdf, data)
    except Exception as exc:
        raise unreadable(exc) from exc
    finally:
        pdf.close()


def _pdf_layout(pdf: pdfplumber.PDF, data: bytes = b"") -> Layout:
    """Tables from the page layout (pdfplumber); the text outside them is the prose. Pages without a usable text
    layer (a scan) are read by OCR into the same tables and prose."""
    from govinfo_pipeline.parse import ocr

    prose: list[tuple[int | None, str]] = []
    groups: list[list[Cell]] = []
    notes: list[str] = []
    s = settings.current()
    read = ocr.read_scanned(data, ocr.ocr_pages(pdf.pages, notes) if data else [], notes)
    t = 0
    for page_no, page in enumerate(pdf.pages, start=1):
        if page_no in read:
            page_groups, page_prose, n_tables = ocr.page_layout(page, read[page_no], t, s.ocr_min_confidence / 100)
            groups += page_groups
            prose += page_prose
            t += n_tables
            continue
        found = page.find_tables()
        boxes = [tb.bbox for tb in found]

        def outside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]] = boxes) -> bool:
            x = (obj["x0"] + obj["x1"]) / 2
            y = (obj["top"] + obj["bottom"]) / 2
            return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

        text = page.filter(outside).extract_text() or ""
        prose += [(None, line.strip()) for line in text.split("\n") if line.strip()]
        for tb in found:
            cell_boxes: list[list[Box | None]] = [
                [None if b is None else (float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in row.cells]
                for row in tb.rows
            ]
            groups += _groups(t, tb.extract(), page=page_no, boxes=cell_boxes)  # None: a merged cell continues
            t += 1
    return Layout(groups=groups, prose=prose, source_format="pdf", notes=notes)


# ---- Markdown ----


# A page footer a converter left in the text or in a table row: "— 4 —", "- 4 -", "第 4 页", "4 / 12".
_FOOTER = re.compile(
    r"[—–\-－ ]*\d{1,3}[—–\-－ ]*|第\s*\d{1,3}\s*页(?:\s*[，,/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3}"
)
# Column names a converter makes up for a header row it did not find: 列1, Column 2, Col3.
_MADE_UP_HEADER = re.compile(r"(?:列|Column\s*|Col\s*)\d{1,2}", re.I)
_ROW_LABEL = re.compile(r"[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.．、]\D|第二十条")
_REVIEW_CELLS = 15  # the review table's one unlabelled data row
_PIECE_WIDTH = 5  # converters that cut a wide table cut it into pieces of this many columns


def _md_cells(line: str) -> list[str]:
    return [c.strip().replace("<br>", "\n").replace("<br/>", "\n") for c in line.strip().strip("|").split("|")]


def _is_footer(cells: list[str]) -> bool:
    filled = [c for c in cells if c.strip()]
    # in a table a bare number is a cell, not a page number: only a decorated one ("— 4 —", "第4页") is a footer
    return len(filled) == 1 and _FOOTER.fullmatch(filled[0].strip()) is not None and not filled[0].strip().isdigit()


def _is_value(text: str) -> bool:
    return parse_cell(text).status in (NUMBER, NONE) or (text != "" and parse_cell(text).status == BLANK)


def _glue_pieces(tables: list[tuple[bool, list[tuple[int, list[str]]]]]) -> list[list[tuple[int, list[str]]]]:
    """A wide table that a converter cut into 5-column pieces, one after the other with nothing between them
    and the same number of rows, is read as one: each row is its pieces' cells side by side."""
    out: list[list[tuple[int, list[str]]]] = []
    for adjacent, rows in tables:
        prev = out[-1] if out else None
        if (
            adjacent
            and prev is not None
            and len(prev) == len(rows) > 1
            and all(len(c) % _PIECE_WIDTH == 0 for _, c in prev)
            and all(len(c) <= _PIECE_WIDTH for _, c in rows)
            and not any(_ROW_LABEL.match(x.strip()) for _, c in rows for x in c)
        ):
            out[-1] = [(line, a + b) for (line, a), (_, b) in zip(prev, rows, strict=True)]
            continue
        out.append(rows)
    return out


def core_label(text: str) -> bool:
    """True when a cell holds words (not a number, a blank, a footer or a made-up header)."""
    t = text.strip()
    return bool(t) and not _is_value(t) and not _is_footer([t]) and not _MADE_UP_HEADER.fullmatch(t)


def _mend_rows(rows: list[tuple[int, list[str], bool, bool]]) -> list[tuple[int, list[str]]]:
    """Drop page footers, made-up header rows and empty rows; a row label left alone at the end of a table
    piece is put back on the row that opens the next piece (its label cells empty, its values there)."""
    kept: list[tuple[int, list[str], bool]] = []
    headings: set[tuple[str, ...]] = set()
    for line, cells, first_of_piece, last_of_piece in rows:
        if not any(c.strip() for c in cells):
            if not (last_of_piece and len(cells) >= _REVIEW_CELLS):  # the review table's data row left blank
                continue
        elif _is_footer(cells):
            continue
        elif all(_MADE_UP_HEADER.fullmatch(c.strip()) or not c.strip() for c in cells):
            continue
        key = tuple(c.strip() for c in cells)
        if not any(_is_value(c) for c in cells):
            if key in headings and first_of_piece:  # a heading repeated at the top of a piece
                continue
            headings.add(key)
        kept.append((line, cells, last_of_piece))
    out: list[tuple[int, list[str]]] = []
    i = 0
    while i < len(kept):
        line, cells, last_of_piece = kept[i]
        filled = [k for k, c in enumerate(cells) if c.strip()]
        if last_of_piece and i + 1 < len(kept) and filled and all(core_label(cells[k]) for k in filled):
            n = filled[-1] + 1
            nxt = kept[i + 1][1]
            if len(nxt) == len(cells) and not any(c.strip() for c in nxt[:n]) and any(_is_value(c) for c in nxt[n:]):
                out.append((line, cells[:n] + nxt[n:]))
                i += 2
                continue
        out.append((line, cells))
        i += 1
    return out


def read_markdown(text: str) -> Layout:
    """Markdown from a PDF converter: `|`-rows become table rows (header position does not matter). Damage
    from converters and OCR is mended first: a table broken into pieces (5-column pieces side by side, row
    pieces one after another), page footers and made-up header rows inside tables, labels left behind."""
    prose: list[tuple[int | None, str]] = []
    tables: list[tuple[bool, list[tuple[int, list[str]]]]] = []  # (nothing but footers since the last, rows)
    in_table = False
    adjacent = False
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith("|"):
            if not in_table:
                tables.append((adjacent, []))
                in_table = True
            cells = _md_cells(stripped)
            if all(re.fullmatch(r"\s*:?-{2,}:?\s*", c) for c in cells):
                continue
            tables[-1][1].append((number, cells))
            continue
        in_table = False
        if not stripped or _FOOTER.fullmatch(stripped):
            adjacent = bool(tables)
            continue
        adjacent = False
        prose.append((number, stripped.lstrip("#").strip()))
    pieces = _glue_pieces(tables)
    rows = [(line, cells, k == 0, k == len(piece) - 1) for piece in pieces for k, (line, cells) in enumerate(piece)]
    groups: list[list[Cell]] = []
    table_of = {at: t for t, piece in enumerate(pieces) for at, _ in piece}
    for at, cells in _mend_rows(rows):
        groups.append([Cell(c, line=at, table=table_of[at], col=i) for i, c in enumerate(cells)])
    return Layout(groups=groups, prose=prose, source_format="markdown")


def read_any(text: str | None, data: bytes | None, fmt: str) -> Layout:
    """The Layout of a file of format ``fmt``."""
    if fmt == "pdf":
        return read_pdf(data or b"")
    if fmt == "docx":
        return read_docx(data or b"")
    if fmt == "html":
        return read_html(text or "")
    if fmt == "markdown":
        return read_markdown(text or "")
    return read_text(text or "")


def read_text(text: str) -> Layout:
    """Plain text from any converter: a page flattened onto one line with glued numbers, PDF text in
    layout mode (columns by position), or the Word text dump (one tab-indented cell per line)."""
    if flattext.looks_flat(text):
        return flattext.read_flat(text)
    if layouttext.looks_like_layout(text):
        return layouttext.read_layout_text(text)
    if rawtext.looks_raw(text):  # pdftotext in raw reading order: one cell per line, no tabs
        return rawtext.read_raw_text(text)
    return read_layout(text)
