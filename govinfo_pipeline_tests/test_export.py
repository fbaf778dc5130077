"""The analyst views on DuckDB and PostgreSQL against figures worked out by hand from the samples, and
``govinfo export`` (CSV and Parquet) re-read with pandas and compared with the warehouse."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from govinfo_pipeline import cli
from govinfo_pipeline import store as warehouse
from govinfo_pipeline.outputs import export
from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import codebook, sources
from govinfo_pipeline.quality import rules
from govinfo_pipeline.store import sessions, writes
from govinfo_pipeline_tests.conftest import SAMPLES

YANG = "003_cc3b440ac1b55c30.txt"  # 杨舍镇
JINGANG = "001_c3f9dd7fb35767f7.txt"  # 保税区（金港镇）: B2 and B3 fail
XIUZHOU = "004_54bad18d043e05e5.txt"  # 秀洲高新区: application and review tables left blank (K1)
ZERO_REPORTS = ("000_78499890c9608f1e.txt", "002_f9624be8a21e35fd.txt")  # tables of zeros: processed 0
ORGS = ("commercial_enterprise", "research_institution", "social_welfare_org", "legal_service_org", "other_org")
VIEWS = (
    "v_cells",
    "v_agency_year",
    "v_applications_wide",
    "v_outcome_rates",
    "v_outcome_rates_year",
    "v_rule_failures",
    "v_year_over_year",
)


def load_samples(url: str, folder: Path = SAMPLES) -> None:
    """The samples into the warehouse through the pipeline's library steps (what the Dagster assets call)."""
    normalized = parse_batch.normalize(sources.read_files(sources.discover(folder)))
    batch = writes.assemble(normalized, rules.check(normalized))
    engine = warehouse.connect(url)
    warehouse.ensure_schema(engine)
    warehouse.write(engine, batch)
    warehouse.ensure_schema(engine)  # re-creating the views over existing ones works (PostgreSQL tracks them)
    engine.dispose()


def read(url: str, sql: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(sql), conn)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def duck_url(tmp_path_factory) -> str:
    """A DuckDB warehouse loaded with the five samples, shared by the module's read-only tests."""
    url = f"duckdb:///{tmp_path_factory.mktemp('wh') / 'warehouse.duckdb'}"
    load_samples(url)
    return url


@pytest.fixture(params=["duckdb", "postgresql"])
def loaded_url(request, tmp_path) -> str:
    """A fresh warehouse of each backend, loaded with the samples."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if request.param == "duckdb" else request.getfixturevalue("pg_url")
    load_samples(url)
    return url


def missing(v) -> bool:
    return v is None or pd.isna(v)


# ---- views --------------------------------------------------------------------------------------------------------


def check_applications_wide(url: str) -> None:
    wide = read(url, "SELECT * FROM v_applications_wide")
    n_rows = len(codebook.rows("2019", "application"))  # 23 rows in the 2019 template (all five samples)
    assert n_rows == 23
    assert len(wide) == 5 * n_rows
    assert not wide.duplicated(["report_id", "row"]).any()
    w = wide.set_index(["source_path", "row"])
    # 杨舍镇, hand-read: 新收 23 自然人, the five 法人或其他组织 cells blank, 总计 23.
    yang = w.loc[(YANG, "new_received")]
    assert (yang["natural_person"], yang["total"]) == (23, 23)
    assert all(missing(yang[c]) for c in ORGS)  # blank stays NULL, never 0
    assert (w.loc[(YANG, "unable_not_held"), "natural_person"], w.loc[(YANG, "unable_unclear"), "total"]) == (8, 1)
    assert all(missing(w.loc[(YANG, "denied_state_secret"), c]) for c in ("natural_person", *ORGS, "total"))
    assert w.loc[(YANG, "denied_internal_affairs"), "row_label"] == "5.属于三类内部事务信息"
    assert w.loc[(YANG, "denied_internal_affairs"), "row_group"] == "（三）不予公开"
    assert w.loc[(YANG, "new_received"), "row_order"] == 1 and w.loc[(YANG, "carried_forward"), "row_order"] == 26
    # 保税区（金港镇）'s （六）其他处理: 自然人 1, the organisations 0, 总计 0 — the B3 break, as written.
    other = w.loc[(JINGANG, "other")]
    assert other["natural_person"] == 1 and other["total"] == 0 and all(other[c] == 0 for c in ORGS)
    assert (w.loc[(JINGANG, "total_processed"), "total"], w.loc[(JINGANG, "granted"), "total"]) == (19, 7)
    # 秀洲高新区 left the table blank: every figure NULL.
    xiu = wide[wide["source_path"] == XIUZHOU]
    assert len(xiu) == n_rows and xiu[["natural_person", *ORGS, "total"]].isna().all().all()
    assert set(wide["agency_name"]) == {"杨舍镇", "保税区（金港镇）", "秀洲高新区", "双山香山旅游度假区", "靖江园区"}
    assert set(wide["report_year"]) == {2020} and set(wide["template_version"]) == {"2019"}
    # The wide view says exactly what the long table says.
    long = read(
        url,
        "SELECT r.source_path, c.* FROM report_cells c JOIN reports r ON r.report_id = c.report_id "
        "WHERE c.section = 'application'",
    )
    for cell in long.itertuples():
        got = w.loc[(cell.source_path, cell.row), cell.col]
        assert (missing(got) and missing(cell.value)) or got == cell.value, cell


def check_outcome_rates(url: str) -> None:
    rates = read(url, "SELECT * FROM v_outcome_rates").set_index("source_path")
    assert len(rates) == 5
    yang = rates.loc[YANG]
    # Hand-worked: processed 22; granted 9, partially 1, denied 1 (5.属于三类内部事务信息), unable 8 + 1,
    # not processed: all blank (NULL, not 0), other 2.
    assert (yang["processed"], yang["granted"], yang["unable_to_provide"]) == (22, 9, 9)
    assert yang["granted_share"] == pytest.approx(9 / 22)
    assert yang["partially_granted_share"] == pytest.approx(1 / 22)
    assert yang["denied_share"] == pytest.approx(1 / 22)
    assert yang["unable_to_provide_share"] == pytest.approx(9 / 22)
    assert yang["other_handling_share"] == pytest.approx(2 / 22)
    assert missing(yang["not_processed"]) and missing(yang["not_processed_share"])
    jin = rates.loc[JINGANG]  # processed 19: granted 7, unable 9, not processed 2 (the outcomes add to 18: B2)
    assert jin["processed"] == 19
    assert (jin["granted_share"], jin["unable_to_provide_share"], jin["not_processed_share"]) == pytest.approx(
        (7 / 19, 9 / 19, 2 / 19)
    )
    assert jin["denied_share"] == 0 and jin["partially_granted_share"] == 0
    shares = [c for c in rates.columns if c.endswith("_share")]
    assert len(shares) == 6
    for path in ZERO_REPORTS:  # processed 0: no share
        assert rates.loc[path, "processed"] == 0 and rates.loc[path, shares].isna().all()
    assert missing(rates.loc[XIUZHOU, "processed"]) and rates.loc[XIUZHOU, shares].isna().all()  # blank table

    year = read(url, "SELECT * FROM v_outcome_rates_year")
    assert len(year) == 1
    y = year.iloc[0]
    assert (y["report_year"], y["reports"], y["reports_with_processed"], y["reports_with_applications"]) == (
        2020,
        5,
        4,
        2,
    )
    assert (y["processed"], y["granted"], y["unable_to_provide"], y["not_processed"]) == (41, 16, 18, 2)
    assert y["granted_share"] == pytest.approx(16 / 41)  # (7 + 9) / (19 + 22)
    assert y["unable_to_provide_share"] == pytest.approx(18 / 41)
    assert y["not_processed_share"] == pytest.approx(2 / 19)  # 杨舍镇 left it blank: out of both sides


def check_rule_failures(url: str) -> None:
    fails = read(url, "SELECT * FROM v_rule_failures")
    failed = read(
        url,
        "SELECT r.source_path, q.rule_id, q.subject, q.cells FROM quality_results q "
        "JOIN reports r ON r.report_id = q.report_id WHERE q.passed = FALSE",
    )
    # Every failed result is there, once per cell it names (a result naming no cell: once).
    assert set(map(tuple, fails[["source_path", "rule_id", "subject"]].to_numpy())) == set(
        map(tuple, failed[["source_path", "rule_id", "subject"]].to_numpy())
    )
    expected_rows = sum(max(1, len([c for c in (cells or "").split(",") if c.strip()])) for cells in failed["cells"])
    assert len(fails) == expected_rows
    b3 = fails[(fails["source_path"] == JINGANG) & (fails["rule_id"] == "B3")].set_index("cell_code")
    assert len(b3) == 7
    assert (b3["agency_name"].iloc[0], b3["report_year"].iloc[0], b3["level"].iloc[0]) == (
        "保税区（金港镇）",
        2020,
        "error",
    )
    assert (b3["subject"].iloc[0], b3["expected"].iloc[0], b3["observed"].iloc[0]) == ("other", 1, 0)
    assert "B3 [other] fails" in b3["message"].iloc[0]
    # Hand-read from the file: （六）其他处理 总计 '0' on line 327, 自然人 '1' on line 321.
    assert (b3.loc["application.other.total", "raw_text"], b3.loc["application.other.total", "source_line"]) == (
        "0",
        327,
    )
    assert (
        b3.loc["application.other.natural_person", "raw_text"],
        b3.loc["application.other.natural_person", "source_line"],
    ) == ("1", 321)
    assert b3.loc["application.other.total", "cell_no"] == 1
    b2 = fails[(fails["source_path"] == JINGANG) & (fails["rule_id"] == "B2")].set_index("cell_code")
    assert (b2["subject"].iloc[0], b2["expected"].iloc[0], b2["observed"].iloc[0]) == ("total", 18, 19)
    assert (
        b2.loc["application.total_processed.total", "raw_text"],
        b2.loc["application.total_processed.total", "source_line"],
    ) == ("19", 337)
    assert (b2.loc["application.granted.total", "raw_text"], b2.loc["application.granted.total", "source_line"]) == (
        "7",
        131,
    )
    # K1 names a whole table, not a cell: one row, no cell.
    k1 = fails[(fails["source_path"] == XIUZHOU) & (fails["rule_id"] == "K1")]
    assert sorted(k1["subject"]) == ["application", "review_litigation"]
    assert k1["raw_text"].isna().all() and k1["cell_status"].isna().all()
    assert set(fails["source_path"]) <= {JINGANG, XIUZHOU}  # the three others break no rule


@pytest.mark.parametrize("loaded_url", ["duckdb", "postgresql"], indirect=True)
def test_analyst_views_match_hand_worked_figures(loaded_url):
    check_applications_wide(loaded_url)
    check_outcome_rates(loaded_url)
    check_rule_failures(loaded_url)


@pytest.mark.parametrize("loaded_url", ["duckdb", "postgresql"], indirect=True)
def test_a_failed_rule_without_cells_appears_once(loaded_url):
    engine = sa.create_engine(loaded_url)
    with engine.begin() as conn:
        rid = conn.execute(sa.text("SELECT report_id FROM reports ORDER BY report_id")).scalar()
        for subject, cells in (("no cells", None), ("empty cells", ""), ("unknown cell", "application.nope.total")):
            conn.execute(
                warehouse.quality_results.insert().values(
                    report_id=rid,
                    rule_id="Z9",
                    level="warning",
                    passed=False,
                    outcome="fail",
                    subject=subject,
                    cells=cells,
                    message=f"test: {subject}",
                    checked_at=pd.Timestamp("2024-01-01").to_pydatetime(),
                )
            )
    engine.dispose()
    z9 = read(loaded_url, "SELECT * FROM v_rule_failures WHERE rule_id = 'Z9'").set_index("subject")
    assert sorted(z9.index) == ["empty cells", "no cells", "unknown cell"]
    assert missing(z9.loc["no cells", "cell_code"]) and missing(z9.loc["empty cells", "cell_code"])
    assert z9.loc["unknown cell", "cell_code"] == "application.nope.total"
    assert z9["raw_text"].isna().all()


def test_views_are_the_same_on_both_backends(duck_url, pg_url):
    load_samples(pg_url)
    keys = {
        "v_applications_wide": ["report_id", "row"],
        "v_outcome_rates": ["report_id"],
        "v_outcome_rates_year": ["report_year"],
        "v_rule_failures": ["report_id", "rule_id", "subject", "operands", "cell_no"],
    }
    for view, key in keys.items():
        a = read(duck_url, f"SELECT * FROM {view}").sort_values(key).reset_index(drop=True)
        b = read(pg_url, f"SELECT * FROM {view}").sort_values(key).reset_index(drop=True)
        assert list(a.columns) == list(b.columns), view
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=view)


# ---- export -------------------------------------------------------------------------------------------------------


def warehouse_frame(url: str, name: str) -> pd.DataFrame:
    df = read(url, f"SELECT * FROM {name}")
    key = [c for c in export.ORDER_BY[name] if c in df.columns]
    return df.sort_values(key, kind="stable").reset_index(drop=True)


def same_values(file_df: pd.DataFrame, wh_df: pd.DataFrame, name: str, csv: bool) -> None:
    """The exported frame holds the warehouse's values, column by column (CSV: as text)."""
    assert list(file_df.columns) == list(wh_df.columns), name
    assert len(file_df) == len(wh_df), name
    for col in wh_df.columns:
        want, got = wh_df[col], file_df[col]
        if pd.api.types.is_bool_dtype(want) or set(want.dropna().map(type)) == {bool}:
            want = want.map(lambda v: None if missing(v) else bool(v))
            got = got.map(lambda v: None if missing(v) or v == "" else (v in ("True", True)))
            assert want.tolist() == got.tolist(), (name, col)
        elif pd.api.types.is_numeric_dtype(want):
            got = pd.to_numeric(got.replace("", None) if csv else got).astype("float64")
            pd.testing.assert_series_equal(got, want.astype("float64"), check_names=False, obj=f"{name}.{col}")
        elif pd.api.types.is_datetime64_any_dtype(want):
            got = pd.to_datetime(got.replace("", None))
            assert (got.fillna(pd.Timestamp(0)) == want.fillna(pd.Timestamp(0))).all(), (name, col)
        else:  # text: CSV cannot tell NULL from '' (both are an empty field); Parquet can
            want = want.map(lambda v: None if missing(v) else str(v))
            got = got.map(lambda v: None if missing(v) else str(v))
            if csv:
                want, got = want.fillna(""), got.fillna("")
            assert want.tolist() == got.tolist(), (name, col)


def test_export_csv_matches_the_warehouse(duck_url, tmp_path):
    db = Path(duck_url.removeprefix("duckdb:///"))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    out = tmp_path / "csv"
    assert cli.main(["export", "--format", "csv", "--out", str(out), "--warehouse", duck_url]) == 0
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # read through a read-only connection
    names = (*export.CONTRACT_TABLES, *VIEWS)
    assert {p.name for p in out.iterdir()} == {f"{n}.csv" for n in names} | {
        "data_dictionary.csv",
        "data_dictionary.md",
    }
    for name in names:
        path = out / f"{name}.csv"
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1, name  # one BOM: Excel reads UTF-8
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        same_values(df, warehouse_frame(duck_url, name), name, csv=True)
    text = (out / "reports.csv").read_text(encoding="utf-8-sig")
    assert "保税区（金港镇）" in text and "杨舍镇" in text
    fails = pd.read_csv(out / "v_rule_failures.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    row = fails[(fails["cell_code"] == "application.other.total") & (fails["rule_id"] == "B3")].iloc[0]
    assert (row["raw_text"], row["source_line"], row["agency_name"]) == ("0", "327", "保税区（金港镇）")


def test_export_parquet_matches_the_warehouse_with_its_types(duck_url, tmp_path):
    out = tmp_path / "pq"
    assert cli.main(["export", "--format", "parquet", "--out", str(out), "--warehouse", duck_url]) == 0
    for name in (*export.CONTRACT_TABLES, *VIEWS):
        df = pd.read_parquet(out / f"{name}.parquet")
        same_values(df, warehouse_frame(duck_url, name), name, csv=False)
    schema = pq.read_schema(out / "report_cells.parquet")
    assert str(schema.field("value").type) == "double" and str(schema.field("source_line").type) == "int32"
    assert str(schema.field("raw_text").type) == "string"
    assert str(pq.read_schema(out / "quality_results.parquet").field("passed").type) == "bool"
    assert str(pq.read_schema(out / "validations.parquet").field("success").type) == "bool"  # empty, still typed
    cells = pd.read_parquet(out / "report_cells.parquet")
    blank = cells[(cells["cell_status"] == "blank")]
    assert blank["value"].isna().all()  # blank is NULL, not 0
    rates = pd.read_parquet(out / "v_outcome_rates.parquet").set_index("source_path")
    assert rates.loc[YANG, "granted_share"] == pytest.approx(9 / 22)


def test_export_in_small_chunks_gives_the_same_files(duck_url, tmp_path):
    engine = sessions.read_only_engine(duck_url)
    try:
        for fmt in export.FORMATS:
            whole = export.export(engine, tmp_path / f"whole_{fmt}", fmt)
            chunked = export.export(engine, tmp_path / f"chunked_{fmt}", fmt, chunk_rows=97)
            for a, b in zip(whole, chunked, strict=True):
                assert a.rows == b.rows and a.columns == b.columns
                if fmt == "csv" or a.path.suffix != ".parquet":
                    assert a.path.read_bytes() == b.path.read_bytes(), a.path.name
                else:
                    assert pq.read_table(a.path).equals(pq.read_table(b.path)), a.path.name
    finally:
        engine.dispose()


def test_export_from_postgresql_matches_duckdb(duck_url, pg_url, tmp_path):
    load_samples(pg_url)
    assert cli.main(["export", "--format", "parquet", "--out", str(tmp_path / "pg"), "--warehouse", pg_url]) == 0
    assert cli.main(["export", "--format", "parquet", "--out", str(tmp_path / "duck"), "--warehouse", duck_url]) == 0
    stamps = {"loaded_at", "checked_at", "rejected_at", "validated_at"}
    for name in (*export.CONTRACT_TABLES, *VIEWS):
        a = pq.read_table(tmp_path / "pg" / f"{name}.parquet")
        b = pq.read_table(tmp_path / "duck" / f"{name}.parquet")
        assert a.schema.names == b.schema.names, name
        for field in a.schema:
            assert field.type == b.schema.field(field.name).type, (name, field.name)
        keep = [c for c in a.schema.names if c not in stamps]
        pd.testing.assert_frame_equal(a.select(keep).to_pandas(), b.select(keep).to_pandas(), obj=name)


def test_data_dictionary(duck_url, tmp_path):
    assert cli.main(["export", "--format", "csv", "--out", str(tmp_path), "--warehouse", duck_url]) == 0
    d = pd.read_csv(tmp_path / "data_dictionary.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    cells = d[d["entry"] == "cell"].set_index("code")
    assert len(cells) == 226 == len(codebook.cell_codes())
    assert set(zip(cells["section"], cells["row"], cells["col"], strict=True)) == set(codebook.cell_codes())
    other = cells.loc["application.other.natural_person"]
    assert (other["row_label"], other["col_label"], other["templates"], other["kind"]) == (
        "（六）其他处理",
        "自然人",
        "2019",
        "count",
    )
    org = cells.loc["application.granted.research_institution"]
    assert (org["col_label"], org["col_group"], org["row_group"], org["templates"]) == (
        "科研机构",
        "法人或其他组织",
        "三、本年度办理结果",
        "2019,2021",
    )
    fee = cells.loc["proactive.administrative_fee.fee_amount"]
    assert (fee["kind"], fee["unit"], fee["templates"]) == ("money", "万元", "2021")
    assert cells.loc["proactive.centralized_procurement.procurement_amount", "unit"].startswith("元 or 万元")
    assert cells.loc["proactive.administrative_penalty.change", "kind"] == "signed_count"
    assert cells.loc["proactive.normative_document.issued", "row_label"] == "行政规范性文件"
    assert cells.loc["review_litigation.litigation_direct.pending", "row_group"] == "行政诉讼"
    assert cells.loc["review_litigation.litigation_direct.pending", "col_label"] == "尚未审结"
    assert (cells["templates"].str.len() > 0).all() and (cells["row_label"].str.len() > 0).all()
    rules = d[d["entry"] == "rule"].set_index("code")
    assert set(codebook.rules()) | {"K0", "K1", "K2"} == set(rules.index)
    assert (rules.loc["B2", "level"], rules.loc["T1", "level"], rules.loc["K1", "level"]) == (
        "error",
        "warning",
        "warning",
    )
    assert rules.loc["B3", "text"] == codebook.rules()["B3"]["text"]
    md = (tmp_path / "data_dictionary.md").read_text(encoding="utf-8")
    assert "## Cell codes (226)" in md
    assert all(f"| {code} |" in md for code in cells.index)
    assert all(f"| {rid} |" in md for rid in rules.index)
    assert "`v_rule_failures.csv`" in md


def test_export_errors_are_clear(tmp_path, capsys):
    assert (
        cli.main(
            [
                "export",
                "--format",
                "csv",
                "--out",
                str(tmp_path / "o"),
                "--warehouse",
                f"duckdb:///{tmp_path / 'missing.duckdb'}",
            ]
        )
        == 2
    )
    assert "could not export the warehouse" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["export", "--format", "xlsx", "--out", str(tmp_path / "o")])


@pytest.mark.slow
def test_run_export_and_report_through_the_command(sample_dir, tmp_path, dagster_home):
    """`govinfo run` through Dagster, then `govinfo export` and `govinfo report` as a user runs them."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    env.pop("GOVINFO_WAREHOUSE_URL", None)

    def govinfo(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "govinfo_pipeline.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url).returncode == 0
    proc = govinfo("export", "--format", "parquet", "--out", str(tmp_path / "out"), "--warehouse", url)
    assert proc.returncode == 0, proc.stderr
    assert f"{tmp_path / 'out' / 'v_rule_failures.parquet'}  (" in proc.stdout
    assert len(pd.read_parquet(tmp_path / "out" / "validations.parquet")) > 0  # the run's GX validations
    page = tmp_path / "site" / "2020.html"
    proc = govinfo("report", "--year", "2020", "--out", str(page), "--warehouse", url, "--input", str(sample_dir))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(page)
    assert "杨舍镇" in page.read_text(encoding="utf-8")
    proc = govinfo("report", "--year", "2031", "--out", str(tmp_path / "none.html"), "--warehouse", url)
    assert proc.returncode == 2 and "no report for 2031" in proc.stderr and "2020" in proc.stderr
