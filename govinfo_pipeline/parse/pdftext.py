"""Text-layer PDFs read with PDFium (pypdfium2) into the parser's Layout, without pdfminer.

Each page gives its characters with their boxes (PDFium's text page: left and right as PDFium places each
character, top and bottom from its baseline and font size) and its ruled lines (path objects: a two-point path is
a line, a closed axis-aligned four-sided path a rectangle and its four edges, anything else a polyline whose
straight pieces count, as pdfminer and pdfplumber read them). The rules go to pdfplumber's table search
(``pdfplumber.table``, the one the OCR path uses) and each character to the cell that holds its centre; the
characters outside the tables are the prose, laid out by pdfplumber's own text layout (lines by position, a
space at each gap). Boxes are pdfplumber-style ``(x0, top, x1, bottom)`` in points from the page's top left.

A page this reader does not handle (turned by /Rotate, or hostile numbers of objects) raises ``NotHandled``;
``readers.read_pdf`` then reads the file with pdfplumber.
"""

from __future__ import annotations

import ctypes
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.table import Table, TableFinder, cells_to_tables, edges_to_intersections, merge_edges
from pdfplumber.utils import extract_text, filter_edges, obj_to_bbox
from pdfplumber.utils.text import chars_to_textmap

from govinfo_pipeline.parse.layout import Cell, Layout
from govinfo_pipeline.parse.ocr import box_obj

Box = tuple[float, float, float, float]
Obj = dict[str, Any]  # a pdfplumber-style object: a char or an edge
MAX_FORM_DEPTH = 12  # form XObjects nested deeper than this are not a report's page
MAX_OBJECTS = 200_000  # page objects (or path segments) per page before the page is left to pdfplumber
TOLERANCE = 3.0  # pdfplumber's default x/y tolerance (text) and snap/join/intersection tolerance (tables)


class NotHandled(Exception):
    """A page or file this reader leaves to the pdfplumber reader."""


@dataclass
class PageContent:
    """What one page holds, in the shape pdfplumber's table finder and ``ocr.needs_ocr`` read."""

    page_number: int  # 1-based
    width: float
    height: float
    chars: list[Obj] = field(default_factory=list)
    edges: list[Obj] = field(default_factory=list)
    images: list[int] = field(default_factory=list)  # one entry per image object

    @property
    def bbox(self) -> Box:
        return (0.0, 0.0, self.width, self.height)

    def find_tables(self, table_settings: dict[str, Any] | None = None) -> list[Table]:
        """With settings (explicit rules, as ``ocr.page_layout`` gives them): pdfplumber's ``TableFinder``.
        Without: the tables of this page's own rules, as pdfplumber's default 'lines' strategy finds them."""
        if table_settings is not None:
            return TableFinder(self, table_settings).tables  # type: ignore[arg-type]  # a page as far as it reads
        v = filter_edges(self.edges, "v", min_length=1)
        h = filter_edges(self.edges, "h", min_length=1)
        edges = merge_edges(v + h, TOLERANCE, TOLERANCE, TOLERANCE, TOLERANCE)
        edges = filter_edges(edges, min_length=TOLERANCE)
        cells = intersections_to_cells(edges_to_intersections(edges, TOLERANCE, TOLERANCE))
        return [Table(self, group) for group in cells_to_tables(cells)]  # type: ignore[arg-type]


def intersections_to_cells(intersections: dict[tuple[float, float], dict[str, list[Obj]]]) -> list[Box]:
    """``pdfplumber.table.intersections_to_cells``, the same cells in the same order (a test compares them), without
    its scans of every later point for each point and its per-call sets: for each corner, the nearest point below
    and to the right that closes a cell whose four sides are rules."""
    points = sorted(intersections)
    v_sets = {p: frozenset(obj_to_bbox(e) for e in d["v"]) for p, d in intersections.items()}
    h_sets = {p: frozenset(obj_to_bbox(e) for e in d["h"]) for p, d in intersections.items()}

    def connects(p1: tuple[float, float], p2: tuple[float, float]) -> bool:
        if p1[0] == p2[0] and not v_sets[p1].isdisjoint(v_sets[p2]):
            return True
        return p1[1] == p2[1] and not h_sets[p1].isdisjoint(h_sets[p2])

    by_y: dict[float, list[tuple[float, float]]] = {}
    for p in points:  # in sorted order: each row's points left to right
        by_y.setdefault(p[1], []).append(p)
    cells: list[Box] = []
    n = len(points)
    for i, pt in enumerate(points):
        below = []
        k = i + 1
        while k < n and points[k][0] == pt[0]:
            below.append(points[k])
            k += 1
        row = by_y[pt[1]]
        right = row[bisect_right(row, pt) :]
        found = None
        for below_pt in below:
            if not connects(pt, below_pt):
                continue
            for right_pt in right:
                if not connects(pt, right_pt):
                    continue
                corner = (right_pt[0], below_pt[1])
                if corner in intersections and connects(corner, right_pt) and connects(corner, below_pt):
                    found = (pt[0], pt[1], corner[0], corner[1])
                    break
            if found:
                break
        if found:
            cells.append(found)
    return cells


# ---- reading a page ----


def _matrix(obj: Any) -> tuple[float, float, float, float, float, float]:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(inner: tuple[float, ...], outer: tuple[float, ...]) -> tuple[float, float, float, float, float, float]:
    """The matrix applying ``inner`` first, then ``outer`` (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _objects(page: pdfium.PdfPage) -> list[tuple[int, Any, tuple[float, ...]]]:
    """Every page object (form XObjects opened) as (type, handle, matrix to page space)."""
    out: list[tuple[int, Any, tuple[float, ...]]] = []
    raw = page.raw
    stack: list[tuple[Any, int, tuple[float, ...] | None]] = [
        (pdfium_c.FPDFPage_GetObject(raw, i), 0, None) for i in range(pdfium_c.FPDFPage_CountObjects(raw))
    ]
    stack.reverse()
    while stack:
        obj, depth, outer = stack.pop()
        if len(out) > MAX_OBJECTS:
            raise NotHandled(f"more than {MAX_OBJECTS} objects on a page")
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        own = _matrix(obj)
        m = own if outer is None else _compose(own, outer)
        out.append((kind, obj, m))
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            if depth >= MAX_FORM_DEPTH:
                raise NotHandled("form XObjects nested too deep")
            n = pdfium_c.FPDFFormObj_CountObjects(obj)
            children = [(pdfium_c.FPDFFormObj_GetObject(obj, k), depth + 1, m) for k in range(max(n, 0))]
            stack.extend(reversed(children))
    return out


def _path_points(obj: Any, m: tuple[float, ...]) -> list[tuple[str, tuple[float, float]]]:
    """A path's segments as pdfminer records them: ('m'|'l'|'c'|'h', end point in page space); a closing
    segment adds 'h' back to its subpath's start."""
    n = pdfium_c.FPDFPath_CountSegments(obj)
    if n > MAX_OBJECTS:
        raise NotHandled(f"a path of {n} segments")
    a, b, c, d, e, f = m
    x, y = ctypes.c_float(), ctypes.c_float()
    ops: list[tuple[str, tuple[float, float]]] = []
    pending_bezier = 0
    for i in range(max(n, 0)):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        if not pdfium_c.FPDFPathSegment_GetPoint(seg, x, y):
            continue
        px, py = float(x.value), float(y.value)
        pt = (a * px + c * py + e, b * px + d * py + f)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            ops.append(("m", pt))
        elif kind == pdfium_c.FPDF_SEGMENT_BEZIERTO:
            pending_bezier += 1
            if pending_bezier == 3:  # two control points, then the end point: one 'c' operator
                ops.append(("c", pt))
                pending_bezier = 0
        else:
            ops.append(("l", pt))
        if pdfium_c.FPDFPathSegment_GetClose(seg) and pending_bezier == 0:
            start = next((p for op, p in reversed(ops) if op == "m"), None)
            if start is not None:
                ops.append(("h", start))
    return ops


def _path_edges(ops: list[tuple[str, tuple[float, float]]], top_y: float) -> tuple[list[Obj], list[Obj], list[Obj]]:
    """(line edges, rect edges, curve edges) of one painted path, as pdfminer's ``paint_path`` and pdfplumber's
    ``page.edges`` make them."""
    lines: list[Obj] = []
    rects: list[Obj] = []
    curves: list[Obj] = []
    starts = [i for i, (op, _) in enumerate(ops) if op == "m"]
    if not ops or ops[0][0] != "m":
        return lines, rects, curves
    for k, s in enumerate(starts):
        sub = ops[s : starts[k + 1] if k + 1 < len(starts) else len(ops)]
        if len(sub) < 2:
            continue
        shape = "".join(op for op, _ in sub)
        pts = [p for _, p in sub]
        if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:
            shape = shape[:-2] + "h"
            pts.pop()
        if shape in ("ml", "mlh"):
            (x0, y0), (x1, y1) = pts[0], pts[1]
            edge = box_obj("line_edge", min(x0, x1), top_y - max(y0, y1), max(x0, x1), top_y - min(y0, y1))
            edge["orientation"] = "h" if edge["top"] == edge["bottom"] else "v"
            lines.append(edge)
            continue
        if shape in ("mlllh", "mllll"):
            (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
            square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (
                y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0
            )
            if pts[0] == pts[4] and square:
                left, right = min(x0, x2), max(x0, x2)
                top, bottom = top_y - max(y0, y2), top_y - min(y0, y2)
                rects += [
                    box_obj("rect_edge", left, top, right, top, "h"),
                    box_obj("rect_edge", left, bottom, right, bottom, "h"),
                    box_obj("rect_edge", left, top, left, bottom, "v"),
                    box_obj("rect_edge", right, top, right, bottom, "v"),
                ]
                continue
        flipped = [(px, top_y - py) for px, py in pts]
        for (ax, ay), (bx, by) in zip(flipped, flipped[1:], strict=False):
            orientation = "v" if ax == bx else ("h" if ay == by else None)
            curves.append(box_obj("curve_edge", min(ax, bx), min(ay, by), max(ax, bx), max(ay, by), orientation))
    return lines, rects, curves


# FPDFText_GetTextObject with the object's address as a plain integer (one call per character, compared as is)
_TEXT_OBJECT = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)(
    ctypes.cast(pdfium_c.FPDFText_GetTextObject, ctypes.c_void_p).value or 0
)


def _page_text(tp: Any, n: int) -> str | None:
    """The text page's characters in one call, or None where its text does not line up with its characters."""
    if n <= 0:
        return ""
    buffer = (ctypes.c_ushort * (n + 1))()
    written = pdfium_c.FPDFText_GetText(tp, 0, n, buffer)
    text = bytes(memoryview(buffer).cast("B")[: max(written - 1, 0) * 2]).decode("utf-16-le", "replace")
    if len(text) != n or any(ord(text[i]) != pdfium_c.FPDFText_GetUnicode(tp, i) for i in (0, n // 2, n - 1)):
        return None
    return text


def _chars(page: pdfium.PdfPage, top_y: float) -> list[Obj]:
    """The page's characters (not the spaces and line ends PDFium makes up), pdfplumber-style. An upright
    character's box runs from its baseline up by the font size (pdfminer's box for a font that declares no
    descent; PDFium's loose boxes vary from glyph to glyph, and its descents from font to font, which would
    break a line of mixed fonts); its left and right are PDFium's. A turned character keeps PDFium's loose box."""
    textpage = page.get_textpage()
    try:
        tp = textpage.raw
        n = pdfium_c.FPDFText_CountChars(tp)
        if n > MAX_OBJECTS:
            raise NotHandled(f"{n} characters on a page")
        text_of = _page_text(tp, n)
        address = ctypes.cast(tp, ctypes.c_void_p).value
        rect = pdfium_c.FS_RECTF()
        m = pdfium_c.FS_MATRIX()
        ox, oy = ctypes.c_double(), ctypes.c_double()
        loose_box, origin = pdfium_c.FPDFText_GetLooseCharBox, pdfium_c.FPDFText_GetCharOrigin
        out: list[Obj] = []
        last: int | None = None
        upright, size = True, 0.0
        for i in range(max(n, 0)):
            text = text_of[i] if text_of is not None else chr(pdfium_c.FPDFText_GetUnicode(tp, i))
            if text < " " or text in "\ufffe\uffff":
                continue  # line ends PDFium inserts, and its markers
            if text.isspace() and pdfium_c.FPDFText_IsGenerated(tp, i) == 1:
                continue
            if not loose_box(tp, i, rect):
                continue
            obj = _TEXT_OBJECT(address, i)
            if obj != last or obj is None:  # a new text object: its matrix and font size
                last = obj
                if pdfium_c.FPDFText_GetMatrix(tp, i, m):  # the font size is in text space: the matrix scales it
                    upright = m.a * m.d > 0 and m.b * m.c <= 0
                    size = pdfium_c.FPDFText_GetFontSize(tp, i) * abs(m.d)
                else:
                    upright, size = True, pdfium_c.FPDFText_GetFontSize(tp, i)
            x0, x1 = rect.left, rect.right
            if upright and size > 0 and origin(tp, i, ox, oy):
                bottom = top_y - oy.value
                top = bottom - size
            else:
                top, bottom = top_y - rect.top, top_y - rect.bottom
            if x1 < x0:
                x0, x1 = x1, x0
            if bottom < top:
                top, bottom = bottom, top
            out.append(
                {
                    "text": text,
                    "x0": x0,
                    "x1": x1,
                    "top": top,
                    "bottom": bottom,
                    "doctop": top,
                    "width": x1 - x0,
                    "height": bottom - top,
                    "upright": upright,
                    "cx": (x0 + x1) / 2,  # its centre, which decides its cell
                    "cy": (top + bottom) / 2,
                }
            )
        return out
    finally:
        textpage.close()


def read_page(page: pdfium.PdfPage, number: int) -> PageContent:
    """One page's characters, rule edges and image count."""
    if page.get_rotation() % 360:
        raise NotHandled("a page turned by /Rotate")
    left, bottom, right, top = page.get_mediabox()
    content = PageContent(number, float(right - left), float(top - bottom))
    lines: list[Obj] = []
    rects: list[Obj] = []
    curves: list[Obj] = []
    for kind, obj, m in _objects(page):
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            content.images.append(kind)
        elif kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            a, b, c = _path_edges(_path_points(obj, m), float(top))
            lines += a
            rects += b
            curves += c
    content.edges = lines + rects + curves
    content.chars = _chars(page, float(top))
    return content


# ---- cells and prose ----


def cell_text(chars: list[Obj]) -> str:
    """A cell's text as pdfplumber's ``Table.extract`` gives it (``chars`` in page order): one run of characters
    on one line is joined directly, anything else goes through pdfplumber's text layout."""
    if not chars:
        return ""
    tops = [ch["top"] for ch in chars]
    if max(tops) - min(tops) <= TOLERANCE and all(ch["upright"] and not ch["text"].isspace() for ch in chars):
        ordered = sorted(chars, key=lambda ch: ch["x0"])
        if all(b["x0"] <= a["x1"] + TOLERANCE for a, b in zip(ordered, ordered[1:], strict=False)):
            return "".join(ch["text"] for ch in ordered)
    return str(extract_text(chars))


def _table_cells(table: Table, chars: list[tuple[float, float, int]], page_chars: list[Obj]) -> list[list[Any]]:
    """The table's rows as (text or None for a merged cell continuing, box) pairs; ``chars`` are the page's
    (vertical centre, horizontal centre, index) sorted by vertical centre."""
    mids = [c[0] for c in chars]
    rows = []
    for row in table.rows:
        _, top, _, bottom = row.bbox
        inside = chars[bisect_left(mids, top) : bisect_left(mids, bottom)]  # top <= v_mid < bottom
        out: list[Any] = []
        for cell in row.cells:
            if cell is None:
                out.append((None, None))
                continue
            x0, ctop, x1, cbottom = cell
            mine = sorted(k for v, h, k in inside if x0 <= h < x1 and ctop <= v < cbottom)
            out.append((cell_text([page_chars[k] for k in mine]), cell))
        rows.append(out)
    return rows


def page_tables(content: PageContent) -> tuple[list[Table], list[list[list[Any]]]]:
    """The page's tables and, for each, its rows of (text, box)."""
    tables = content.find_tables()
    if not tables:
        return [], []
    keyed = sorted((ch["cy"], ch["cx"], k) for k, ch in enumerate(content.chars))
    return tables, [_table_cells(t, keyed, content.chars) for t in tables]


def prose_lines(content: PageContent, boxes: list[Box]) -> list[str]:
    """The page's text outside the tables (a character whose centre is in a table's box, edges included, is the
    table's), as pdfplumber's ``extract_text`` lays it out."""

    chars = content.chars
    for x0, top, x1, bottom in boxes:
        chars = [ch for ch in chars if not (x0 <= ch["cx"] <= x1 and top <= ch["cy"] <= bottom)]
    if not chars:
        return []
    text = chars_to_textmap(chars, layout_bbox=content.bbox).as_string
    return [line.strip() for line in text.split("\n") if line.strip()]


def layout_pages(pages: list[PageContent], first_table: int = 0) -> tuple[list[list[Cell]], list[str], int]:
    """Groups (table rows as Cells) and prose lines of text-layer pages; returns them and the tables found."""
    groups: list[list[Cell]] = []
    prose: list[str] = []
    t = first_table
    for content in pages:
        tables, rows_of = page_tables(content)
        prose += prose_lines(content, [tb.bbox for tb in tables])
        for rows in rows_of:
            for r, row in enumerate(rows):
                cells = [
                    Cell(text, page=content.page_number, table=t, row=r, col=c, box=_float_box(box))
                    for c, (text, box) in enumerate(row)
                    if text is not None
                ]
                if cells:
                    groups.append(cells)
            t += 1
    return groups, prose, t


def _float_box(box: Box) -> Box:
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))


def open_document(data: bytes) -> pdfium.PdfDocument:
    """The document, or ``NotHandled`` when PDFium cannot open it (the pdfplumber reader then names the reason)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise NotHandled(f"PDFium cannot open the file: {exc}") from exc


def read_document(doc: pdfium.PdfDocument) -> list[PageContent]:
    """Every page's content."""
    out = []
    for i in range(len(doc)):
        page = doc[i]
        try:
            out.append(read_page(page, i + 1))
        finally:
            page.close()
    return out


def read_layout(data: bytes) -> Layout:
    """The Layout of a PDF: text-layer pages read here, pages without a usable text layer (a scan) by OCR into
    the same tables and prose. Raises ``NotHandled`` for a file or page left to the pdfplumber reader."""
    from govinfo_pipeline import settings
    from govinfo_pipeline.parse import ocr

    doc = open_document(data)
    try:
        pages = read_document(doc)
    finally:
        doc.close()
    notes: list[str] = []
    s = settings.current()
    read = ocr.read_scanned(data, ocr.ocr_pages(pages, notes), notes)
    groups: list[list[Cell]] = []
    prose: list[tuple[int | None, str]] = []
    t = 0
    for content in pages:
        if content.page_number in read:
            page_groups, page_prose, n_tables = ocr.page_layout(
                content, read[content.page_number], t, s.ocr_min_confidence / 100
            )
            groups += page_groups
            prose += page_prose
            t += n_tables
            continue
        page_groups, lines, t = layout_pages([content], t)
        groups += page_groups
        prose += [(None, line) for line in lines]
    return Layout(groups=groups, prose=prose, source_format="pdf", notes=notes)
