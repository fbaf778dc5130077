"""PDF text in raw reading order: generated reports laid out as ``pdftotext`` prints them (``synth.damage``:
blocks of rows column by column, empty cells printing nothing), read back against what the generator built."""

from __future__ import annotations

import pytest

from govinfo_pipeline.parse import rawtext, readers
from govinfo_pipeline.parse.report import parse_layout
from govinfo_pipeline.synth import damage
from govinfo_pipeline.synth import generator as synth


def _raw(report: synth.SynthReport, seed: int = 0) -> str:
    return damage.render("txt-raw", report.data.decode(report.encoding), seed=seed).decode("utf-8")


def _application(report: synth.SynthReport) -> list[dict]:
    return [c for c in report.expected_cells if c["section"] == "application"]


def _read(text: str) -> dict[tuple[str, str], dict]:
    parsed = parse_layout(readers.read_text(text), text)
    return {(c["row"], c["col"]): c for c in parsed.cells if c["section"] == "application"}


@pytest.fixture(scope="module")
def reports() -> list[tuple[synth.SynthReport, dict[tuple[str, str], dict], str]]:
    """Reports that break no rule, each laid out in raw order, and the application cells read from it."""
    out = []
    for r in synth.generate(80, seed=4242, formats=("txt",)):
        if r.fault is None:
            text = _raw(r)
            assert rawtext.looks_raw(text)
            out.append((r, _read(text), text))
    return out


def _exact(cell: dict | None, want: dict) -> bool:
    return cell is not None and (cell["value"], cell["cell_status"]) == (want["value"], want["cell_status"])


def test_no_cell_is_read_wrong(reports):
    """What is read is what was built; a cell not read with certainty is left unread (absent) or text."""
    for r, got, _ in reports:
        for c in _application(r):
            cell = got.get((c["row"], c["col"]))
            if cell is not None and cell["cell_status"] not in ("text", "absent"):
                assert _exact(cell, c), (r.name, c, cell)


def test_a_label_printed_before_the_rows_above_it_is_placed_by_the_template(reports):
    """A block read column by column prints 四、结转下年度继续办理 (drawn in the label column) before the
    sub-labels of the rows above it (drawn in the next column): where every cell of the table printed, its
    numbers and theirs are still their own."""
    cases = []
    for r, got, text in reports:
        if any(not c["raw_text"].strip(" \u00a0\u3000") for c in _application(r)):
            continue  # an empty cell printed nothing: which cell it was may not be told
        lines = text.split("\n")
        if "四、结转下年度继续办理" in lines and "4.无正当理由大量反复申请" in lines:
            if lines.index("四、结转下年度继续办理") < lines.index("4.无正当理由大量反复申请"):
                cases.append((r, got))
    assert cases
    for r, got in cases:
        for c in _application(r):
            if c["row"] in ("carried_forward", "not_processed_mass_repeat"):
                assert _exact(got.get((c["row"], c["col"])), c), (r.name, c)
