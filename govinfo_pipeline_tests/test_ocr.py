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


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
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
    (truth,) = oracle["files"].values()
    got = {(c.section, c.row, c.col): c for c in out["cells"].itertuples()}
    exact = wrong = 0
    for code, (value, unit, status, _) in zip(
        oracle["cell_codes"][truth["template_version"]], truth["cells"], strict=True
    ):
        c = got.get(tuple(code))
        read = None if c is None or c.value != c.value else c.value
        read_unit = None if c is None or not isinstance(c.unit, str) else c.unit
        if c is not None and c.cell_status == status and read == value and read_unit == unit:
            exact += 1
        elif c is not None and c.cell_status not in ("text", "absent"):
            wrong += 1
    assert wrong == 0
    assert exact >= 0.95 * len(truth["cells"])


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
