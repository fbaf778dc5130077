"""Offline OCR of image-only PDF pages: RapidOCR (PP-OCR models shipped inside the package; nothing is downloaded).

A page is rendered (pypdfium2), its skew is measured on the table rules and undone, the rules are found (OpenCV
morphology) and the words are read with their boxes and confidence. The reader (``readers.read_pdf``) hands the
rules to the same table finder that reads text-layer PDFs and places each word in the cell that holds it, so that
table reconstruction is one code path. Boxes are given in PDF points on the page as published (the skew
correction is undone on them), so a reviewer's crop of the page shows the cell.

Pages are read in worker processes (``GOVINFO_OCR_WORKERS``), one page image in memory per worker.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from govinfo_pipeline.parse import codebook

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points
MAX_SKEW_DEGREES = 5.0
MIN_MARK_PIXELS = 20  # at 200 dpi a printed "1" or "/" has some tens to hundreds; a noise speck a handful
MIN_SPECK_PIXELS = 6


@dataclass
class Word:
    """A run of text the engine read: its text, its box on the page (points) and the engine's confidence."""

    text: str
    box: Box
    confidence: float
    second: str | None = None  # a figure read again on its own crop, where that reading differs


@dataclass
class OcrPage:
    """What OCR found on one page: words, horizontal and vertical rules (as boxes, points), the skew undone."""

    page: int  # 1-based
    words: list[Word] = field(default_factory=list)
    horizontal: list[Box] = field(default_factory=list)
    vertical: list[Box] = field(default_factory=list)
    skew_degrees: float = 0.0
    seconds: float = 0.0
    scale: float = 1.0  # pixels per point
    inverse: list[list[float]] = field(default_factory=lambda: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

    def on_page(self, box: Box) -> Box:
        """A box of the straightened page (where words and rules are) on the page as published."""
        x0, top, x1, bottom = (v * self.scale for v in box)
        corners = np.array([[x0, top], [x1, top], [x0, bottom], [x1, bottom]])
        return _box_back(corners, np.array(self.inverse), self.scale)


_ENGINE: Any = None


def _engine() -> Any:
    """One engine per process; onnxruntime on one thread (pages run in parallel processes instead)."""
    global _ENGINE
    if _ENGINE is None:
        from rapidocr_onnxruntime import RapidOCR

        _ENGINE = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    return _ENGINE


def _gray(data: bytes, index: int, dpi: int) -> NDArray[np.uint8]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        bitmap = doc[index].render(scale=dpi / 72, grayscale=True)
        img = np.array(bitmap.to_pil().convert("L"), dtype=np.uint8)
    finally:
        doc.close()
    return img


def _rules(binary: NDArray[np.uint8], horizontal: bool) -> list[tuple[int, int, int, int]]:
    """Long straight rules in an inverted binary image, as (x, y, w, h) pixel rectangles."""
    import cv2

    h, w = binary.shape
    length = max(20, (w if horizontal else h) // 40)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
    mask = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [tuple(int(v) for v in cv2.boundingRect(c)) for c in contours]  # type: ignore[misc]


def _binary(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    import cv2

    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return np.asarray(out, dtype=np.uint8)


def skew_degrees(gray: NDArray[np.uint8]) -> float:
    """The page's skew, from the slope of its long horizontal rules (0 when it has none)."""
    import cv2

    binary = _binary(gray)
    h, w = binary.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 12), 1))
    # A skewed rule is broken into short level pieces; closing joins them before the slope is measured.
    mask = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 3)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    lines = cv2.HoughLinesP(mask, 1, np.pi / 1800, threshold=w // 6, minLineLength=w // 5, maxLineGap=20)
    if lines is None:
        return 0.0
    angles = []
    for x1, y1, x2, y2 in np.asarray(lines).reshape(-1, 4):
        if x2 != x1:
            a = math.degrees(math.atan2(float(y2 - y1), float(x2 - x1)))
            if abs(a) <= MAX_SKEW_DEGREES:
                angles.append(a)
    return float(np.median(angles)) if angles else 0.0


def _rotation(gray: NDArray[np.uint8], degrees: float) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """The page turned by ``degrees`` about its centre (white fill) and the inverse map back to the page."""
    import cv2

    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    turned = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    return np.asarray(turned, dtype=np.uint8), np.asarray(cv2.invertAffineTransform(m), dtype=np.float64)


def _box_back(points: NDArray[np.float64], inverse: NDArray[np.float64], scale: float) -> Box:
    """A box's corners (pixels of the straightened image) on the page as published, in points."""
    ones = np.ones((points.shape[0], 1))
    back = np.hstack([points, ones]) @ inverse.T
    xs, ys = back[:, 0] / scale, back[:, 1] / scale
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def read_page(data: bytes, index: int, dpi: int) -> OcrPage:
    """OCR one page (0-based ``index``) of a PDF: words, rules and skew."""
    import time

    t0 = time.perf_counter()
    gray = _gray(data, index, dpi)
    scale = dpi / 72
    angle = skew_degrees(gray)
    straight, inverse = _rotation(gray, angle) if abs(angle) > 0.05 else (gray, np.eye(2, 3))
    out = OcrPage(page=index + 1, skew_degrees=angle, scale=scale, inverse=inverse.tolist())
    binary = _binary(straight)
    for horizontal, target in ((True, out.horizontal), (False, out.vertical)):
        for x, y, w, h in _rules(binary, horizontal):
            target.append((x / scale, y / scale, (x + w) / scale, (y + h) / scale))
    rgb = np.stack([straight] * 3, axis=-1)
    result, _ = _engine()(rgb)
    for quad, text, score in result or []:
        pts = np.asarray(quad, dtype=np.float64) / scale
        box = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))
        out.words.append(Word(str(text), box, float(score)))
    _read_figures_again(straight, out.words, scale)
    out.words += _missed(straight, binary, out, scale)
    out.seconds = time.perf_counter() - t0
    return out


_DIGIT = re.compile(r"\d")
_SECOND_PAD = 2  # pixels around a figure's box when it is read again


def _read_figures_again(gray: NDArray[np.uint8], words: list[Word], scale: float) -> None:
    """Read every word holding a digit a second time, cut out on its own (the page pass reads it inside a line
    crop, where a clear 9 was seen read as 6 with confidence 0.97). Where the two readings differ, the second
    is kept on the word: the cell is then in doubt (``ocr_low``), whichever reading is right; the rules are not
    asked to choose."""
    figures = [w for w in words if _DIGIT.search(w.text)]
    crops = []
    for w in figures:
        x0, top, x1, bottom = (int(round(v * scale)) for v in w.box)
        crop = gray[max(top - _SECOND_PAD, 0) : bottom + _SECOND_PAD, max(x0 - _SECOND_PAD, 0) : x1 + _SECOND_PAD]
        crops.append(np.stack([crop] * 3, axis=-1))
    if not crops:
        return
    readings, _ = _engine().text_rec(crops)
    for w, reading in zip(figures, readings, strict=True):
        again = "".join(str(reading[0]).split())
        if again != "".join(w.text.split()):
            w.second = again


def _missed(gray: NDArray[np.uint8], binary: NDArray[np.uint8], page: OcrPage, scale: float) -> list[Word]:
    """Ink the detector found no text in (a lone ``0``, ``1`` or ``/`` in a cell is easily missed): each such mark,
    rules taken away, is read on its own; what cannot be read becomes ``?`` with confidence 0, so that a printed
    mark is never taken for an empty cell."""
    import cv2

    ink = binary.copy()
    for x0, top, x1, bottom in page.horizontal + page.vertical:
        a, b = int(x0 * scale) - 2, int(top * scale) - 2
        ink[max(b, 0) : int(bottom * scale) + 3, max(a, 0) : int(x1 * scale) + 3] = 0
    for word in page.words:
        a, b = int(word.box[0] * scale) - 2, int(word.box[1] * scale) - 2
        ink[max(b, 0) : int(word.box[3] * scale) + 3, max(a, 0) : int(word.box[2] * scale) + 3] = 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < MIN_SPECK_PIXELS)
    ink[np.isin(labels, specks)] = 0  # noise, not print
    joined = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (int(6 * scale), int(2 * scale))))
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Word] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if int(np.count_nonzero(ink[y : y + h, x : x + w])) < MIN_MARK_PIXELS:
            continue
        if not _ruled(page, (x + w / 2) / scale, (y + h / 2) / scale):
            continue  # prose: a mark there is not a cell's
        pad = int(3 * scale)
        crop = gray[max(y - pad, 0) : y + h + pad, max(x - pad, 0) : x + w + pad]
        result, _ = _engine()(np.stack([crop] * 3, axis=-1), use_det=False, use_cls=False, use_rec=True)
        text, score = (str(result[0][0]).strip(), float(result[0][1])) if result else ("", 0.0)
        box = (x / scale, y / scale, (x + w) / scale, (y + h) / scale)
        found.append(Word(text, box, score) if text else Word("?", box, 0.0))
    return found


def _ruled(page: OcrPage, x: float, y: float) -> bool:
    """True when (x, y) has a vertical rule on its left and one on its right: it is inside a table."""
    beside = [(v[0] + v[2]) / 2 for v in page.vertical if v[1] <= y <= v[3]]
    return any(vx < x for vx in beside) and any(vx > x for vx in beside)


def _read_one(args: tuple[bytes, int, int]) -> OcrPage:
    return read_page(*args)


def read_scanned(data: bytes, scanned: list[int], notes: list[str]) -> dict[int, OcrPage]:
    """OCR the 0-based pages ``scanned`` with the configured engine settings, by 1-based page number; the outcome
    (pages, skew, time, readings in doubt) or the engine's failure goes to ``notes``. A broken engine leaves the
    pages unread and the rest of the report kept."""
    from govinfo_pipeline import settings

    s = settings.current()
    try:
        read = {p.page: p for p in read_pages(data, scanned, s.ocr_dpi, s.ocr_workers)}
    except Exception as exc:
        notes.append(f"OCR of pages {', '.join(str(i + 1) for i in scanned)} failed ({type(exc).__name__}: {exc})")
        return {}
    if read:
        notes.append(summary(list(read.values()), s.ocr_dpi))
    return read


def read_pages(data: bytes, indexes: list[int], dpi: int, workers: int) -> list[OcrPage]:
    """OCR these pages, in up to ``workers`` processes (here, in order, for one page or one worker)."""
    if not indexes:
        return []
    if workers <= 1 or len(indexes) == 1 or "fork" not in mp.get_all_start_methods():
        return [read_page(data, i, dpi) for i in indexes]
    with ProcessPoolExecutor(min(workers, len(indexes)), mp_context=mp.get_context("fork")) as pool:
        return list(pool.map(_read_one, [(data, i, dpi) for i in indexes]))


def _edges(page: OcrPage) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rules as the table finder's edges: horizontal at their middle line, vertical at their middle column."""

    def edge(x0: float, top: float, x1: float, bottom: float, orientation: str) -> dict[str, Any]:
        return box_obj("line_edge", x0, top, x1, bottom, orientation)

    h = [edge(x0, (t + b) / 2, x1, (t + b) / 2, "h") for x0, t, x1, b in page.horizontal]
    v = [edge((x0 + x1) / 2, t, (x0 + x1) / 2, b, "v") for x0, t, x1, b in page.vertical]
    return h, v


def box_obj(
    kind: str, x0: float, top: float, x1: float, bottom: float, orientation: str | None = None
) -> dict[str, Any]:
    """A page object as pdfplumber's table finder takes it (an edge, a rectangle, a curve)."""
    obj: dict[str, Any] = {
        "object_type": kind,
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
    }
    if orientation is not None or kind == "curve_edge":
        obj["orientation"] = orientation
    return obj


def _inside(word: Word, box: Box) -> bool:
    x = (word.box[0] + word.box[2]) / 2
    y = (word.box[1] + word.box[3]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _spills(word: Word, box: Box) -> bool:
    """True when a fifth or more of the word's width lies outside its cell: it may hold two cells' text."""
    width = max(word.box[2] - word.box[0], 1e-6)
    outside = max(0.0, box[0] - word.box[0]) + max(0.0, word.box[2] - box[2])
    return outside / width > 0.2


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines (their vertical middles within half a line's height), each left to right."""
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        mid = (w.box[1] + w.box[3]) / 2
        if lines:
            last = lines[-1]
            last_mid = sum((x.box[1] + x.box[3]) / 2 for x in last) / len(last)
            if abs(mid - last_mid) <= (w.box[3] - w.box[1]) / 2:
                last.append(w)
                continue
        lines.append([w])
    return [sorted(line, key=lambda w: w.box[0]) for line in lines]


def page_layout(plumber_page: Any, page: OcrPage, first_table: int, min_confidence: float) -> tuple[Any, Any, int]:
    """The page's table rows (Cells flagged ``ocr``, or ``ocr_low`` where a reading is in doubt) and its prose
    lines, from OCR: the rules go to the table finder that reads text-layer PDFs, each word to the cell that
    holds its middle. Returns (groups, prose, tables found)."""
    from govinfo_pipeline.parse.layout import Cell

    h, v = _edges(page)
    settings = {
        "vertical_strategy": "explicit",
        "horizontal_strategy": "explicit",
        "explicit_vertical_lines": v,
        "explicit_horizontal_lines": h,
        "snap_tolerance": 4,
        "join_tolerance": 4,
        "intersection_tolerance": 4,
    }
    tables = plumber_page.find_tables(settings) if h and v else []
    used: set[int] = set()
    groups: list[list[Cell]] = []
    for t, table in enumerate(tables, start=first_table):
        for r, row in enumerate(table.rows):
            cells: list[Cell] = []
            for c, box in enumerate(row.cells):
                if box is None:
                    continue  # a merged cell continues
                mine = [k for k, w in enumerate(page.words) if k not in used and _inside(w, box)]
                used.update(mine)
                words = [page.words[k] for k in mine]
                text = "\n".join("".join(w.text for w in line) for line in _lines(words))
                confidence = min((w.confidence for w in words), default=None)
                low = confidence is not None and confidence < min_confidence
                doubtful = low or any(_spills(w, box) or w.second is not None for w in words)
                cells.append(
                    Cell(
                        text,
                        page=page.page,
                        table=t,
                        row=r,
                        col=c,
                        box=page.on_page(box),
                        confidence=confidence,
                        flag="ocr_low" if doubtful else "ocr",
                    )
                )
            if cells:
                groups.append(cells)
    rest = [w for k, w in enumerate(page.words) if k not in used]
    prose = [(None, "".join(w.text for w in line)) for line in _lines(rest)]
    return groups, prose, len(tables)


MIN_WORDING_SHARE = 0.25  # of a text layer's Chinese characters, the least share in the templates' wording
_MIN_CHECKED = 20  # Chinese characters a text layer needs before its wording is judged


def unusable_text(page: Any) -> str | None:
    """Why a page's text layer cannot be read (it is then OCR'd): a scan (pictures and almost no Chinese), a
    layer of Chinese that is not the templates' wording (a bad OCR layer under a scan, a font whose characters
    map to the wrong code points), or a layer of symbols with no Chinese at all; None for a usable layer."""
    text = [ch["text"] for ch in page.chars]
    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if len(text) >= 50 and len(cjk) < 5 and sum(not (ch.isascii() or ch.isspace()) for ch in text) > len(text) / 2:
        return f"its text layer is {len(text)} symbols with no Chinese"
    if page.images and len(cjk) < 5:
        return "no text layer"
    if len(cjk) >= _MIN_CHECKED:
        vocab = codebook.vocabulary()
        share = sum(ch in vocab for ch in cjk) / len(cjk)
        if share < MIN_WORDING_SHARE:
            return f"its text layer is not the template's wording ({share:.0%} of {len(cjk)} Chinese characters)"
    return None


def needs_ocr(page: Any) -> bool:
    """A page to OCR: see ``unusable_text``."""
    return unusable_text(page) is not None


def ocr_pages(pages: list[Any], notes: list[str]) -> list[int]:
    """The 0-based indexes of the pages to OCR; a page with a text layer that is set aside is named in ``notes``."""
    out = []
    for i, page in enumerate(pages):
        why = unusable_text(page)
        if why is not None:
            out.append(i)
            if why != "no text layer":
                notes.append(f"page {i + 1}: {why}; read by OCR instead")
    return out


def summary(pages: list[OcrPage], dpi: int) -> str:
    """The parse note of a PDF read by OCR: which pages, the skew undone, the time taken."""
    which = ", ".join(str(p.page) for p in pages)
    skew = max((abs(p.skew_degrees) for p in pages), default=0.0)
    seconds = sum(p.seconds for p in pages)
    twice = [w for p in pages for w in p.words if w.second is not None]
    doubts = (
        f"; {len(twice)} figure(s) read differently on a second reading ("
        + ", ".join(f"{w.text!r} or {w.second!r} on page {p.page}" for p in pages for w in p.words if w.second)[:300]
        + "), kept as text"
        if twice
        else ""
    )
    return f"OCR (RapidOCR, {dpi} dpi): pages {which}; skew up to {skew:.2f}°; {seconds:.1f} s{doubts}"
