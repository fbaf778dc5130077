"""The PDFium reader of text-layer PDFs (``parse/pdftext.py``): the cells of the corpus PDFs against the values read
by hand, the same Layout as the pdfplumber reader it replaces, its table search against pdfplumber's own, and the
files it leaves to pdfplumber."""

from __future__ import annotations

import io

import pytest

from govinfo_pipeline.parse import ocr, pdftext, readers
from govinfo_pipeline.parse.report import parse_layout
from govinfo_pipeline_tests import corpus_accuracy as acc

PDFS = [(p, d) for p, d in acc.expected_files() if p.suffix == ".pdf"]


@pytest.mark.parametrize("path,doc", PDFS, ids=[p.name for p, _ in PDFS])
def test_pdfium_cells_are_the_hand_read_values(path, doc):
    """Every hand-read cell of each corpus PDF, from the PDFium reader itself (no pdfplumber fallback): value, unit
    and status, or, in a damaged file, flagged (text/absent), never a wrong value."""
    layout = pdftext.read_layout(path.read_bytes())
    assert layout.groups and not layout.notes
    parsed = parse_layout(layout)
    assert parsed.template_version == doc["template_version"] and parsed.parse_status == doc["parse_status"]
    got = {(c["section"], c["row"], c["col"]): c for c in parsed.cells}
    want = acc.expected_cells(doc)
    assert len(want) >= 198
    for key, (value, unit, status) in want.items():
        c = got[key]
        if acc.damaged(doc) and c["cell_status"] in ("text", "absent") and c["cell_status"] != status:
            continue  # flagged, as the accuracy script counts it
        assert (c["cell_status"], c["value"], c["unit"]) == (status, value, unit), (path.name, key, c["raw_text"])


@pytest.mark.parametrize("path", [p for p, _ in PDFS], ids=[p.name for p, _ in PDFS])
def test_the_same_layout_as_the_pdfplumber_reader(path):
    """Cell by cell (text, page, table, row, column, box to 0.01 pt), prose line by line."""
    data = path.read_bytes()
    old, new = readers.read_pdf_plumber(data), readers.read_pdf(data)
    assert [len(g) for g in old.groups] == [len(g) for g in new.groups]
    for a, b in zip((c for g in old.groups for c in g), (c for g in new.groups for c in g), strict=True):
        assert (a.raw, a.page, a.table, a.row, a.col) == (b.raw, b.page, b.table, b.row, b.col)
        assert a.box is not None and b.box is not None
        assert max(abs(x - y) for x, y in zip(a.box, b.box, strict=True)) < 0.01, (a, b)
    assert old.prose == new.prose and old.notes == new.notes == []


def test_the_cell_search_is_pdfplumbers():
    """``pdftext.intersections_to_cells`` gives pdfplumber's cells, in its order, on every corpus page."""
    from pdfplumber.table import edges_to_intersections, intersections_to_cells, merge_edges
    from pdfplumber.utils import filter_edges

    pages = 0
    for path, _ in PDFS:
        doc = pdftext.open_document(path.read_bytes())
        try:
            contents = pdftext.read_document(doc)
        finally:
            doc.close()
        for content in contents:
            v = filter_edges(content.edges, "v", min_length=1)
            h = filter_edges(content.edges, "h", min_length=1)
            edges = filter_edges(merge_edges(v + h, 3, 3, 3, 3), min_length=3)
            points = edges_to_intersections(edges, 3, 3)
            assert pdftext.intersections_to_cells(points) == intersections_to_cells(points)
            pages += bool(points)
    assert pages >= 8


def _report_pdf(rotate: int = 0, ruled: bool = True) -> bytes:
    """A small report page: a heading, a sentence, and a 2x2 ruled table (or the same words without rules)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(400, 400), invariant=True)
    if rotate:
        c.setPageRotation(rotate)
    c.setFont("STSong-Light", 10)
    c.drawString(40, 360, "某县2022年政府信息公开工作年度报告")
    c.drawString(40, 340, "一、总体情况")
    if ruled:
        c.setLineWidth(0.5)
        for y in (300, 280, 260):
            c.line(40, y, 240, y)
        for x in (40, 140, 240):
            c.line(x, 260, x, 300)
    words = [((50, 286), "收到申请"), ((150, 286), "12"), ((50, 266), "办结"), ((150, 266), "3 件")]
    for (x, y), text in words:
        c.drawString(x, y, text)
    c.showPage()
    c.save()
    return out.getvalue()


def test_a_ruled_table_and_its_prose():
    layout = readers.read_pdf(_report_pdf())
    assert [[c.text for c in g] for g in layout.groups] == [["收到申请", "12"], ["办结", "3 件"]]
    assert [t for _, t in layout.prose] == ["某县2022年政府信息公开工作年度报告", "一、总体情况"]
    (a, b), _ = layout.groups
    assert a.box is not None and abs(a.box[0] - 40) < 0.5 and abs(a.box[1] - 100) < 0.5  # 400 - 300: from the top
    assert b.box is not None and abs(b.box[2] - 240) < 0.5 and abs(b.box[3] - 120) < 0.5


def test_a_table_drawn_in_a_scaled_form_xobject():
    """Rules and words inside a form XObject placed with a translation and a scale: the same cells and boxes as
    pdfplumber (the form's matrix composed with the page's)."""
    from reportlab.pdfgen import canvas

    _report_pdf()  # registers the font
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(400, 400), invariant=True)
    c.setFont("STSong-Light", 10)
    c.drawString(40, 360, "某县2022年政府信息公开工作年度报告")
    c.beginForm("table")
    c.setFont("STSong-Light", 10)
    for y in (60, 40, 20):
        c.line(0, y, 200, y)
    for x in (0, 100, 200):
        c.line(x, 20, x, 60)
    c.rect(0, 0, 200, 15)
    for (x, y), text in [((10, 46), "收到申请"), ((110, 46), "12"), ((10, 26), "办结"), ((110, 26), "3")]:
        c.drawString(x, y, text)
    c.endForm()
    c.translate(40, 200)
    c.scale(1.2, 1.2)
    c.doForm("table")
    c.showPage()
    c.save()
    old, new = readers.read_pdf_plumber(out.getvalue()), readers.read_pdf(out.getvalue())
    assert [[c.text for c in g] for g in new.groups] == [["收到申请", "12"], ["办结", "3"]]
    boxes = [(a.box, b.box) for g, h in zip(old.groups, new.groups, strict=True) for a, b in zip(g, h, strict=True)]
    assert all(a == pytest.approx(b) for a, b in boxes)
    assert new.groups[0][1].box == pytest.approx((160, 128, 280, 152))
    assert new.prose == old.prose and new.notes == []


def test_files_it_leaves_are_read_by_pdfplumber_with_a_note():
    """A turned page, and a report whose tables have no rules, go to pdfplumber; the note says why."""
    turned = readers.read_pdf(_report_pdf(rotate=90))
    assert any("read with pdfplumber" in n and "/Rotate" in n for n in turned.notes)
    with pytest.raises(pdftext.NotHandled):
        pdftext.read_layout(_report_pdf(rotate=90))
    unruled = readers.read_pdf(_report_pdf(ruled=False))
    assert unruled.groups == [] and any("PDFium reader found no table" in n for n in unruled.notes)


def test_broken_and_locked_files_keep_their_reasons():
    from govinfo_pipeline_tests.test_hostile import encrypted_pdf

    source = acc.CORPUS / "2019" / "tongchuan_zrzy_2020_print.pdf"
    with pytest.raises(readers.Unreadable) as locked:
        readers.read_pdf(encrypted_pdf(source))
    assert locked.value.reason == "encrypted"
    data = source.read_bytes()
    with pytest.raises(readers.Unreadable) as cut:
        readers.read_pdf(data[: len(data) // 2])
    assert cut.value.reason == "malformed"


def test_an_image_only_page_needs_ocr_and_a_text_page_does_not():
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (300, 200), 255).save(out, format="PDF", resolution=72.0)
    for data, expected in ((out.getvalue(), True), (_report_pdf(), False)):
        doc = pdftext.open_document(data)
        try:
            (page,) = pdftext.read_document(doc)
        finally:
            doc.close()
        assert ocr.needs_ocr(page) is expected
