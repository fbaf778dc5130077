"""End to end through Dagster: the samples into a real DuckDB file and a real PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from govinfo_pipeline.launch import run_pipeline
from govinfo_pipeline_tests.conftest import WAREHOUSE_TABLES, expected_reports

pytestmark = pytest.mark.slow
EXPECTED = expected_reports()
TABLES = WAREHOUSE_TABLES


def read(url: str, sql: str, **params) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(sql), conn, params=params)
    finally:
        engine.dispose()


def snapshot(url: str, drop: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    out = {}
    for table, key in TABLES.items():
        df = read(url, f"SELECT * FROM {table}").drop(columns=list(drop), errors="ignore")
        out[table] = df.sort_values(key).reset_index(drop=True)
    return out


def ingest(sample_dir: Path, url: str, **kw) -> dg.ExecuteInProcessResult:
    result = run_pipeline(str(sample_dir), url, **kw)
    assert result.success
    return result


def check_sample_warehouse(url: str) -> None:
    reports = read(url, "SELECT * FROM reports")
    assert len(reports) == 5
    assert read(url, "SELECT COUNT(*) AS n FROM report_cells")["n"][0] == 990
    assert read(url, "SELECT COUNT(*) AS n FROM v_cells")["n"][0] == 990
    by_file = reports.set_index("source_path")
    for name, doc in EXPECTED.items():
        assert by_file.loc[name, "agency_name"] == doc["agency_name"]
        assert by_file.loc[name, "report_year"] == doc["report_year"]
        assert by_file.loc[name, "template_version"] == doc["template_version"]
        assert by_file.loc[name, "report_id"] == by_file.loc[name, "source_sha256"][:16]
    ay = read(url, "SELECT * FROM v_agency_year").set_index("source_path")
    # Hand-read: 杨舍镇 received 23, carried over 1, granted 9, carried 2 forward, one review.
    yang = ay.loc["003_cc3b440ac1b55c30.txt"]
    assert (
        yang["applications_received"],
        yang["carried_over"],
        yang["granted"],
        yang["carried_forward"],
        yang["review_total"],
        yang["litigation_total"],
    ) == (23, 1, 9, 2, 1, 0)
    assert yang["denied"] == 1  # 5.属于三类内部事务信息; the other seven denied rows are blank
    assert yang["not_processed"] is None or pd.isna(yang["not_processed"])  # all blank: not 0
    # 秀洲高新区 left its application table blank: NULL, not 0.
    assert ay.loc["004_54bad18d043e05e5.txt", ["applications_received", "processed"]].isna().all()
    assert dict(zip(ay.index, ay["quality_status"], strict=True))["001_c3f9dd7fb35767f7.txt"] == "errors"
    cells = read(
        url, "SELECT * FROM v_cells WHERE source_path = '004_54bad18d043e05e5.txt' AND section = 'application'"
    )
    assert set(cells["cell_status"]) == {"blank"}
    assert cells["value"].isna().all() and (cells["value_or_zero"] == 0).all()
    money = read(
        url,
        "SELECT value, unit, raw_text, source_line FROM v_cells WHERE source_path = "
        "'000_78499890c9608f1e.txt' AND col = 'procurement_amount'",
    ).iloc[0]
    assert (money["value"], money["unit"], money["raw_text"], money["source_line"]) == (400.4, "万元", "+400.4万元", 86)
    failed = read(
        url,
        "SELECT r.source_path, q.rule_id, q.subject FROM quality_results q "
        "JOIN reports r ON r.report_id = q.report_id WHERE q.passed = FALSE AND q.level = 'error'",
    )
    assert set(map(tuple, failed.to_numpy())) == {
        ("001_c3f9dd7fb35767f7.txt", "B2", "total"),
        ("001_c3f9dd7fb35767f7.txt", "B3", "other"),
    }


def test_duckdb_end_to_end_and_idempotent(sample_dir, dagster_home, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    result = ingest(sample_dir, url)
    check_sample_warehouse(url)
    first = snapshot(url)
    again = ingest(sample_dir, url)  # unchanged input: nothing changes, not even loaded_at
    ledger = again.output_for_node("normalized", "files")
    assert set(ledger["outcome"]) == {"unchanged"}  # not parsed or checked again
    second = snapshot(url)
    for table in TABLES:
        pd.testing.assert_frame_equal(first[table], second[table])
    # The run is recorded in the instance the UI reads, with the year partition materialized.
    with dg.DagsterInstance.get() as instance:
        mat = instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "report_cells"]))
        assert mat is not None and mat.asset_materialization.partition == "2020"
        assert instance.get_run_by_id(result.run_id) is not None


def test_postgresql_end_to_end_matches_duckdb(sample_dir, dagster_home, tmp_path, pg_url):
    duck = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    ingest(sample_dir, pg_url)
    check_sample_warehouse(pg_url)
    ingest(sample_dir, duck)
    a, b = (
        snapshot(pg_url, drop=("loaded_at", "checked_at", "rejected_at")),
        snapshot(duck, drop=("loaded_at", "checked_at", "rejected_at")),
    )
    for table in TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], check_dtype=False)


def test_changed_file_replaces_its_report_as_one_unit(sample_dir, dagster_home, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    ingest(sample_dir, url)
    before = read(url, "SELECT report_id, source_path, loaded_at FROM reports").set_index("source_path")
    path = sample_dir / "001_c3f9dd7fb35767f7.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[326] == "\t0"  # line 327: （六）其他处理, column 总计 — the source's B3 inconsistency
    lines[326] = "\t1"
    path.write_text("\n".join(lines), encoding="utf-8")
    ingest(sample_dir, url)
    after = read(url, "SELECT report_id, source_path, loaded_at FROM reports").set_index("source_path")
    assert len(after) == 5
    assert read(url, "SELECT COUNT(*) AS n FROM report_cells")["n"][0] == 990
    name = "001_c3f9dd7fb35767f7.txt"
    assert after.loc[name, "report_id"] != before.loc[name, "report_id"]
    old_id = before.loc[name, "report_id"]
    for table in ("report_cells", "report_sections", "quality_results"):
        assert read(url, f"SELECT COUNT(*) AS n FROM {table} WHERE report_id = '{old_id}'")["n"][0] == 0
    history = read(url, "SELECT * FROM report_history")
    assert list(history["source_path"]) == [name]
    assert history["report_id"][0] == old_id and history["replaced_by"][0] == after.loc[name, "report_id"]
    assert history["source_sha256"][0].startswith(old_id)
    untouched = [n for n in after.index if n != name]
    assert (after.loc[untouched, "loaded_at"] == before.loc[untouched, "loaded_at"]).all()
    # The corrected cell now satisfies B3 and B2 (the total column sums to 19); only the prose's
    # "公开9件" against 7 granted (X6) still disagrees.
    failed = read(
        url,
        f"SELECT rule_id, subject FROM quality_results WHERE report_id = "
        f"'{after.loc[name, 'report_id']}' AND passed = FALSE",
    )
    assert list(map(tuple, failed.to_numpy())) == [("X6", "granted")]


def test_bad_files_are_rejected_and_nothing_is_lost(sample_dir, dagster_home, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    (sample_dir / "copy of 杨舍镇.txt").write_bytes((sample_dir / "003_cc3b440ac1b55c30.txt").read_bytes())
    (sample_dir / "empty.txt").write_bytes(b"")
    (sample_dir / "junk.bin").write_bytes(bytes(range(256)) * 64)
    (sample_dir / "notes.txt").write_text("会议纪要：明天下午三点开会。\n", encoding="utf-8")
    ingest(sample_dir, url)
    assert len(read(url, "SELECT * FROM reports")) == 5
    rej = read(url, "SELECT * FROM rejections").set_index("source_path")
    assert dict(rej["reason"]) == {
        "copy of 杨舍镇.txt": "duplicate_content",
        "empty.txt": "empty",
        "junk.bin": "undecodable",
        "notes.txt": "not_a_report",
    }
    original = read(url, "SELECT report_id FROM reports WHERE source_path = '003_cc3b440ac1b55c30.txt'")
    assert rej.loc["copy of 杨舍镇.txt", "duplicate_of"] == original["report_id"][0]
    assert rej["detail"].notna().all()
    files_seen = 9
    assert len(read(url, "SELECT * FROM reports")) + len(rej) == files_seen


def test_one_report_can_be_rematerialized_alone(sample_dir, dagster_home, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    ingest(sample_dir, url)
    result = ingest(sample_dir, url, years=[2020], files=["004_54bad18d043e05e5.txt"])
    raw = result.output_for_node("raw_files")
    assert list(raw["source_path"]) == ["004_54bad18d043e05e5.txt"]
    assert len(read(url, "SELECT * FROM reports")) == 5


def test_asset_checks_show_in_the_run(sample_dir, dagster_home, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    result = ingest(sample_dir, url)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {
        "raw_files_suite",
        "normalized_reports_suite",
        "normalized_cells_suite",
        "normalized_cell_counts_suite",
        "raw_duplicates_suite",
        "facts_rule_results_suite",
        "warehouse_audit_suite",
    }
    failing = {name for name, e in evaluations.items() if not e.passed}
    assert failing == {"facts_rule_results_suite"}  # the samples' own inconsistencies: a warning
    facts = evaluations["facts_rule_results_suite"]
    assert facts.severity == dg.AssetCheckSeverity.WARN
    assert facts.metadata["failures_by_rule"].value == {"B2": 1, "B3": 1, "K1": 2, "X6": 1, "X7": 1}
    worst = facts.metadata["worst_reports"].value
    assert worst[0]["source_path"] == "001_c3f9dd7fb35767f7.txt" and worst[0]["errors"] == 2
    stored = read(url, "SELECT suite, success, critical_failed FROM validations")
    assert len(stored) == 7 and not stored["critical_failed"].any()


def test_garbage_never_reaches_the_warehouse(sample_dir, dagster_home, tmp_path, monkeypatch):
    """A failed blocking check (here: duplicated cells) stops the run before the warehouse step."""
    from govinfo_pipeline.defs.normalized import assets as normalized_assets

    real = normalized_assets.normalize

    def broken(raw, **kwargs):
        out = real(raw, **kwargs)
        out["cells"] = pd.concat([out["cells"], out["cells"].head(3)], ignore_index=True)
        return out

    monkeypatch.setattr(normalized_assets, "normalize", broken)
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    result = run_pipeline(str(sample_dir), url)
    assert not result.success
    cells_check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "normalized_cells_suite")
    assert not cells_check.passed and cells_check.severity == dg.AssetCheckSeverity.ERROR
    assert read(url, "SELECT COUNT(*) AS n FROM reports")["n"][0] == 0
    assert read(url, "SELECT COUNT(*) AS n FROM report_cells")["n"][0] == 0
