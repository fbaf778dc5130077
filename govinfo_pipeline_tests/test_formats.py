"""The format corpus: PDF, DOCX, HTML, Markdown and text fixtures under both templates, each checked
against cells written by hand from the document (``corpus/**/*.expected.yaml``)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import sqlalchemy as sa

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import sources
from govinfo_pipeline_tests import corpus_accuracy as acc

FILES = acc.expected_files()
TEXT_LIMIT = ()  # see README, limits


@pytest.fixture(scope="module")
def accuracy():
    return acc.evaluate()


@pytest.fixture(scope="module")
def parsed():
    out = {}
    for folder in sorted({p.parent for p, _ in FILES}):
        n = parse_batch.normalize(sources.read_files(sources.discover(folder), manifest=sources.read_manifest(folder)))
        reps = n["reports"].set_index("source_path")
        for path in reps.index:
            rid = reps.at[path, "report_id"]
            out[path] = (reps.loc[path], n["cells"][n["cells"]["report_id"] == rid])
    return out


def test_well_formed_documents_are_read_exactly(accuracy):
    stats, _ = accuracy
    for (fmt, kind), s in stats.items():
        if kind == "well-formed" and fmt != "text":
            assert s["correct"] == s["expected"], (fmt, s)


def test_no_cell_is_ever_silently_wrong(accuracy):
    stats, misses = accuracy
    assert misses == []
    assert all(s["wrong"] == 0 for s in stats.values())


@pytest.mark.parametrize("path,doc", FILES, ids=[p.name for p, _ in FILES])
def test_metadata_and_provenance(parsed, path, doc):
    if path.name.endswith(TEXT_LIMIT):
        report, _ = parsed[path.name]
        assert report["parse_status"] == "failed"  # flagged: layout and glued text are not read yet
        return
    report, cells = parsed[path.name]
    assert report["template_version"] == doc["template_version"]
    assert report["report_year"] == doc["report_year"]
    assert report["agency_name"] == doc["agency_name"]
    assert report["source_format"] == acc.FORMAT_OF[path.suffix]
    assert report["parse_status"] == doc["parse_status"]
    by_code = cells.set_index(cells["section"] + "." + cells["row"] + "." + cells["col"])
    for code, where in (doc.get("provenance") or {}).items():
        cell = by_code.loc[code].map(lambda v: None if pd.isna(v) else v)
        if cell["cell_status"] in ("text", "absent"):
            continue  # a cell the parser flagged has no single position
        if "page" in where:
            assert cell["source_page"] == where["page"], code
        if "table" in where:
            assert (cell["source_table"], cell["source_row"], cell["source_col"]) == (
                where["table"],
                where["row"],
                where["col"],
            ), code
        if "line" in where:
            assert cell["source_line"] == where["line"], code


def test_manifest_fills_what_the_page_does_not_say(parsed):
    report, _ = parsed["qinglan_scj_2022_site.html"]
    assert report["agency_name"] == "青岚市市场监督管理局"  # the page itself says 青岚市市场监管局
    assert report["region"] == "青岚市"
    assert report["source_url"].startswith("http://www.qinglan.example/")


@pytest.mark.slow
def test_one_run_over_a_folder_of_every_format_and_both_templates(tmp_path, dagster_home):
    """`govinfo run` on the corpus and the samples together: every fixture loads with its template, status,
    metadata and every hand-read cell, and the ledger balances."""
    from govinfo_pipeline.launch import run_pipeline

    root = tmp_path / "raw"
    manifest = ["path,agency,region,year,source_url"]
    for path, _ in FILES:
        target = root / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    for line in (acc.CORPUS / "2021" / "manifest.csv").read_text(encoding="utf-8").splitlines()[1:]:
        manifest.append("2021/" + line)
    (root / "manifest.csv").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    for sample in sorted((acc.CORPUS.parents[1] / "data" / "raw").glob("*.txt")):
        (root / "samples").mkdir(exist_ok=True)
        (root / "samples" / sample.name).write_bytes(sample.read_bytes())
    url = f"duckdb:///{tmp_path / 'mixed.duckdb'}"
    assert run_pipeline(str(root), url).success
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        reports = pd.read_sql(sa.text("SELECT * FROM reports"), conn).set_index("source_path")
        cells = pd.read_sql(sa.text("SELECT * FROM report_cells"), conn)
        ledger = pd.read_sql(sa.text("SELECT * FROM run_accounting"), conn)
    engine.dispose()
    assert len(reports) == len(FILES) + 5
    assert bool(ledger["balanced"].iloc[-1]) and int(ledger["rejections"].iloc[-1]) == 0
    for path, doc in FILES:
        report = reports.loc[f"{path.parent.name}/{path.name}"]
        assert (
            report["template_version"],
            report["parse_status"],
            report["report_year"],
            report["agency_name"],
            report["source_format"],
        ) == (
            doc["template_version"],
            doc["parse_status"],
            doc["report_year"],
            doc["agency_name"],
            acc.FORMAT_OF[path.suffix],
        ), path.name
        mine = cells[cells["report_id"] == report["report_id"]].set_index(["section", "row", "col"])
        want = acc.expected_cells(doc)
        assert len(mine) == len(want), path.name
        for key, (value, unit, status) in want.items():
            got = mine.loc[key]
            if acc.damaged(doc) and got["cell_status"] in ("text", "absent") and status != got["cell_status"]:
                continue  # flagged, as the accuracy script counts it: never silently wrong
            assert got["cell_status"] == status, (path.name, key)
            if value is not None:
                assert (got["value"], got["unit"] if isinstance(got["unit"], str) else None) == (value, unit), key


@pytest.mark.parametrize("path,doc", FILES, ids=[p.name for p, _ in FILES])
def test_prose_figures_are_found_in_every_format(path, doc):
    """The application figures the prose quotes (X6), as read by hand: figure, value and the line where the
    phrase starts, also where it wraps onto the next line. Proactive figures (行政许可决定 N 件) are not read."""
    from govinfo_pipeline.parse import prose, readers
    from govinfo_pipeline.parse.report import parse_layout

    raw = sources.read_files([sources.SourceFile(path, path.name)])
    r = raw.iloc[0]
    claims = parse_layout(readers.read_any(r["text"], r["blob"], r["source_format"]), r["text"]).claims
    got = {(c["figure"], c["value"], c["source_line"]) for c in claims}
    single = {cells[0]: name for name, cells in prose.FIGURES.items() if len(cells) == 1}
    for hand in doc.get("prose_numbers") or []:
        section, row, col = hand["cell"].split(".")
        figure = single.get((section, row, col))
        if figure is None:
            continue
        line = hand.get("line") if acc.FORMAT_OF[path.suffix] in ("text", "markdown") else None
        assert any(f == figure and v == hand["prose"] and (line is None or s == line) for f, v, s in got), hand


PDFS = [(p, d) for p, d in FILES if p.suffix == ".pdf"]


@pytest.mark.parametrize("path,doc", PDFS, ids=[p.name for p, _ in PDFS])
def test_a_pdf_cell_box_holds_the_number_read_by_hand(parsed, path, doc):
    """Each number the hand-read file gives is printed inside the box stored with its cell (the page cut at the
    box and read on its own), so a reviewer shown that crop sees the number."""
    import pdfplumber

    _, cells = parsed[path.name]
    by_code = cells.set_index(["section", "row", "col"])
    checked = 0
    with pdfplumber.open(path) as pdf:
        for code, (value, _, status) in acc.expected_cells(doc).items():
            if status != "number" or code not in by_code.index:
                continue
            cell = by_code.loc[code]
            box = (cell["box_x0"], cell["box_top"], cell["box_x1"], cell["box_bottom"])
            assert not any(pd.isna(v) for v in box), code
            assert box[0] < box[2] and box[1] < box[3], code
            page = pdf.pages[int(cell["source_page"]) - 1]
            inside = [
                ch["text"]
                for ch in page.chars
                if box[0] <= (ch["x0"] + ch["x1"]) / 2 <= box[2] and box[1] <= (ch["top"] + ch["bottom"]) / 2 <= box[3]
            ]
            crop = "".join("".join(inside).split())
            digits = re.findall(r"\d+(?:\.\d+)?", crop.replace(",", ""))  # "+3", "4（减）": the sign aside
            assert [float(d) for d in digits] == [abs(value)], (code, crop, value)
            checked += 1
    assert checked >= 100  # the PDFs carry all three tables
