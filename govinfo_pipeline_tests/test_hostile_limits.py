"""Hostile files are bounded: each ends as a report or a rejection naming the limit it hit, in bounded time,
and the other files of the same run still load, on DuckDB and on PostgreSQL.

Every file is generated here (no committed blobs): external entities and billion laughs in Word and HTML, zip
bombs by size and by ratio, a page nested 100,000 deep, a 20 MB line, a PDF of 3,000 pages, NUL bytes and lone
surrogates in text, HTML and a file name.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from govinfo_pipeline.launch import run_pipeline
from govinfo_pipeline.parse import batch, limits, sources
from govinfo_pipeline_tests.conftest import SAMPLES
from govinfo_pipeline_tests.test_pipeline import read

CORPUS = Path(__file__).parent / "corpus"
YANG = (SAMPLES / "003_cc3b440ac1b55c30.txt").read_text(encoding="utf-8")
YANG_TITLE = "杨舍镇2020年度政府信息公开工作年度报告"
WORD = (CORPUS / "2019" / "tongchuan_zrzy_2020_word.docx").read_bytes()
PASSWD = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
LAUGHS = (
    '<!DOCTYPE x [<!ENTITY a "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY {chr(98 + k)} "{("&" + chr(97 + k) + ";") * 10}">' for k in range(9))
    + "]>"
)
GBK_NAME = "报告".encode("gbk") + b".txt"  # a file name in bytes that are not UTF-8


def variant(text: str, tag: str) -> str:
    """The same report with one more sentence in its preamble, so that its bytes differ."""
    return text.replace("一、总体情况", f"（{tag}）\n一、总体情况", 1)


def word_with(document_xml: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """The corpus Word report, its document.xml replaced by what ``document_xml`` makes of it."""
    src = zipfile.ZipFile(io.BytesIO(WORD))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml" and document_xml is not None:
                data = document_xml
            z.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def with_dtd(dtd: str, reference: str) -> bytes:
    """document.xml with ``dtd`` after its XML declaration and ``reference`` in its first run of text."""
    xml = zipfile.ZipFile(io.BytesIO(WORD)).read("word/document.xml").decode("utf-8")
    decl = xml.index("?>") + 2
    xml = xml[:decl] + dtd + xml[decl:]
    at = xml.index(">", xml.index("<w:t")) + 1
    return (xml[:at] + reference + xml[at:]).encode("utf-8")


def many_page_pdf(pages: int) -> bytes:
    """A valid PDF of ``pages`` empty A4 pages, written object by object."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def build(folder: Path) -> dict[str, str]:
    """Write the hostile files; return file name -> expected outcome."""
    cases: dict[str, str] = {}

    def put(name: str | bytes, data: bytes, outcome: str) -> None:
        name = os.fsdecode(name)  # bytes that are not UTF-8 become lone surrogates, as os.walk gives them
        (folder / name).write_bytes(data)
        cases[name] = outcome

    xxe = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    put("xxe.docx", word_with(with_dtd(xxe, "&e;")), "rejected:xml_entities")
    put("laughs.docx", word_with(with_dtd(LAUGHS, "&j;")), "rejected:xml_entities")
    put(
        "laughs.html",
        (
            LAUGHS.replace("DOCTYPE x", "DOCTYPE html") + "<html><body><pre>" + variant(YANG, "网页笑") + "</pre>"
            "<p>&j;</p></body></html>"
        ).encode(),
        "report:parsed",
    )
    put("ratio bomb.docx", word_with(extra={"word/media/blank.xml": b" " * 2_000_000}), "rejected:too_compressed")
    put("size bomb.docx", word_with(extra={"word/media/noise.bin": os.urandom(3_500_000)}), "rejected:too_large")
    deep = "<div>" * 100_000 + variant(YANG, "深").replace("\n", "<br>") + "</div>" * 100_000
    put("deep.html", f"<html><body>{deep}</body></html>".encode(), "rejected:too_deep")
    put("long line.txt", (YANG.replace("\n", " ") + "x" * 20_000_000).encode(), "rejected:line_too_long")
    put("3000 pages.pdf", many_page_pdf(3000), "rejected:too_many_pages")
    pdf = (CORPUS / "2019" / "tongchuan_zrzy_2020_print.pdf").read_bytes()
    put("truncated.pdf", pdf[: len(pdf) // 2], "rejected:malformed")
    put(
        "nul.txt",
        variant(YANG, "空字符").replace("一、总体情况", "一、总体\x00情况", 1).replace("。", "。\x00", 3).encode(),
        "report:parsed",
    )
    body = variant(YANG, "网页空字符").replace("。", "。\x00", 3)
    put("nul.html", f"<html><body><pre>{body}</pre></body></html>".encode(), "report:parsed")
    surrogate = b"\xed\xa0\x80"  # U+D800 written as UTF-8: a lone surrogate
    put(
        "surrogate.txt",
        variant(YANG, "代理").encode().replace("一、总体情况".encode(), surrogate + "一、总体情况".encode(), 1),
        "report:parsed",
    )
    utf16 = variant(YANG, "UTF-16代理").encode("utf-16-le")
    put("surrogate utf16.txt", b"\xff\xfe" + utf16[:40] + b"\x00\xd8" + utf16[40:], "report:parsed")
    put(
        "surrogate.html",
        ("<html><body><p>&#xD800;</p><pre>" + variant(YANG, "网页代理") + "</pre></body></html>").encode(),
        "report:parsed",
    )
    put(GBK_NAME, variant(YANG, "GBK名").encode(), "report:parsed")
    return cases


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def hostile(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"limits_{request.param}")
    folder = base / "raw"
    folder.mkdir()
    for f in SAMPLES.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    cases = build(folder)
    if request.param == "duckdb":
        url, drop = f"duckdb:///{base / 'wh.duckdb'}", None
    else:
        url, drop = _pg_database()
    env = {"DAGSTER_HOME": str(base / "dagster_home"), "GOVINFO_MAX_UNZIPPED_BYTES": "3000000"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        started = time.monotonic()
        result = run_pipeline(str(folder), url)
        seconds = time.monotonic() - started
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    try:
        yield cases, url, result, seconds
    finally:
        if drop:
            drop()


def _pg_database():
    import uuid

    from govinfo_pipeline_tests.conftest import PG_ADMIN_URL

    name = f"govinfo_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop


def outcome_of(url: str, name: str) -> str:
    rep = read(url, "SELECT parse_status FROM reports WHERE source_path = :p", p=name)
    rej = read(url, "SELECT reason FROM rejections WHERE source_path = :p", p=name)
    assert len(rep) + len(rej) == 1, name
    return f"report:{rep['parse_status'][0]}" if len(rep) else f"rejected:{rej['reason'][0]}"


def stored_name(name: str) -> str:
    """A name whose bytes are not UTF-8 is stored with those bytes written as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def every_text(url: str) -> dict[str, pd.Series]:
    """Every text column of every table of the warehouse: table.column -> its values."""
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        out = {}
        with engine.connect() as conn:
            for table in insp.get_table_names():
                for col in insp.get_columns(table):
                    if isinstance(col["type"], sa.String | sa.Text):
                        q = engine.dialect.identifier_preparer.quote
                        values = pd.read_sql(sa.text(f"SELECT {q(col['name'])} AS v FROM {q(table)}"), conn)["v"]
                        out[f"{table}.{col['name']}"] = values.dropna().astype(str)
        return out
    finally:
        engine.dispose()


pytestmark = pytest.mark.slow


def test_run_succeeds_and_balances(hostile):
    cases, url, result, seconds = hostile
    assert result.success
    ledger = read(url, f"SELECT * FROM run_accounting WHERE run_id = '{result.run_id}'").iloc[0]
    assert ledger["files_seen"] == len(cases) + 5 and ledger["balanced"]
    assert seconds < 300  # a 3,000-page PDF, a 20 MB line and a page 100,000 deep do not hold the run up


def test_each_hostile_file_ends_as_expected(hostile):
    cases, url, _, _ = hostile
    got = {name: outcome_of(url, stored_name(name)) for name in cases}
    assert got == cases


def test_rejections_name_the_limit(hostile):
    _, url, _, _ = hostile
    rej = read(url, "SELECT source_path, reason, detail FROM rejections").set_index("source_path")
    assert "GOVINFO_MAX_UNZIPPED_BYTES" in rej.loc["size bomb.docx", "detail"]
    assert "GOVINFO_MAX_ZIP_RATIO" in rej.loc["ratio bomb.docx", "detail"]
    assert "GOVINFO_MAX_HTML_DEPTH" in rej.loc["deep.html", "detail"]
    assert "GOVINFO_MAX_LINE_CHARS" in rej.loc["long line.txt", "detail"]
    assert "GOVINFO_MAX_PDF_PAGES" in rej.loc["3000 pages.pdf", "detail"]
    assert "DTD" in rej.loc["xxe.docx", "detail"] and "DTD" in rej.loc["laughs.docx", "detail"]


def test_nothing_of_an_external_entity_reaches_the_warehouse(hostile):
    _, url, _, _ = hostile
    lines = [line for line in PASSWD.splitlines() if len(line) > 8]
    assert lines
    for column, values in every_text(url).items():
        for line in lines:
            assert not values.str.contains(line, regex=False).any(), (column, line)
        assert not values.str.contains("lollollollollollollollollollollol", regex=False).any(), column  # no laugh
        for declared in ('ENTITY a "lol', 'SYSTEM "file:'):  # the declarations are not text either
            assert not values.str.contains(declared, regex=False).any(), column


def test_an_entity_declaration_is_not_read_as_text(hostile):
    _, url, _, _ = hostile
    title = read(url, "SELECT title FROM reports WHERE source_path = 'laughs.html'")["title"][0]
    assert title == YANG_TITLE


def test_no_nul_or_lone_surrogate_is_stored_and_nothing_is_lost(hostile):
    _, url, _, _ = hostile
    for column, values in every_text(url).items():
        assert not values.str.contains("\x00", regex=False).any(), column
        assert not values.map(limits.has_lone_surrogate).any(), column
    cells = read(
        url,
        "SELECT r.source_path, c.section, c.row, c.col, c.value, c.cell_status FROM report_cells c "
        "JOIN reports r ON r.report_id = c.report_id",
    )
    base = cells[cells["source_path"] == "003_cc3b440ac1b55c30.txt"].drop(columns="source_path")
    base = base.sort_values(["section", "row", "col"]).reset_index(drop=True)
    for name in (
        "nul.txt",
        "nul.html",
        "surrogate.txt",
        "surrogate utf16.txt",
        "surrogate.html",
        os.fsdecode(GBK_NAME),
    ):
        other = cells[cells["source_path"] == stored_name(name)].drop(columns="source_path")
        pd.testing.assert_frame_equal(other.sort_values(["section", "row", "col"]).reset_index(drop=True), base)
    sec = read(
        url,
        "SELECT s.heading FROM report_sections s JOIN reports r ON r.report_id = s.report_id "
        "WHERE r.source_path = 'nul.txt' AND s.section_no = 1",
    )
    assert sec["heading"][0] == "一、总体情况"  # the NUL inside the heading is gone, the heading found
    notes = read(url, "SELECT parse_notes FROM reports WHERE source_path = 'nul.txt'")["parse_notes"][0]
    assert "NUL" in notes


def test_the_samples_still_load(hostile):
    _, url, _, _ = hostile
    n = read(
        url,
        "SELECT r.source_path, COUNT(*) AS n FROM report_cells c JOIN reports r ON r.report_id = c.report_id "
        "GROUP BY r.source_path",
    ).set_index("source_path")["n"]
    for f in SAMPLES.glob("*.txt"):
        assert n[f.name] == 198


# ---- the checks alone: bounded time, and what each says ----


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("limits_files")
    build(folder)
    return folder


def read_one(path: Path) -> pd.DataFrame:
    return sources.read_files([sources.SourceFile(path, path.name)])


@pytest.mark.parametrize(
    "name,reason",
    [
        ("deep.html", "too_deep"),
        ("long line.txt", "line_too_long"),
        ("3000 pages.pdf", "too_many_pages"),
        ("laughs.docx", "xml_entities"),
        ("ratio bomb.docx", "too_compressed"),
    ],
)
def test_each_check_is_fast(files, name, reason):
    started = time.monotonic()
    raw = read_one(files / name)
    out = batch.normalize(raw, workers=1)
    assert time.monotonic() - started < 10
    assert list(out["rejections"]["reason"]) == [reason]


def test_html_depth_counts_as_a_parser_builds():
    assert limits.html_depth("<html><body><p>a<p>b<p>c</body></html>") == 3
    assert limits.html_depth("<table><tr><td>1<td>2<tr><td>3</table>") == 3
    assert limits.html_depth("<div><br><img src='a>b'><hr/></div>") == 1
    assert limits.html_depth("<div>" * 1000, stop_at=300) == 300


def test_a_limit_is_a_setting(monkeypatch, tmp_path):
    from govinfo_pipeline import settings

    monkeypatch.setenv("GOVINFO_MAX_PDF_PAGES", "2")
    assert limits.Limits.current().max_pdf_pages == 2
    (tmp_path / "three.pdf").write_bytes(many_page_pdf(3))
    assert read_one(tmp_path / "three.pdf")["reason"][0] == "too_many_pages"
    for name in ("MAX_ZIP_RATIO", "MAX_PDF_PAGES", "MAX_HTML_DEPTH", "MAX_LINE_CHARS"):
        monkeypatch.setenv(f"GOVINFO_{name}", "lots")
        with pytest.raises(settings.SettingsError, match=f"GOVINFO_{name}"):
            settings.current()
        monkeypatch.delenv(f"GOVINFO_{name}")


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_a_string_no_database_takes_is_made_storable_on_write(backend, tmp_path, request):
    """Text from a reader (a PDF's text layer can hold NUL) reaches the writer as it is: the write stores it."""
    from govinfo_pipeline.store import writes
    from govinfo_pipeline.store.sessions import open_warehouse

    url = f"duckdb:///{tmp_path / 'wh.duckdb'}" if backend == "duckdb" else request.getfixturevalue("pg_url")
    rej = pd.DataFrame(
        [
            {
                "source_path": "a.pdf",
                "source_sha256": "0" * 64,
                "reason": "parse_error",
                "detail": "ValueError: bad \x00 glyph \ud800 here",
                "duplicate_of": None,
            }
        ],
        columns=batch.REJECTION_COLUMNS,
    )
    with open_warehouse(url, write=True) as engine:
        writes.write(engine, {"reports": pd.DataFrame(columns=batch.REPORT_COLUMNS), "rejections": rej})
    assert read(url, "SELECT detail FROM rejections")["detail"].tolist() == ["ValueError: bad  glyph \ufffd here"]


def test_pages_are_counted_where_pdfium_cannot_open_the_file(monkeypatch):
    monkeypatch.setattr(limits, "_pdfium_pages", lambda data: None)
    bounds = limits.Limits(100, 100, 1000, 256, 1000)
    hit = limits.check_pdf(many_page_pdf(3000), bounds)
    assert hit is not None and hit[0] == "too_many_pages"


MEASURE = """
import resource, sys, time
from pathlib import Path
from govinfo_pipeline.parse import batch, sources
path = Path(sys.argv[1])
started = time.monotonic()
out = batch.normalize(sources.read_files([sources.SourceFile(path, path.name)]), workers=1)
outcome = "rejected:" + out["rejections"]["reason"][0] if len(out["rejections"]) else "report"
print(outcome, time.monotonic() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.parametrize(
    "name",
    ["laughs.docx", "laughs.html", "xxe.docx", "deep.html", "long line.txt", "3000 pages.pdf", "ratio bomb.docx"],
)
def test_each_file_is_read_in_bounded_time_and_memory(files, name):
    """Each file alone in a fresh process: its read takes seconds and its peak memory stays near the import's."""
    import subprocess
    import sys

    env = {**os.environ, "GOVINFO_MAX_UNZIPPED_BYTES": "3000000"}

    def measure(path: Path) -> tuple[str, float, int]:
        proc = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, timeout=120, env=env
        )
        assert proc.returncode == 0, proc.stderr
        outcome, seconds, peak_mb = proc.stdout.split()
        return outcome, float(seconds), int(peak_mb)

    _, _, baseline_mb = measure(SAMPLES / "003_cc3b440ac1b55c30.txt")  # a plain report, in the same environment
    outcome, seconds, peak_mb = measure(files / name)
    assert seconds < 10, (outcome, seconds)
    assert peak_mb < baseline_mb + 300, (outcome, peak_mb, baseline_mb)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_dtd_is_found_in_any_xml_part_of_a_word_file(encoding):
    """Whatever the part is called and however it is encoded, and however much padding comes first."""
    part = "<?xml version='1.0'?>" + " " * 200_000 + '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><a/>'
    data = word_with(extra={"word/custom/part.dat": part.encode(encoding)})
    bounds = limits.Limits(100_000_000, 1_000_000, 1000, 256, 1000)
    hit = limits.check_docx(data, bounds)
    assert hit is not None and hit[0] == "xml_entities" and "word/custom/part.dat" in hit[1]
    assert limits.check_docx(WORD, bounds) is None
    for report in CORPUS.rglob("*.docx"):  # no real Word file hits a limit
        assert limits.check_docx(report.read_bytes(), limits.Limits.current()) is None, report.name


def test_no_real_report_hits_a_limit():
    """The hand-read corpus and the samples, in every format, pass every check at the defaults."""
    found = sorted(p for p in [*CORPUS.rglob("*"), *SAMPLES.glob("*.txt")] if p.is_file() and p.suffix != ".yaml")
    raw = sources.read_files([sources.SourceFile(p, p.name) for p in found])
    hit = raw[raw["reason"].isin(["too_compressed", "xml_entities", "too_many_pages", "too_deep", "line_too_long"])]
    assert hit.empty, hit[["source_path", "reason", "detail"]].to_dict("records")
    assert len(found) > 20
