"""The review desk in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium): the queue, a
correction and a source error typed at the keyboard, the rows they write, the views and rules on the reviewed
cells, a re-run that keeps them; report content escaped on every page; the PDF crop holding the cell's number.

Figures read by hand from the sample 保税区（金港镇） (001_…): row （六）其他处理 has 自然人 1 and 总计 0 (line 327),
B2 and B3 fail on them; the prose says 公开9件 where the table grants 7 (X6). The correction typed below (1 in
总计) is a reviewer's decision acted out by the test, not a reading of the document. The PDF qinglan_scj_2022_print
(corpus) prints 4 as 新制定 行政规范性文件 on page 2 (its hand-read expectation).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import html as lxml_html

from govinfo_pipeline.review import evidence
from govinfo_pipeline_tests.conftest import ROOT
from govinfo_pipeline_tests.test_cli import govinfo
from govinfo_pipeline_tests.test_pipeline import read

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
PDF = ROOT / "govinfo_pipeline_tests" / "corpus" / "2021" / "qinglan_scj_2022_print.pdf"
SAMPLE = "001_c3f9dd7fb35767f7.txt"
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
needs_browser = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium: apt-get install -y chromium"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Desk:
    """``govinfo review``'s app served from a thread of the test process."""

    def __init__(self, url: str, input_dir: Path, reviewer: str) -> None:
        import uvicorn

        from govinfo_pipeline.review.app import create_app

        self.port = _free_port()
        config = uvicorn.Config(
            create_app(url, input_dir, reviewer), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(100):
            if self.server.started:
                break
            time.sleep(0.1)
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def warehouse(tmp_path, sample_dir, dagster_home):
    """The five samples and the corpus PDF in a fresh DuckDB warehouse."""
    shutil.copy(PDF, sample_dir / PDF.name)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    proc = govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home)
    assert proc.returncode == 0, proc.stderr
    return url


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def _rid(url: str, path: str) -> str:
    return read(url, "SELECT report_id FROM reports WHERE source_path = :p", p=path)["report_id"][0]


@needs_browser
def test_review_a_report_at_the_keyboard(warehouse, sample_dir, dagster_home, browser, tmp_path):
    url, rid = warehouse, _rid(warehouse, SAMPLE)
    desk = Desk(url, sample_dir, "reviewer-a")
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(desk.base + "/")
        rows = page.locator("tr.item")
        first = rows.first.inner_text()
        assert "保税区（金港镇）" in first and "B2" in first  # the report with two failed error rules comes first
        assert rows.count() == 6  # B2, B3, X6 of 001; K1 ×2 and X7 of 004
        page.select_option("select[name=rule]", "B3")
        page.click("form.filters button")
        page.wait_for_url("**/?*rule=B3*")
        assert page.locator("tr.item").count() == 1
        page.keyboard.press("Enter")  # open the selected item
        page.wait_for_url("**/item?*")
        assert "other.natural_person + other.commercial_enterprise" in page.inner_text("p.operands")
        total = page.locator('tr.cell[data-code="application.other.total"]')
        assert "0" in total.locator("td.raw").inner_text()
        assert "327" in total.locator("pre.lines .hit").inner_text()  # the source line, marked
        page.keyboard.press("c")  # the first cell is the row's 总计: type its value, Enter
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        page.wait_for_selector("#saved")
        assert "resolved" in page.inner_text("section.rule"), page.inner_text("main")
        assert "1" in page.locator('tr.cell[data-code="application.other.total"] td.reviewed').inner_text()
        if os.environ.get("GOVINFO_REVIEW_SCREENSHOT"):
            page.screenshot(path=os.environ["GOVINFO_REVIEW_SCREENSHOT"])

        # X6: the prose's 9 against the table's 7, marked as an error of the source (key s on its only cell).
        page.goto(desk.base + f"/item?report={rid}&rule=X6&subject=granted")
        page.keyboard.press("s")
        page.wait_for_selector("#saved")
        assert "source_error" in page.inner_text("#review-state")
        assert not dialogs
    finally:
        desk.stop()

    rows = read(url, 'SELECT kind, section, "row", col, value, read_value, reviewer FROM corrections ORDER BY kind')
    assert rows.astype(object).where(rows.notna(), None).values.tolist() == [
        ["misread", "application", "other", "total", 1.0, 0.0, "reviewer-a"],
        ["source_error", "application", "granted", "total", None, 7.0, "reviewer-a"],
    ]
    cell = read(url, "SELECT value, value_source FROM v_cells WHERE report_id = :r AND \"row\" = 'other' "
                "AND col = 'total'", r=rid)  # fmt: skip
    assert cell.values.tolist() == [[1.0, "reviewer"]]
    reviewed = read(url, "SELECT rule_id, subject, review FROM review_results WHERE review IN ('resolved', "
                    "'source_error') ORDER BY rule_id", r=rid)  # fmt: skip
    assert reviewed.values.tolist() == [["B2", "total", "resolved"], ["B3", "other", "resolved"],
                                        ["X6", "granted", "source_error"]]  # fmt: skip

    # `govinfo run` again: the corrections, the reviewed values and the rules on them stay.
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    assert len(read(url, "SELECT * FROM corrections")) == 2
    assert read(url, "SELECT value FROM v_cells WHERE report_id = :r AND \"row\" = 'other' AND col = 'total'",
                r=rid)["value"][0] == 1.0  # fmt: skip
    again = read(url, "SELECT rule_id, review FROM review_results WHERE review = 'resolved' ORDER BY rule_id")
    assert again.values.tolist() == [["B2", "resolved"], ["B3", "resolved"]]


def _no_script_from_input(page_html: str) -> None:
    doc = lxml_html.fromstring(page_html)
    scripts = [s.get("src") for s in doc.iter("script")]
    assert scripts == ["/static/review.js"], scripts  # the desk's own file, nothing else
    events = [(el.tag, a) for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib if a.startswith("on")]
    assert not events
    assert not [i for i in doc.iter("img") if i.get("src") == "x"]


@needs_browser
def test_report_content_is_escaped_on_every_page(warehouse, sample_dir, browser):
    url, rid = warehouse, _rid(warehouse, SAMPLE)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # hostile text where a report's own text goes: agency, raw cells, messages, notes
        conn.execute(sa.text("UPDATE reports SET agency_name = :h WHERE report_id = :r"), {"h": HOSTILE, "r": rid})
        conn.execute(
            sa.text("UPDATE report_cells SET raw_text = :h WHERE report_id = :r AND col = 'total'"),
            {"h": HOSTILE, "r": rid},
        )
        conn.execute(
            sa.text("UPDATE quality_results SET message = :h, operands = :h WHERE report_id = :r"),
            {"h": HOSTILE, "r": rid},
        )
    engine.dispose()
    desk = Desk(url, sample_dir, HOSTILE)
    try:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(desk.base + f"/item?report={rid}&cell=application.other.total")
        page.fill('tr.cell[data-code="application.other.total"] input.note', HOSTILE)
        page.click('tr.cell[data-code="application.other.total"] button[value="confirmed"]')
        page.wait_for_selector("#saved")
        for path in (
            "/",
            f"/item?report={rid}&rule=B2&subject=total",
            f"/item?report={rid}&cell=application.other.total",
            "/corrections",
            "/item?report=nothing&cell=" + HOSTILE,
        ):
            response = page.goto(desk.base + path)
            assert response is not None
            _no_script_from_input(page.content())
            assert page.evaluate("window.pwned") is None
            assert "script-src 'self'" in response.headers["content-security-policy"]
        page.goto(desk.base + "/corrections")
        assert HOSTILE in page.inner_text("body")  # shown as text
        assert not dialogs
        # a write without the page's token, or from another host name, is refused
        assert page.request.post(desk.base + "/correct", form={"report": rid, "kind": "confirmed"}).status == 403
        assert page.request.get(desk.base + "/", headers={"Host": "evil.example"}).status == 400
    finally:
        desk.stop()


def test_the_pdf_crop_holds_the_cells_number(warehouse, sample_dir, tmp_path, dagster_home):
    """The crop is cut where the printed number is: the characters of 4 (found in the PDF's text layer with
    pdfplumber, not from the reader's box) lie inside the crop, and the crop's box outline surrounds dark ink."""
    import pdfplumber
    from PIL import Image

    url = warehouse
    rid = _rid(url, PDF.name)
    out = tmp_path / "cell.png"
    code = "proactive.normative_document.issued"
    proc = govinfo("evidence", rid, code, "--out", str(out), "--warehouse", url, "--input", str(sample_dir),
                   home=dagster_home)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cell = read(url, "SELECT raw_text, source_page, box_x0, box_top, box_x1, box_bottom FROM report_cells "
                "WHERE report_id = :r AND section = 'proactive' AND \"row\" = 'normative_document' AND col = 'issued'",
                r=rid).iloc[0].to_dict()  # fmt: skip
    assert (cell["raw_text"], cell["source_page"]) == ("4", 2)
    png, region = evidence.pdf_crop(sample_dir / PDF.name, {**cell, "code": code})
    assert png == out.read_bytes()
    with pdfplumber.open(PDF) as pdf:
        page = pdf.pages[1]
        row_top = min(w["top"] for w in page.extract_words() if w["text"].startswith("行政规范性文件"))
        fours = [c for c in page.chars if c["text"] == "4" and abs(c["top"] - row_top) < 12]
    assert len(fours) == 1
    four = fours[0]
    assert region.left <= four["x0"] and four["x1"] <= region.right
    assert region.top <= four["top"] and four["bottom"] <= region.bottom
    x0, top, x1, bottom = region.box or (0, 0, 0, 0)
    cx, cy = (four["x0"] + four["x1"]) / 2, (four["top"] + four["bottom"]) / 2
    assert x0 <= cx <= x1 and top <= cy <= bottom  # the digit's centre is inside the outlined box
    image = Image.open(io.BytesIO(png)).convert("L")
    s = evidence.SCALE
    inside = image.crop(
        (
            int((four["x0"] - region.left) * s),
            int((four["top"] - region.top) * s),
            int((four["x1"] - region.left) * s) + 1,
            int((four["bottom"] - region.top) * s) + 1,
        )
    )
    assert min(inside.getdata()) < 100  # the printed digit is in the crop where the text layer puts it


def test_evidence_of_web_pages_word_files_and_glued_text(tmp_path, dagster_home):
    """HTML and Word cells: their table as the reader saw it, the cell marked (qinglan_scj_2022: 予以公开 总计 60,
    hand-read); a page flattened onto one line: the text around the cell, its run marked (qinglan_wjw_2023: the
    unsplittable run 111000012 of 予以公开)."""
    from urllib.request import urlopen

    corpus = ROOT / "govinfo_pipeline_tests" / "corpus" / "2021"
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("qinglan_scj_2022_site.html", "qinglan_scj_2022_word.docx", "qinglan_wjw_2023_glued_ambiguous.txt"):
        shutil.copy(corpus / name, raw / name)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert govinfo("run", "--input", str(raw), "--warehouse", url, home=dagster_home).returncode == 0
    reports = read(url, "SELECT report_id, source_format FROM reports")
    desk = Desk(url, raw, "r")
    try:
        for rid, fmt in reports.values:
            with urlopen(f"{desk.base}/item?report={rid}&cell=application.granted.total") as r:
                doc = lxml_html.fromstring(r.read().decode("utf-8"))
            if fmt == "text":
                assert [m.text_content() for m in doc.xpath("//pre[contains(@class, 'excerpt')]/mark")] == ["111000012"]
            else:
                hits = doc.xpath("//table[@class='grid']//td[@class='hit']")
                assert [h.text_content() for h in hits] == ["60"], fmt
                row = hits[0].getparent()
                assert "（一）予以公开" in row.text_content() and "52" in row.text_content()
    finally:
        desk.stop()
