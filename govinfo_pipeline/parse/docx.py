"""Word files (.docx) read straight from the main document part with lxml.

The body's paragraphs and tables are read in order, into the same Layout that python-docx's object model
gave (the reader before this one): a paragraph's text is its runs' and hyperlinks' text (``w:tab`` and
``w:ptab`` a tab, ``w:br`` of the text-wrapping kind and ``w:cr`` a line break, ``w:noBreakHyphen`` a dash);
a cell's text is its paragraphs joined by line breaks; a cell merged across columns (``gridSpan``) stands
once, at its first column; a cell merged down (``vMerge``) repeats the text of the cell above in each row.
One parse of the part, no per-cell lookups (python-docx rebuilt the table's whole cell list for each cell).
"""

from __future__ import annotations

import io
import posixpath
import zipfile

from lxml import etree

from govinfo_pipeline.parse.layout import Cell, Layout

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_P, _TBL, _TR, _TC, _R, _HYPERLINK = (_W + n for n in ("p", "tbl", "tr", "tc", "r", "hyperlink"))
_T, _TAB, _PTAB, _BR, _CR, _NBH = (_W + n for n in ("t", "tab", "ptab", "br", "cr", "noBreakHyphen"))
_VAL, _TYPE = _W + "val", _W + "type"


class DocxError(ValueError):
    """The file is not a Word document this reader can open."""


def _parser() -> etree.XMLParser:
    # No entities, no network, no huge trees (limits.py has already refused DTDs and zip bombs).
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


def main_part(z: zipfile.ZipFile) -> str:
    """The name of the package's main document part (the officeDocument relationship; word/document.xml)."""
    try:
        rels = etree.fromstring(z.read("_rels/.rels"), _parser())
    except (KeyError, etree.XMLSyntaxError):
        return "word/document.xml"
    for rel in rels.iter(_REL + "Relationship"):
        if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            return str(posixpath.normpath(str(rel.get("Target", "")).lstrip("/")))
    return "word/document.xml"


def _run_text(run: etree._Element) -> str:
    out: list[str] = []
    for e in run:
        tag = e.tag
        if tag == _T:
            out.append(e.text or "")
        elif tag == _TAB or tag == _PTAB:
            out.append("\t")
        elif tag == _CR:
            out.append("\n")
        elif tag == _BR:
            out.append("\n" if e.get(_TYPE, "textWrapping") == "textWrapping" else "")
        elif tag == _NBH:
            out.append("-")
    return "".join(out)


def paragraph_text(p: etree._Element) -> str:
    """A paragraph's text: its direct runs and the runs of its hyperlinks."""
    out: list[str] = []
    for child in p:
        if child.tag == _R:
            out.append(_run_text(child))
        elif child.tag == _HYPERLINK:
            out.extend(_run_text(r) for r in child if r.tag == _R)
    return "".join(out)


def _tc_props(tc: etree._Element) -> tuple[int, bool]:
    """(gridSpan, whether the cell continues a vertical merge)."""
    span, cont = 1, False
    pr = tc.find(_W + "tcPr")
    if pr is not None:
        gs = pr.find(_W + "gridSpan")
        if gs is not None:
            try:
                span = int(gs.get(_VAL, "1"))
            except ValueError as exc:
                raise DocxError(f"a cell spans {gs.get(_VAL)!r} columns") from exc
        vm = pr.find(_W + "vMerge")
        cont = vm is not None and vm.get(_VAL, "continue") == "continue"
    return span, cont


def table_grid(tbl: etree._Element) -> list[list[str | None]]:
    """The table as rows of cell texts on its grid (``w:tblGrid``); None where a cell merged across
    columns continues."""
    grid_el = tbl.find(_W + "tblGrid")
    width = 0 if grid_el is None else sum(1 for g in grid_el if g.tag == _W + "gridCol")
    rows = [tr for tr in tbl if tr.tag == _TR]
    # One entry per grid position, row after row, as the layout grid lays them (a continuation takes the
    # entry one grid row up): (the source cell's first position, its text).
    flat: list[tuple[int, str]] = []
    for tr in rows:
        for tc in tr:
            if tc.tag != _TC:
                continue
            span, cont = _tc_props(tc)
            for i in range(span):
                if cont:
                    if width == 0 or len(flat) < width:
                        raise DocxError("a vertically merged cell continues no cell above it")
                    flat.append(flat[-width])
                elif i > 0:
                    flat.append(flat[-1])
                else:
                    flat.append((len(flat), "\n".join(paragraph_text(p) for p in tc if p.tag == _P)))
    grid: list[list[str | None]] = []
    for r in range(len(rows)):
        row: list[str | None] = []
        last: int | None = None
        for c in range(width):
            if r * width + c >= len(flat):
                raise DocxError("a table row holds fewer cells than the table's grid")
            key, text = flat[r * width + c]
            row.append(None if key == last else text)  # merged across columns: once
            last = key
        grid.append(row)
    return grid


def read_docx_xml(data: bytes) -> Layout:
    """Paragraphs (prose) and tables (row groups) of a Word file, in body order."""
    from govinfo_pipeline.parse.readers import _groups

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            root = etree.fromstring(z.read(main_part(z)), _parser())
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError) as exc:
        raise DocxError(f"{type(exc).__name__}: {exc}") from exc
    body = root.find(_W + "body")
    if body is None:
        raise DocxError("the main document part has no body")
    prose: list[tuple[int | None, str]] = []
    groups: list[list[Cell]] = []
    t = 0
    for child in body:
        if child.tag == _P:
            text = paragraph_text(child).strip()
            if text:
                prose.append((None, text))
        elif child.tag == _TBL:
            groups += _groups(t, table_grid(child))
            t += 1
    return Layout(groups=groups, prose=prose, source_format="docx")
