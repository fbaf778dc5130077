"""Hostile and broken input: every file ends as a report or a rejection with a clear reason.

One Dagster run ingests the five samples together with every kind of bad file below; the matrix
then checks what became of each file, and that the samples were not affected.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from govinfo_pipeline.launch import run_pipeline
from govinfo_pipeline_tests.conftest import SAMPLES
from govinfo_pipeline_tests.test_pipeline import read

pytestmark = pytest.mark.slow
YANG = (SAMPLES / "003_cc3b440ac1b55c30.txt").read_text(encoding="utf-8")


def variant(text: str, tag: str) -> str:
    """The same report with one more sentence in its preamble, so that its bytes differ."""
    return text.replace("一、总体情况", f"（{tag}）\n一、总体情况", 1)


def encrypted_pdf(source: Path) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_matrix(folder: Path, outside: Path) -> dict[str, tuple[str, str]]:
    """Write the bad files; return file -> (kind, expected outcome)."""
    cases: dict[str, tuple[str, str]] = {}

    def put(name: str, data: bytes, kind: str, outcome: str) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        cases[name] = (kind, outcome)

    put("empty.txt", b"", "empty file", "rejected:empty")
    put("blank lines.txt", b"\n \n\t\n", "whitespace only", "rejected:empty")
    put("junk.bin", random.Random(7).randbytes(20_000), "binary junk", "rejected:undecodable")
    put("nul.txt", b"\x00\x01\x02" * 4000, "control bytes", "rejected:undecodable")
    put("notes.txt", "会议纪要：明天下午三点开会。\n".encode(), "text, not a report", "rejected:not_a_report")
    lines = variant(YANG, "截断").split("\n")
    put("truncated mid-table.txt", "\n".join(lines[:200]).encode(), "cut off mid-table", "report:partial")
    put(
        "truncated mid-char.txt",
        variant(YANG, "截断字符").encode()[:-2] + "报".encode()[:2],
        "cut inside a UTF-8 character",
        "report:parsed",
    )
    put("gb18030.txt", variant(YANG, "GB18030").encode("gb18030"), "GB18030", "report:parsed")
    put("utf16.txt", variant(YANG, "UTF-16").encode("utf-16"), "UTF-16 with BOM", "report:parsed")
    put("bom.txt", variant(YANG, "BOM").encode("utf-8-sig"), "UTF-8 with BOM", "report:parsed")
    head, _, tail = variant(YANG, "混合编码").partition("二、主动公开政府信息情况")
    put(
        "mixed.txt",
        head.encode("utf-8") + ("二、主动公开政府信息情况" + tail).encode("gb18030"),
        "UTF-8 and GB18030 mixed",
        "report:parsed",
    )
    put(
        "huge.txt",
        variant(YANG, "大文件").encode() + b"\n" + b"x" * 400_000,
        "over the size limit",
        "rejected:too_large",
    )
    put("报告 2020 (副本).txt", variant(YANG, "中文 名").encode(), "spaces and Chinese in the name", "report:parsed")
    put("a..b.txt", variant(YANG, "点点").encode(), "'..' in the name", "report:parsed")
    put("x'; DROP TABLE reports; --.txt", variant(YANG, "SQL").encode(), "SQL in the name", "report:parsed")
    put("sub/dir/deep.txt", variant(YANG, "子目录").encode(), "in a subfolder", "report:parsed")
    put("copy of 杨舍镇.txt", YANG.encode(), "same bytes as a sample", "rejected:duplicate_content")
    put(
        "pre-2019.txt",
        "某某县2015年政府信息公开工作年度报告\n\n一、概述\n本年度政府信息公开工作正常开展。\n"
        "二、主动公开政府信息情况\n全年主动公开信息120条。\n".encode(),
        "no national tables",
        "report:failed",
    )
    put(
        "page.html",
        (
            "<html><head><script>var x='<table>';</script></head><body>" + variant(YANG, "网页") + "</body></html>"
        ).encode(),
        "HTML with a script",
        "report:parsed",
    )
    corpus = Path(__file__).parent / "corpus"
    word = (corpus / "2019" / "tongchuan_zrzy_2020_word.docx").read_bytes()
    put("word report.docx", word, "a Word report", "report:parsed")
    put(
        "renamed.pdf",
        (corpus / "2021" / "qinglan_scj_2022_word.docx").read_bytes(),
        "a Word file named .pdf (told by content)",
        "report:parsed",
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * 3_000_000 + b"</w:document>")
    put("bomb.docx", bomb.getvalue(), "a DOCX zip bomb (inflates past the limit)", "rejected:too_large")
    put("broken.docx", word[:2000], "a truncated DOCX", "rejected:malformed")
    put("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000, "a legacy .doc", "rejected:unsupported_format")
    put(
        "broken.pdf",
        b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n" + b"junk" * 100,
        "a malformed PDF",
        "rejected:malformed",
    )
    put(
        "locked.pdf",
        encrypted_pdf(corpus / "2019" / "tongchuan_zrzy_2020_print.pdf"),
        "an encrypted PDF",
        "rejected:encrypted",
    )
    (folder / "manifest.csv").write_text(
        "path,agency,region,year,source_url\n"
        "bom.txt,清单里的单位,某市某区,2020,http://gov.example/bom.html\n"
        "../outside/secret.txt,越界,,2020,http://evil.example/\n"
        "/etc/passwd,越界,,2020,http://evil.example/\n",
        encoding="utf-8",
    )
    (outside / "secret.txt").write_text(variant(YANG, "外部"), encoding="utf-8")
    os.symlink(outside / "secret.txt", folder / "link outside.txt")
    cases["link outside.txt"] = ("symlink leaving the folder", "rejected:outside_input")
    os.symlink(folder / "003_cc3b440ac1b55c30.txt", folder / "link inside.txt")
    cases["link inside.txt"] = ("symlink to a sample inside the folder", "rejected:duplicate_content")
    os.symlink(folder / "loop b.txt", folder / "loop a.txt")
    os.symlink(folder / "loop a.txt", folder / "loop b.txt")
    cases["loop a.txt"] = ("symlinks pointing at each other", "rejected:unreadable")
    cases["loop b.txt"] = ("symlinks pointing at each other", "rejected:unreadable")
    return cases


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    folder, outside = base / "raw", base / "outside"
    folder.mkdir()
    outside.mkdir()
    for f in SAMPLES.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    cases = build_matrix(folder, outside)
    url = f"duckdb:///{base / 'wh.duckdb'}"
    home = base / "dagster_home"
    old = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "GOVINFO_MAX_FILE_BYTES", "GOVINFO_MAX_UNZIPPED_BYTES")}
    os.environ.update(DAGSTER_HOME=str(home), GOVINFO_MAX_FILE_BYTES="300000", GOVINFO_MAX_UNZIPPED_BYTES="2000000")
    try:
        result = run_pipeline(str(folder), url)  # the years found: 2015 and 2020, in one run
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert result.success
    return cases, url, result


def outcome_of(url: str, name: str) -> str:
    rep = read(url, "SELECT parse_status FROM reports WHERE source_path = :p", p=name)
    rej = read(url, "SELECT reason FROM rejections WHERE source_path = :p", p=name)
    assert len(rep) + len(rej) == 1, name
    return f"report:{rep['parse_status'][0]}" if len(rep) else f"rejected:{rej['reason'][0]}"


@pytest.mark.parametrize(
    "name",
    [
        "empty.txt",
        "blank lines.txt",
        "junk.bin",
        "nul.txt",
        "notes.txt",
        "truncated mid-table.txt",
        "truncated mid-char.txt",
        "gb18030.txt",
        "utf16.txt",
        "bom.txt",
        "mixed.txt",
        "huge.txt",
        "报告 2020 (副本).txt",
        "a..b.txt",
        "x'; DROP TABLE reports; --.txt",
        "sub/dir/deep.txt",
        "copy of 杨舍镇.txt",
        "pre-2019.txt",
        "page.html",
        "link outside.txt",
        "link inside.txt",
        "word report.docx",
        "renamed.pdf",
        "bomb.docx",
        "broken.docx",
        "old.doc",
        "broken.pdf",
        "locked.pdf",
    ],
)
def test_each_bad_file_ends_as_expected(matrix, name):
    cases, url, _ = matrix
    kind, expected = cases[name]
    assert outcome_of(url, name) == expected, kind


def test_rejections_say_why(matrix):
    _, url, _ = matrix
    rej = read(url, "SELECT * FROM rejections")
    assert rej["detail"].notna().all() and (rej["detail"].str.len() > 10).all()
    dup = rej.set_index("source_path").loc["copy of 杨舍镇.txt"]
    original = read(url, "SELECT report_id FROM reports WHERE source_path = '003_cc3b440ac1b55c30.txt'")
    assert dup["duplicate_of"] == original["report_id"][0]


def test_the_samples_are_unaffected(matrix):
    _, url, _ = matrix
    cells = read(
        url,
        "SELECT r.source_path, COUNT(*) AS n FROM report_cells c JOIN reports r "
        "ON r.report_id = c.report_id GROUP BY r.source_path",
    )
    n = dict(zip(cells["source_path"], cells["n"], strict=True))
    for f in SAMPLES.glob("*.txt"):
        assert n[f.name] == 198


def test_other_encodings_give_the_same_cells(matrix):
    _, url, _ = matrix
    cells = read(
        url,
        "SELECT r.source_path, c.section, c.row, c.col, c.value, c.cell_status, c.raw_text "
        "FROM report_cells c JOIN reports r ON r.report_id = c.report_id",
    )
    base = cells[cells["source_path"] == "003_cc3b440ac1b55c30.txt"].drop(columns="source_path")
    base = base.sort_values(["section", "row", "col"]).reset_index(drop=True)
    for name in ("gb18030.txt", "utf16.txt", "bom.txt", "mixed.txt", "truncated mid-char.txt"):
        other = cells[cells["source_path"] == name].drop(columns="source_path")
        pd.testing.assert_frame_equal(other.sort_values(["section", "row", "col"]).reset_index(drop=True), base)
    enc = read(url, "SELECT source_path, encoding FROM reports").set_index("source_path")["encoding"]
    assert enc["gb18030.txt"] == "gb18030" and enc["utf16.txt"] == "utf-16" and enc["bom.txt"] == "utf-8-sig"
    assert enc["mixed.txt"] == "mixed:utf-8+gb18030"


def test_truncated_report_keeps_what_it_has(matrix):
    _, url, _ = matrix
    cells = read(
        url,
        "SELECT c.section, c.cell_status FROM report_cells c JOIN reports r "
        "ON r.report_id = c.report_id WHERE r.source_path = 'truncated mid-table.txt'",
    )
    assert len(cells) == 198
    review = cells[cells["section"] == "review_litigation"]
    assert set(review["cell_status"]) == {"absent"}
    k2 = read(
        url,
        "SELECT q.subject FROM quality_results q JOIN reports r ON r.report_id = q.report_id "
        "WHERE r.source_path = 'truncated mid-table.txt' AND q.rule_id = 'K2' AND q.passed = FALSE",
    )
    assert set(k2["subject"]) == {"application", "review_litigation"}


def test_pre_2019_report_keeps_its_prose(matrix):
    _, url, _ = matrix
    rep = read(url, "SELECT * FROM reports WHERE source_path = 'pre-2019.txt'").iloc[0]
    assert rep["template_version"] == "unknown" and rep["report_year"] == 2015
    secs = read(url, f"SELECT section_no, body_text FROM report_sections WHERE report_id = '{rep['report_id']}'")
    assert list(secs["section_no"]) == [1, 2] and "120条" in secs["body_text"][1]
    assert read(url, f"SELECT COUNT(*) AS n FROM report_cells WHERE report_id = '{rep['report_id']}'")["n"][0] == 0


def test_accounting_balances(matrix):
    cases, url, result = matrix
    ledger = read(url, f"SELECT * FROM run_accounting WHERE run_id = '{result.run_id}'").iloc[0]
    assert ledger["files_seen"] == len(cases) + 5
    assert ledger["balanced"]
    assert ledger["reports_loaded"] + ledger["rejections"] == ledger["files_seen"]


def test_manifest_overrides_and_stays_inside_the_folder(matrix):
    _, url, _ = matrix
    rep = read(url, "SELECT agency_name, region, source_url FROM reports WHERE source_path = 'bom.txt'").iloc[0]
    assert (rep["agency_name"], rep["region"], rep["source_url"]) == (
        "清单里的单位",
        "某市某区",
        "http://gov.example/bom.html",
    )
    assert read(url, "SELECT COUNT(*) AS n FROM reports WHERE agency_name = '越界'")["n"][0] == 0
    assert read(url, "SELECT COUNT(*) AS n FROM reports WHERE source_url LIKE '%evil%'")["n"][0] == 0


def test_formats_are_told_by_content(matrix):
    _, url, _ = matrix
    fmt = read(url, "SELECT source_path, source_format FROM reports").set_index("source_path")["source_format"]
    assert fmt["renamed.pdf"] == "docx" and fmt["word report.docx"] == "docx" and fmt["page.html"] == "html"
    assert fmt["bom.txt"] == "text"


def test_sql_in_a_file_name_is_only_data(matrix):
    _, url, _ = matrix
    name = "x'; DROP TABLE reports; --.txt"
    rep = read(url, "SELECT report_id, agency_name FROM reports WHERE source_path = :p", p=name)
    assert list(rep["agency_name"]) == ["杨舍镇"]  # loaded like any other file
    cells = read(url, "SELECT COUNT(*) AS n FROM report_cells WHERE report_id = :r", r=rep["report_id"][0])
    assert cells["n"][0] == 198
