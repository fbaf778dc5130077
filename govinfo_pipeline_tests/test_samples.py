"""Every cell of the five sample reports against values read from the documents by hand.

The expectations live in ``expected/*.yaml``. They were transcribed from the source files by a
person and checked against the template's arithmetic; they are not parser output.
"""

from __future__ import annotations

import pytest

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.report import parse_report
from govinfo_pipeline_tests.conftest import SAMPLES, expected_reports

EXPECTED = expected_reports()
APP_COLS = [c["col"] for c in codebook.load()["application_cols"]]
REVIEW_COLS = [c["col"] for c in codebook.load()["review_litigation_cols"]]


def expected_cells(doc: dict) -> dict[tuple[str, str, str], tuple[float | None, str | None, str]]:
    """(section, row, col) -> (value, unit, status) from the hand-read notation."""
    out = {}

    def put(section, row, col, token):
        unit = None
        if isinstance(token, list):
            token, unit = token
        if token == "blank" or token == "none":
            out[(section, row, col)] = (None, None, token)
        elif isinstance(token, dict):
            out[(section, row, col)] = (None, None, "text")
        else:
            out[(section, row, col)] = (float(token), unit, "number")

    cells = doc["cells"]
    for row, cols in cells["proactive"].items():
        for col, token in cols.items():
            put("proactive", row, col, token)
    for row, values in cells["application"].items():
        assert len(values) == 7, row
        for col, token in zip(APP_COLS, values, strict=True):
            put("application", row, col, token)
    for row, values in cells["review_litigation"].items():
        for col, token in zip(REVIEW_COLS, values, strict=True):
            put("review_litigation", row, col, token)
    return out


@pytest.fixture(scope="module")
def parsed():
    return {name: parse_report((SAMPLES / name).read_text(encoding="utf-8")) for name in EXPECTED}


def test_the_expectations_cover_990_cells():
    assert len(EXPECTED) == 5
    total = sum(len(expected_cells(doc)) for doc in EXPECTED.values())
    assert total == 990
    for doc in EXPECTED.values():
        assert set(expected_cells(doc)) == {(c.section, c.row, c.col) for c in codebook.cells("2019")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata(parsed, name):
    doc, got = EXPECTED[name], parsed[name]
    assert got.agency_name == doc["agency_name"]
    assert got.report_year == doc["report_year"]
    assert got.template_version == doc["template_version"]
    assert got.title == doc["title"]
    assert got.parse_status == "parsed"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sections(parsed, name):
    doc, got = EXPECTED[name], parsed[name]
    headings = {s.section_no: s for s in got.sections}
    assert set(headings) == set(doc["sections"])
    for no, want in doc["sections"].items():
        assert headings[no].source_line == want["line"]
        assert headings[no].heading.endswith(want["heading"])  # stored with its numbering, e.g. "3、 收到…"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_cell(parsed, name):
    want = expected_cells(EXPECTED[name])
    got = {(c["section"], c["row"], c["col"]): c for c in parsed[name].cells}
    assert len(got) == 198
    wrong = []
    for key, (value, unit, status) in want.items():
        cell = got[key]
        ok = (
            cell["cell_status"] == status
            and cell["unit"] == unit
            and (cell["value"] == pytest.approx(value) if value is not None else cell["value"] is None)
        )
        if not ok:
            wrong.append((key, (value, unit, status), (cell["value"], cell["unit"], cell["cell_status"])))
    assert wrong == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_raw_text_and_source_lines(parsed, name):
    doc = EXPECTED[name]
    got = {f"{c['section']}.{c['row']}.{c['col']}": c for c in parsed[name].cells}
    for key, raw in doc.get("raw_text", {}).items():
        assert got[key]["raw_text"] == raw, key
    for key, line in doc["source_lines"].items():
        assert got[key]["source_line"] == line, key
    # Cells whose text is plain digits keep exactly those digits as raw text.
    for key, cell in got.items():
        if key not in doc.get("raw_text", {}) and cell["cell_status"] == "number":
            assert cell["raw_text"].isdigit(), key


def test_blank_is_not_zero(parsed):
    cells = parsed["004_54bad18d043e05e5.txt"].cells
    app = [c for c in cells if c["section"] == "application"]
    assert {c["cell_status"] for c in app} == {"blank"}
    assert all(c["value"] is None for c in app)
