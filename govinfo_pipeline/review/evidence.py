"""The evidence of a cell: the crop of the rendered PDF page at the cell's box (the whole page when the reader
recorded no box), or the source lines around the cell for text, Markdown, HTML and Word files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

SCALE = 3.0  # render at 216 dpi: digits stay legible in the crop
MARGIN_X, MARGIN_Y = 120.0, 36.0  # points of context beside the box (the row label) and above and below it
CONTEXT_BEFORE, CONTEXT_AFTER = 9, 3  # a Word dump puts a row's label up to 8 lines above its cells


class NoEvidence(RuntimeError):
    """The cell's source cannot be shown (file missing, not a PDF, no page)."""


@dataclass(frozen=True)
class Crop:
    """Where a crop was cut from the page, in PDF points (top-left origin), and the cell's box inside it."""

    page: int
    left: float
    top: float
    right: float
    bottom: float
    box: tuple[float, float, float, float] | None  # the cell's box (x0, top, x1, bottom); None: the whole page


def source_file(input_dir: Path, source_path: str) -> Path:
    """The report's file under the input folder; a path that leaves it is refused."""
    root = input_dir.resolve()
    path = (root / source_path).resolve()
    if root not in path.parents or not path.is_file():
        raise NoEvidence(f"{source_path} is not in the input folder {input_dir}")
    return path


def _box(cell: dict) -> tuple[float, float, float, float] | None:
    parts = [cell.get(k) for k in ("box_x0", "box_top", "box_x1", "box_bottom")]
    if any(p is None for p in parts):
        return None
    x0, top, x1, bottom = (float(p) for p in parts)  # type: ignore[arg-type]
    return (x0, top, x1, bottom) if x1 > x0 and bottom > top else None


def crop_region(cell: dict, page_width: float, page_height: float) -> Crop:
    """The part of the page to show: the cell's box with a margin, inside the page; the page without a box."""
    page = int(cell.get("source_page") or 1)
    box = _box(cell)
    if box is None:
        return Crop(page, 0.0, 0.0, page_width, page_height, None)
    x0, top, x1, bottom = box
    return Crop(
        page,
        max(0.0, x0 - MARGIN_X),
        max(0.0, top - MARGIN_Y),
        min(page_width, x1 + MARGIN_X),
        min(page_height, bottom + MARGIN_Y),
        box,
    )


def pdf_crop(path: Path, cell: dict, scale: float = SCALE) -> tuple[bytes, Crop]:
    """PNG bytes of the crop of the cell's page (the cell's box outlined in red), and where it was cut."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        number = int(cell.get("source_page") or 1)
        if not 1 <= number <= len(pdf):
            raise NoEvidence(f"{path.name} has no page {number}")
        page = pdf[number - 1]
        width, height = page.get_size()
        region = crop_region(cell, width, height)
        image = page.render(scale=scale).to_pil().convert("RGB")
    finally:
        pdf.close()
    px = [round(v * scale) for v in (region.left, region.top, region.right, region.bottom)]
    part = image.crop((px[0], px[1], px[2], px[3]))
    if region.box is not None:
        x0, top, x1, bottom = region.box
        draw = ImageDraw.Draw(part)
        draw.rectangle(
            [(x0 - region.left) * scale - 3, (top - region.top) * scale - 3]
            + [(x1 - region.left) * scale + 3, (bottom - region.top) * scale + 3],
            outline=(220, 30, 30),
            width=3,
        )
    buf = io.BytesIO()
    part.save(buf, format="PNG")
    return buf.getvalue(), region


def is_pdf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"%PDF-"


def source_lines(path: Path, line: int | None) -> list[tuple[int, str, bool]]:
    """The lines around ``line`` (1-based) as (number, text, is_the_cell's_line); decoded as the pipeline does."""
    from govinfo_pipeline.parse.decode import decode

    lines = (decode(path.read_bytes()).text or "").splitlines()
    if line is None or not 1 <= line <= len(lines):
        return []
    lo, hi = max(1, line - CONTEXT_BEFORE), min(len(lines), line + CONTEXT_AFTER)
    return [(n, lines[n - 1], n == line) for n in range(lo, hi + 1)]


LONG_LINE = 300  # a line longer than this (a page flattened onto one line) is shown around the cell only


def excerpt(path: Path, cell: dict, width: int = 80) -> tuple[str, str, str] | None:
    """For a cell on a long line with a known offset: the text before it, the cell's run, and the text after."""
    from govinfo_pipeline.parse.decode import decode

    line, offset = cell.get("source_line"), cell.get("source_offset")
    if line is None or offset is None:
        return None
    lines = (decode(path.read_bytes()).text or "").splitlines()
    if not 1 <= int(line) <= len(lines) or len(lines[int(line) - 1]) <= LONG_LINE:
        return None
    text, start = lines[int(line) - 1], int(offset)
    end = start + len(str(cell.get("raw_text") or ""))
    return text[max(0, start - width) : start], text[start:end], text[end : end + width]


def table_rows(path: Path, cell: dict, context: int = 4) -> list[list[tuple[str, bool]]]:
    """For a cell read from an HTML or Word table: the rows of that table around the cell's row, as the reader
    saw them (merged cells expanded), each cell's text and whether it is the cell; [] when there is no table."""
    from govinfo_pipeline.parse.decode import decode
    from govinfo_pipeline.parse.readers import read_any

    table, row, col, fmt = (cell.get(k) for k in ("source_table", "source_row", "source_col", "source_format"))
    if table is None or row is None or col is None or fmt not in ("html", "docx"):
        return []
    data = path.read_bytes()
    layout = read_any(None if fmt == "docx" else decode(data).text, data, str(fmt))
    grid: dict[int, dict[int, str]] = {}
    for group in layout.groups:
        for c in group:
            if c.table == table and c.row is not None and c.col is not None:
                grid.setdefault(c.row, {})[c.col] = c.text
    if not grid:
        return []
    width = 1 + max(k for r in grid.values() for k in r)
    rows = [r for r in sorted(grid) if abs(r - int(row)) <= context]
    return [[(grid[r].get(k, ""), r == row and k == col) for k in range(width)] for r in rows]


def cell_png(cell: dict, input_dir: Path) -> bytes:
    """The PNG that ``govinfo evidence`` writes: the crop of the PDF page, or the source lines drawn as an image."""
    path = source_file(input_dir, str(cell["source_path"]))
    if is_pdf(path):
        return pdf_crop(path, cell)[0]
    lines = source_lines(path, cell.get("source_line"))
    if not lines:
        raise NoEvidence(f"cell {cell['code']} of {cell['source_path']} has no source line to show")
    return _lines_png(lines)


def _font(size: int):
    from PIL import ImageFont

    for name in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    ):
        if Path(name).exists():
            return ImageFont.truetype(name, size)
    return ImageFont.load_default()


def _lines_png(lines: list[tuple[int, str, bool]]) -> bytes:
    """The source lines as an image, the cell's line on a yellow band (tabs shown as →)."""
    from PIL import Image, ImageDraw

    font, height = _font(20), 30
    texts = [f"{n:>5}  {t.replace(chr(9), '→ ')}" for n, t, _ in lines]
    width = max(400, 20 + 20 * max(len(t) for t in texts))
    image = Image.new("RGB", (min(width, 2400), height * len(texts) + 20), "white")
    draw = ImageDraw.Draw(image)
    for i, ((_n, _t, mine), text) in enumerate(zip(lines, texts, strict=True)):
        y = 10 + i * height
        if mine:
            draw.rectangle([0, y - 2, image.width, y + height - 4], fill=(255, 236, 140))
        draw.text((10, y), text, fill="black", font=font)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
