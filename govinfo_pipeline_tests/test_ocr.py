"""Scanned reports (image-only PDFs) read by offline OCR, against the generator's oracle.

The scans are made here: the generator's PDF of a report, each page rendered, turned by up to 1°, speckled with
noise, JPEG-compressed and put back as a PDF without a text layer (``synth/scan.py``).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import ocr, sources
from govinfo_pipeline.synth import generator as synth
from govinfo_pipeline_tests import corpus_accuracy as acc


def _blank_pdf(width: int = 600, height: int = 400) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, format="PDF", resolution=72.0)
    return out.getvalue()


def test_the_engine_and_its_models_come_with_the_package():
    """The models are files inside the installed package: nothing is fetched when the engine starts."""
    import rapidocr_onnxruntime

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    assert {p.suffix for p in models.iterdir()} == {".onnx"} and len(list(models.iterdir())) >= 3


def test_skew_is_measured_on_the_rules():
    """A page of level rules turned by 0.8° measures 0.8° (to a tenth), and a level page 0°."""
    import cv2

    page = np.full((1400, 1000), 255, dtype=np.uint8)
    for y in range(200, 1200, 60):
        cv2.line(page, (100, y), (900, y), 0, 2)
    assert abs(ocr.skew_degrees(page)) < 0.1
    m = cv2.getRotationMatrix2D((500, 700), -0.8, 1.0)  # OpenCV turns counter-clockwise for positive angles
    turned = cv2.warpAffine(page, m, (1000, 1400), borderValue=255)
    assert abs(ocr.skew_degrees(turned) - 0.8) < 0.1


def test_a_reading_in_doubt_is_flagged_not_taken():
    """Two cells of one ruled row: a confident 7 is read; a 3 the engine is unsure of, and a word that runs over
    the rule between cells, are kept as OCR readings in doubt (``ocr_low``), not as numbers."""
    import pdfplumber

    rules = ocr.OcrPage(
        page=1,
        horizontal=[(100, 100, 500, 101), (100, 140, 500, 141), (100, 180, 500, 181)],
        vertical=[(100, 100, 101, 180), (300, 100, 301, 180), (500, 100, 501, 180)],
    )
    rules.words = [
        ocr.Word("7", (190, 110, 200, 130), 0.97),
        ocr.Word("3", (390, 110, 400, 130), 0.31),
        ocr.Word("12 5", (250, 150, 350, 170), 0.99),
    ]
    with pdfplumber.open(io.BytesIO(_blank_pdf())) as pdf:
        groups, prose, n = ocr.page_layout(pdf.pages[0], rules, 0, 0.5)
    assert n == 1 and prose == []
    (a, b), (c, d) = groups
    assert (a.text, a.flag, a.confidence) == ("7", "ocr", 0.97)
    assert (b.text, b.flag) == ("3", "ocr_low")
    assert {c.flag, d.flag} == {"ocr_low", "ocr"} and "12 5" in (c.text, d.text)
    assert c.flag == "ocr_low" if c.text == "12 5" else d.flag == "ocr_low"
    assert a.box is not None and math.isclose(a.box[0], 100, abs_tol=1) and math.isclose(a.box[2], 300, abs_tol=1)


def _cjk_font() -> None:
    """The generator's PDFs do not embed their Chinese font: without a system CJK font a scan shows no Chinese."""
    import subprocess

    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
    assert fonts.strip(), "no CJK font on this machine: install fonts-noto-cjk (make test does)"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    _cjk_font()
    folder = tmp_path_factory.mktemp("scans")
    synth.write_corpus(folder, 1, seed=acc.DAMAGE_SEED, formats=("pdf-scan",))
    oracle = synth.load_oracle(folder / synth.ORACLE_NAME)
    raw = sources.read_files([f for f in sources.discover(folder) if f.rel != synth.ORACLE_NAME])
    return oracle, parse_batch.normalize(raw, workers=1)


@pytest.mark.slow
def test_a_scanned_report_is_read_not_rejected(scanned):
    oracle, out = scanned
    assert out["rejections"].empty, out["rejections"].to_dict("records")
    (report,) = out["reports"].itertuples()
    (truth,) = oracle["files"].values()
    assert report.report_id == truth["report_id"] and report.source_format == "pdf"
    assert report.template_version == truth["template_version"]
    assert "OCR (RapidOCR" in report.parse_notes


@pytest.mark.slow
def test_scanned_cells_are_exact_or_flagged_never_wrong(scanned):
    """Against the oracle: no cell read as a value it does not have; at least 95 % exact."""
    oracle, out = scanned
    s = acc.oracle_stats(oracle, out["cells"])
    assert s["wrong"] == 0, s["misses"][:5]
    assert s["exact"] >= 0.95 * s["expected"], s


@pytest.mark.slow
def test_each_ocr_cell_keeps_its_page_box_and_confidence(scanned):
    _, out = scanned
    cells = out["cells"]
    read = cells[cells["cell_flag"].isin(["ocr", "ocr_low"])]
    assert len(read) >= 0.95 * len(cells)
    assert read["source_page"].notna().all() and read["box_x0"].notna().all()
    assert (read["box_x1"] > read["box_x0"]).all() and (read["box_bottom"] > read["box_top"]).all()
    numbers = read[read["cell_status"] == "number"]
    assert numbers["ocr_confidence"].between(0.5, 1).all()  # below GOVINFO_OCR_MIN_CONFIDENCE: never a number
    assert (read.loc[read["cell_flag"] == "ocr_low", "cell_status"] == "text").all()


def _garbled(rng_seed: int = 5, n: int = 400) -> str:
    """A run of random Chinese characters: what a bad OCR layer or a font with a wrong character map leaves."""
    import random

    rng = random.Random(rng_seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))


def _with_text_layer(pdf: bytes, text: str, visible: bool = False) -> bytes:
    """``pdf``'s pages as pictures, each under a text layer holding ``text`` (invisible, as OCR layers are, unless
    ``visible``)."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    doc = pdfium.PdfDocument(pdf)
    c = canvas.Canvas(out, invariant=True)
    try:
        for page in doc:
            w, h = page.get_size()
            c.setPageSize((w, h))
            c.drawImage(ImageReader(page.render(scale=200 / 72, grayscale=True).to_pil()), 0, 0, w, h)
            t = c.beginText(40, h - 60)
            t.setFont("STSong-Light", 10)
            t.setTextRenderMode(0 if visible else 3)
            for k in range(0, len(text), 40):
                t.textLine(text[k : k + 40])
            c.drawText(t)
            c.showPage()
    finally:
        doc.close()
    c.save()
    return out.getvalue()


def _pages(data: bytes):
    from govinfo_pipeline.parse import pdftext

    doc = pdftext.open_document(data)
    try:
        return pdftext.read_document(doc)
    finally:
        doc.close()


def test_a_text_layer_that_is_not_the_templates_wording_is_set_aside():
    """A picture under random Chinese characters, or under symbols only, is OCR'd; the same picture under the
    report's own words is not, and neither is any page of the corpus's original PDFs."""
    image = _blank_pdf()
    (garbled,) = _pages(_with_text_layer(image, _garbled()))
    assert "not the template's wording" in (ocr.unusable_text(garbled) or "")
    (symbols,) = _pages(_with_text_layer(image, "ÂÃÄÅÆÇÈÉÊË" * 10, visible=True))
    assert "no Chinese" in (ocr.unusable_text(symbols) or "")
    words = "政府信息公开工作年度报告一、总体情况本机关认真贯彻落实政府信息公开条例，主动公开政府信息，依申请公开" * 3
    (real,) = _pages(_with_text_layer(image, words))
    assert ocr.unusable_text(real) is None
    originals = sorted((Path(__file__).parent / "corpus").rglob("*.pdf"))
    assert originals
    for path in originals:
        notes: list[str] = []
        assert ocr.ocr_pages(_pages(path.read_bytes()), notes) == [], (path.name, notes)


@pytest.mark.slow
def test_a_scan_under_a_garbled_text_layer_is_read_by_ocr(tmp_path):
    """The scanned report under a layer of random Chinese: every page falls back to OCR and the cells are read
    as on a bare scan (at least 95 % exact against the oracle, none wrong), not from the garbage."""
    _cjk_font()
    synth.write_corpus(tmp_path, 1, seed=acc.DAMAGE_SEED, formats=("pdf-scan",))
    oracle = synth.load_oracle(tmp_path / synth.ORACLE_NAME)
    (name,) = oracle["files"]
    path = tmp_path / name
    path.write_bytes(_with_text_layer(path.read_bytes(), _garbled()))
    raw = sources.read_files([f for f in sources.discover(tmp_path) if f.rel != synth.ORACLE_NAME])
    out = parse_batch.normalize(raw, workers=1)
    assert out["rejections"].empty, out["rejections"].to_dict("records")
    (report,) = out["reports"].itertuples()
    assert "read by OCR instead" in report.parse_notes and "OCR (RapidOCR" in report.parse_notes
    oracle["files"][name]["report_id"] = report.report_id  # the file changed, and with it the report's id
    s = acc.oracle_stats(oracle, out["cells"])
    assert s["wrong"] == 0 and s["exact"] >= 0.95 * s["expected"], s
