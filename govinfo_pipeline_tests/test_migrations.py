"""Schema migrations: a warehouse built at the first migration upgrades in place, losing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from govinfo_pipeline import store as wh
from govinfo_pipeline.store import migrate, views
from govinfo_pipeline_tests.test_cli import govinfo
from govinfo_pipeline_tests.test_pipeline import read

pytestmark = pytest.mark.slow
NOW = dt.datetime(2021, 3, 1, 9, 0)


def load_first_schema(url: str) -> None:
    """A warehouse as the first schema version wrote it: one report with two cells and a result."""
    engine = wh.connect(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO reports (report_id, source_path, source_sha256, agency_name, report_year, "
                "template_version, title, parse_status, quality_status, loaded_at) VALUES ('aaaaaaaaaaaaaaaa', "
                "'old.txt', :sha, '杨舍镇', 2020, '2019', '杨舍镇2020年度报告', 'parsed', 'passed', :now)"
            ),
            {"sha": "a" * 64, "now": NOW},
        )
        for col, value in (("natural_person", 23.0), ("total", 23.0)):
            conn.execute(
                sa.text(
                    f"INSERT INTO report_cells (report_id, section, {wh.quote_cols(engine)['row']}, "
                    f"{wh.quote_cols(engine)['col']}, value, cell_status, raw_text, source_line) VALUES "
                    "('aaaaaaaaaaaaaaaa', 'application', 'new_received', :col, :v, 'number', '23', 107)"
                ),
                {"col": col, "v": value},
            )
        conn.execute(
            sa.text(
                "INSERT INTO quality_results (report_id, rule_id, level, passed, outcome, subject, checked_at) VALUES "
                "('aaaaaaaaaaaaaaaa', 'B3', 'error', TRUE, 'pass', 'new_received', :now)"
            ),
            {"now": NOW},
        )
    engine.dispose()


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_upgrade_in_place_keeps_every_row(backend, tmp_path, dagster_home, sample_dir, request):
    url = f"duckdb:///{tmp_path / 'old.duckdb'}" if backend == "duckdb" else request.getfixturevalue("pg_url")
    load_first_schema(url)
    refused = govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home)
    assert refused.returncode == 2
    assert "govinfo db upgrade" in refused.stderr and "0001" in refused.stderr
    upgraded = govinfo("db", "upgrade", "--warehouse", url, home=dagster_home)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"0001 -> {migrate.head()}" in upgraded.stdout
    rep = read(url, "SELECT * FROM reports").iloc[0]
    assert (rep["report_id"], rep["agency_name"], rep["loaded_at"]) == ("aaaaaaaaaaaaaaaa", "杨舍镇", NOW)
    assert rep["region"] is None or rep["region"] != rep["region"]  # the new column, NULL for old rows
    cells = read(url, "SELECT col, value, raw_text, source_line, source_page FROM report_cells ORDER BY col")
    assert cells[["col", "value", "raw_text", "source_line"]].values.tolist() == [
        ["natural_person", 23.0, "23", 107],
        ["total", 23.0, "23", 107],
    ]
    assert cells["source_page"].isna().all()
    assert len(read(url, "SELECT * FROM quality_results")) == 1
    ran = govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home)
    assert ran.returncode == 0, ran.stderr
    assert len(read(url, "SELECT * FROM reports")) == 6  # the old report and the five samples


def test_migrations_build_exactly_the_schema_the_code_writes(pg_url):
    engine = wh.connect(pg_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), wh.metadata) == []
    assert migrate.current(engine) == migrate.head()
    engine.dispose()


def test_read_only_role_for_analysts(pg_url, sample_dir, dagster_home):
    import uuid

    assert govinfo("run", "--input", str(sample_dir), "--warehouse", pg_url, home=dagster_home).returncode == 0
    role = f"reader_{uuid.uuid4().hex[:8]}"
    granted = govinfo("db", "grant-reader", "--role", role, "--warehouse", pg_url, home=dagster_home)
    assert granted.returncode == 0, granted.stderr
    as_reader = sa.engine.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    try:
        assert len(read(as_reader, "SELECT * FROM v_agency_year")) == 5
        engine = sa.create_engine(as_reader)
        with pytest.raises(sa.exc.DBAPIError, match="read-only|permission denied"):
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM reports"))
        engine.dispose()
        assert len(read(pg_url, "SELECT * FROM reports")) == 5
    finally:
        admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_views_are_rewritten_only_when_they_differ_from_this_govinfos(backend, tmp_path, request):
    """Opening a warehouse re-creates a view that is missing or not as this govinfo defines it (marked with a
    hash of its SQL), and leaves views that are as defined alone."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if backend == "duckdb" else request.getfixturevalue("pg_url")
    engine = wh.connect(url)
    wh.ensure_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP VIEW v_rule_failures")
        conn.exec_driver_sql("DROP VIEW v_cells")
        conn.exec_driver_sql("CREATE VIEW v_cells AS SELECT 1 AS stale")
    wh.ensure_schema(engine)
    with engine.connect() as conn:
        assert "raw_text" in conn.exec_driver_sql("SELECT * FROM v_cells").keys()
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM v_rule_failures").scalar() == 0
        marks = views.view_marks(conn, list(wh.view_sql(engine)))
    assert set(marks) == set(wh.view_sql(engine)) and all(m.startswith("govinfo:") for m in marks.values())
    # Views as defined are not dropped again: PostgreSQL would refuse to drop v_cells under an analyst's view.
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE VIEW analyst_own AS SELECT report_id FROM v_cells")
    wh.ensure_schema(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM analyst_own").scalar() == 0
    engine.dispose()
