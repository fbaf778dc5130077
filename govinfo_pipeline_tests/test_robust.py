"""No report lost to a parser exception, report bodies held in JavaScript strings, and status honesty.

Expected cells come from the hand-read sample expectations and from the generator's oracle; the faults are
made by breaking one reader on purpose, so the tests fail if a crash in one table loses the report.
"""

from __future__ import annotations

import hashlib
import json
import math

import pandas as pd
import pytest

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import readers, sources, tables
from govinfo_pipeline.quality import rules
from govinfo_pipeline.synth import generator as synth
from govinfo_pipeline_tests.conftest import ROOT, SAMPLES, expected_reports
from govinfo_pipeline_tests.test_samples import expected_cells

YANGSHE = "003_cc3b440ac1b55c30.txt"  # 杨舍镇: every table filled in


def _parse(folder):
    raw = sources.read_files(sources.discover(folder), manifest=sources.read_manifest(folder))
    out = parse_batch.normalize(raw, workers=1)
    return out, rules.check(out)


def _cells_of(out: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    rid = out["reports"].set_index("source_path").at[name, "report_id"]
    return out["cells"][out["cells"]["report_id"] == rid].set_index(["section", "row", "col"])


def _equal(cells: pd.DataFrame, key: tuple[str, str, str], want: tuple[float | None, str | None, str]) -> bool:
    value, unit, status = want
    got = cells.loc[key]
    if got["cell_status"] != status:
        return False
    return (value is None and pd.isna(got["value"])) or (value is not None and math.isclose(got["value"], value))


def test_a_table_reader_that_breaks_loses_that_table_only(sample_dir, monkeypatch):
    for f in sample_dir.iterdir():
        if f.name != YANGSHE:
            f.unlink()

    def broken(*_args, **_kwargs):
        raise ValueError("invalid literal for int() with base 10: '\\\\\"5\\\\\"'")

    monkeypatch.setattr(tables, "_review_row", broken)
    out, facts = _parse(sample_dir)
    assert out["rejections"].empty and len(out["reports"]) == 1
    report = out["reports"].iloc[0]
    assert report["parse_status"] == "partial" and report["agency_name"] == "杨舍镇"
    assert "review_litigation: the table could not be read (ValueError" in report["parse_notes"]
    cells = _cells_of(out, YANGSHE)
    want = expected_cells(expected_reports()[YANGSHE])
    review = [k for k in want if k[0] == "review_litigation"]
    assert review and all(cells.loc[k, "cell_status"] == "absent" for k in review)  # unread, not zero
    others = [k for k in want if k[0] != "review_litigation"]
    assert all(_equal(cells, k, want[k]) for k in others)  # the other tables as read by hand
    k2 = facts["results"][(facts["results"]["rule_id"] == "K2") & (facts["results"]["subject"] == "review_litigation")]
    assert k2["passed"].tolist() == [False]
    assert facts["status"]["quality_status"].tolist() != ["passed"]


def test_a_reader_that_breaks_on_a_text_file_keeps_the_report(sample_dir, monkeypatch):
    def broken(_text):
        raise RuntimeError("reader bug")

    monkeypatch.setattr(readers, "read_text", broken)
    out, _ = _parse(sample_dir)
    assert out["rejections"].empty and len(out["reports"]) == 5  # none lost
    reports = out["reports"].set_index("source_path")
    assert all("the text reader failed (RuntimeError: reader bug)" in n for n in reports["parse_notes"])
    assert "parsed" not in set(reports["parse_status"])
    # The Word dumps are read as plain text just as well: 杨舍镇's cells are still those read by hand.
    cells = _cells_of(out, YANGSHE)
    want = expected_cells(expected_reports()[YANGSHE])
    assert all(_equal(cells, k, v) for k, v in want.items())


def test_a_report_whose_tables_were_not_read_never_passes(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    pre = ROOT / "govinfo_pipeline_tests" / "corpus" / "unknown" / "tongchuan_zfb_2017_pre2019.docx"
    (folder / pre.name).write_bytes(pre.read_bytes())
    (folder / YANGSHE).write_bytes((SAMPLES / YANGSHE).read_bytes())
    out, facts = _parse(folder)
    status = dict(zip(out["reports"]["source_path"], facts["status"]["quality_status"], strict=True))
    parse = dict(zip(out["reports"]["source_path"], out["reports"]["parse_status"], strict=True))
    assert parse[pre.name] == "failed" and status[pre.name] != "passed"
    k0 = facts["results"][facts["results"]["rule_id"] == "K0"].set_index("report_id")
    ids = dict(zip(out["reports"]["source_path"], out["reports"]["report_id"], strict=True))
    assert k0.at[ids[pre.name], "passed"] == False  # noqa: E712 (a pandas boolean)
    assert k0.at[ids[YANGSHE], "passed"] == True  # noqa: E712


def _as_script_string(page: str) -> str:
    """The page's body moved into a single-quoted JavaScript string, its quotes and ``</`` escaped."""
    head, _, rest = page.partition("<body>")
    body, _, tail = rest.partition("</body>")
    escaped = body.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"').replace("\n", "\\n")
    literal = "'" + escaped.replace("</", "<\\/") + "'"  # '…<td rowspan=\"5\">…<\/td>…', as sites write it
    return f"{head}<body><div id='c'></div><script>var html = {literal};document.write(html);</script></body>{tail}"


def _escaped_inline(page: str) -> str:
    """The JavaScript string's body saved as the page: markup whose attribute quotes are still escaped."""
    return page.replace('="', '=\\"').replace('" ', '\\" ').replace('">', '\\">')


@pytest.mark.parametrize("damage", [_as_script_string, _escaped_inline])
def test_a_report_inside_a_javascript_string_reads_as_the_original(tmp_path, damage):
    folder = tmp_path / "raw"
    synth.write_corpus(folder, 4, seed=7, formats=("html",))
    oracle = json.loads((folder / synth.ORACLE_NAME).read_text(encoding="utf-8"))
    (folder / synth.ORACLE_NAME).unlink()
    for name, entry in oracle["files"].items():
        path = folder / name
        page = damage(path.read_text(encoding="utf-8"))
        assert 'rowspan=\\"' in page or 'colspan=\\"' in page  # the escaped quotes are there to be undone
        path.write_text(page, encoding="utf-8")
        entry["report_id"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    out, facts = _parse(folder)
    assert out["rejections"].empty and len(out["reports"]) == 4
    got = synth.compare(oracle, out["cells"], facts["results"])
    assert got["cells_correct"] == got["cells_expected"], got


def _yangshe_with_head(head: str) -> str:
    """杨舍镇's report with its two title lines replaced by ``head``."""
    text = (SAMPLES / YANGSHE).read_text(encoding="utf-8")
    return text.replace("杨舍镇2020年度政府信息公开工作\n年度报告\n", head, 1)


@pytest.mark.parametrize(
    "head",
    [
        "标题：杨舍镇2020年度政府信息公开工作年度报告\n",  # a crawler's label before the title
        "正文\n【字体：大 中 小】\n发布时间：2021-01-20\n杨舍镇2020年度政府信息公开工作年度报告\n",  # page furniture
    ],
    ids=["crawler_label", "page_furniture"],
)
def test_the_agency_comes_from_the_title_without_labels_or_furniture(head):
    from govinfo_pipeline.parse.report import parse_report

    parsed = parse_report(_yangshe_with_head(head))
    assert (parsed.agency_name, parsed.report_year, parsed.template_version) == ("杨舍镇", 2020, "2019")


def test_the_agency_is_never_the_body_of_a_contact_sentence():
    from govinfo_pipeline.parse.report import parse_report

    text = _yangshe_with_head(
        "2020年度政府信息公开工作年度报告\n\n"
        "对本报告如有疑问，可在工作日与杨舍镇党政办公室以来电方式联系。2020年，杨舍镇坚持依法公开。\n"
    )
    assert parse_report(text).agency_name == "杨舍镇"


def test_a_row_label_that_lost_characters_keeps_its_row(sample_dir):
    path = sample_dir / YANGSHE
    text = path.read_text(encoding="utf-8")
    assert "\t2.其他法律行政法规禁止公开\n" in text
    path.write_text(text.replace("\t2.其他法律行政法规禁止公开\n", "\t2.其他法律行政止公开\n"), encoding="utf-8")
    for f in sample_dir.iterdir():
        if f.name != YANGSHE:
            f.unlink()
    out, _ = _parse(sample_dir)
    cells = _cells_of(out, YANGSHE)
    want = expected_cells(expected_reports()[YANGSHE])
    row = [k for k in want if k[1] == "denied_prohibited_by_law"]
    assert len(row) == 7 and all(_equal(cells, k, want[k]) for k in row)
    assert out["reports"]["parse_status"].tolist() == ["parsed"]
