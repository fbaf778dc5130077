"""The generator's reports as the other formats real reports come in: HTML pages, Word files and PDFs.

``synth`` writes each report as a Word text dump (one tab-indented cell per line, a blank line between
table rows). This module reads that dump back into prose lines and table rows, exactly as the generator
wrote them (it knows its own layout, so no heuristics are involved), and lays them out as

* ``html``: a portal page (navigation, breadcrumb, footer) with the report's tables as ``<table>``
  markup, ``colspan`` where a row has fewer cells than the table, ``&nbsp;`` blanks, ``<br>`` in
  wrapped labels;
* ``docx``: a Word document written with python-docx, short rows merged across columns;
* ``pdf``: a PDF with ruled tables drawn by reportlab (a CJK font, wrapped cells, tables that cross page
  breaks).

Each format keeps every cell the dump holds, in the same order, so the oracle's expected values, units
and statuses are the same for every format. Raw text can differ: the dump's Word bookmarks are left out,
and a PDF keeps no NBSP in a blank cell.
"""

from __future__ import annotations

import functools
import html
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

# txt-flat, txt-raw and md-split: synth/damage.py; pdf-scan (the PDF printed and scanned): synth/scan.py
FORMATS = ("txt", "html", "docx", "pdf", "txt-flat", "txt-raw", "md-split", "pdf-scan")
SCANNED = ("pdf-scan",)
# Word bookmarks that a text dump prints before a number; a page, a Word file or a PDF does not show them.
_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")


@dataclass
class Block:
    """A prose line (``rows`` None) or a table: rows of cell texts (``\\n`` where a cell wraps)."""

    text: str | None = None
    rows: list[list[str]] | None = None


def split_dump(text: str) -> list[Block]:
    """Prose lines and tables of a dump written by ``synth``.

    A line starting with a tab is a cell; a non-empty line right after a cell without a tab continues
    that cell (``synth`` writes split labels that way); a blank line ends a table row; a prose line ends
    the table.
    """
    blocks: list[Block] = []
    table: list[list[str]] | None = None
    row: list[str] | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("\t"):
            if table is None:
                table = []
                blocks.append(Block(rows=table))
            if row is None:
                row = []
                table.append(row)
            row.append(line[1:])
        elif line and row is not None:
            row[-1] += "\n" + line
        elif not line:
            row = None
        else:
            table = row = None
            blocks.append(Block(text=line))
    return blocks


def render(fmt: str, text: str) -> bytes:
    """The dump ``text`` as a file of format ``fmt`` (``txt`` is not handled here)."""
    blocks = split_dump(_BOOKMARK.sub("", text))
    if fmt == "html":
        return to_html(blocks).encode("utf-8")
    if fmt == "docx":
        return to_docx(blocks)
    if fmt == "pdf":
        return to_pdf(blocks)
    if fmt == "pdf-scan":
        import hashlib
        import random

        from govinfo_pipeline.synth import scan

        rng = random.Random(hashlib.sha256(f"{fmt}:{text}".encode()).hexdigest())
        return scan.scan(to_pdf(blocks), rng)
    if fmt in ("txt-flat", "txt-raw", "md-split"):
        from govinfo_pipeline.synth import damage

        return damage.render(fmt, text)
    raise ValueError(f"unknown format {fmt!r}; one of {FORMATS[1:]}")


def _width(rows: list[list[str]]) -> int:
    return max(len(r) for r in rows)


def _spans(row: list[str], width: int) -> list[int]:
    """Columns each cell covers: a short row's first cell spans the gap, so its last cells (the values)
    stand in the table's last columns."""
    spans = [1] * len(row)
    spans[0] += width - len(row)
    return spans


# ---- HTML ---------------------------------------------------------------------------------------


def _html_cell(text: str) -> str:
    if text.strip(" \u00a0\u3000") == "":
        return "&nbsp;" if text else ""
    return "<br>".join(html.escape(part) for part in text.split("\n"))


def to_html(blocks: list[Block]) -> str:
    body: list[str] = []
    for b in blocks:
        if b.rows is None:
            body.append(f"<p>{html.escape(b.text or '')}</p>")
            continue
        width = _width(b.rows)
        body.append('<table border="1" cellspacing="0" cellpadding="2" style="border-collapse:collapse">')
        for row in b.rows:
            tds = "".join(
                f'<td colspan="{s}">{_html_cell(c)}</td>' if s > 1 else f"<td>{_html_cell(c)}</td>"
                for c, s in zip(row, _spans(row, width), strict=True)
            )
            body.append(f"<tr>{tds}</tr>")
        body.append("</table>")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>政府信息公开</title></head><body>\n'
        '<div class="nav"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | '
        '<a href="/hdjl/">互动交流</a></div>\n'
        '<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 政府信息公开工作年度报告</div>\n'
        '<div id="zoom">\n' + "\n".join(body) + "\n</div>\n"
        '<div class="footer">主办单位：本站 | 网站标识码 0000000000</div>\n</body></html>\n'
    )


# ---- DOCX ---------------------------------------------------------------------------------------


def to_docx(blocks: list[Block]) -> bytes:
    import docx

    document = docx.Document()
    for b in blocks:
        if b.rows is None:
            document.add_paragraph(b.text or "")
            continue
        width = _width(b.rows)
        table = document.add_table(rows=len(b.rows), cols=width)
        table.style = "Table Grid"
        for r, row in enumerate(b.rows):
            cells = table.rows[r].cells
            col = 0
            for text, span in zip(row, _spans(row, width), strict=True):
                cell = cells[col]
                if span > 1:
                    cell = cell.merge(cells[col + span - 1])
                cell.text = text
                col += span
    saved = io.BytesIO()
    document.save(saved)
    return _fixed_zip_times(saved.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with every entry dated 1980-01-01, so that equal documents are equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(
                zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)),
                src.read(info),
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()


# ---- PDF ----------------------------------------------------------------------------------------

PAGE_WIDTH = 451  # points between the margins of an A4 page with reportlab's default 72 pt margins


@functools.cache
def _pdf_styles():
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    prose = ParagraphStyle("prose", fontName="STSong-Light", fontSize=10.5, leading=16, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=7, leading=9, wordWrap="CJK")
    return prose, cell


def _col_widths(width: int) -> Sequence[float]:
    if width == 10:  # the application table: three label columns, seven applicant columns
        return [34, 34, 117] + [38] * 7
    if width <= 5:  # the proactive tables: a label column and the counts
        first = 150
        return [first] + [(PAGE_WIDTH - first) / (width - 1)] * (width - 1)
    return [PAGE_WIDTH / width] * width


def to_pdf(blocks: list[Block]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    prose, cell_style = _pdf_styles()

    def para(text: str, style) -> Paragraph:
        return Paragraph("<br/>".join(html.escape(part) for part in text.split("\n")), style)

    story = []
    for b in blocks:
        if b.rows is None:
            prose_text = (b.text or "").strip()
            if prose_text:
                story.append(para(prose_text, prose))
            continue
        width = _width(b.rows)
        data, style = [], [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        for r, row in enumerate(b.rows):
            line: list = []
            for text, span in zip(row, _spans(row, width), strict=True):
                if span > 1:
                    style.append(("SPAN", (len(line), r), (len(line) + span - 1, r)))
                line.append(para(text, cell_style) if text.strip(" \u00a0\u3000") else "")
                line.extend([""] * (span - 1))
            data.append(line)
        story.append(Table(data, colWidths=_col_widths(width), style=TableStyle(style)))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title="政府信息公开工作年度报告", invariant=True).build(story)
    return out.getvalue()
