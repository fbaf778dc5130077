"""`govinfo query` and the reader role can read the warehouse and nothing else, in bounded time.

Each case is an attempt an analyst's query could make to read or write outside the warehouse; the engine
refuses it (DuckDB with external access off and its configuration locked; PostgreSQL as the reader role).
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from govinfo_pipeline import cli
from govinfo_pipeline.launch import run_pipeline
from govinfo_pipeline_tests.test_cli import govinfo
from govinfo_pipeline_tests.test_pipeline import read


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    """The samples loaded into a DuckDB file."""
    import shutil

    from govinfo_pipeline_tests.conftest import SAMPLES

    base = tmp_path_factory.mktemp("readonly")
    shutil.copytree(SAMPLES, base / "raw")
    url = f"duckdb:///{base / 'wh.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(base / "home"))
        assert run_pipeline(str(base / "raw"), url).success
    return base, url


def _query(url: str, sql: str, capsys, *flags: str) -> tuple[int, str, str]:
    code = cli.main(["query", sql, "--warehouse", url, *flags])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("COPY reports TO '{out}'", "Permission Error"),
        ("COPY (SELECT 1) TO '{out}' (FORMAT parquet)", "Permission Error"),
        ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
        ("SELECT * FROM read_text('/etc/passwd')", "Permission Error"),
        ("SELECT * FROM glob('/etc/*')", "Permission Error"),
        ("INSTALL httpfs", "Permission Error"),
        ("LOAD httpfs", "disabled"),
        ("ATTACH '{other}' AS other", "Permission Error"),
        ("SET enable_external_access = true", "Cannot change configuration option"),
        ("SET lock_configuration = false", "Cannot change configuration option"),
        ("DELETE FROM reports", "read-only"),
        ("CREATE TABLE stolen AS SELECT * FROM reports", "read-only"),
    ],
)
def test_duckdb_queries_cannot_reach_past_the_warehouse(duck, sql, says, capsys):
    base, url = duck
    out_file, other = base / "leak.csv", base / "other.duckdb"
    code, out, err = _query(url, sql.format(out=out_file, other=other), capsys)
    assert code == 1 and says in err, err
    assert not out_file.exists() and not other.exists()
    assert "root:" not in out + err  # nothing of /etc/passwd
    assert read(url, "SELECT COUNT(*) AS n FROM reports")["n"][0] == 5


def test_one_statement_per_query(duck, capsys):
    _, url = duck
    code, out, err = _query(url, "SELECT 1; DELETE FROM reports", capsys)
    assert code == 2 and "one SQL statement per query, not 2" in err and not out


def test_a_query_has_a_time_limit_and_a_row_limit(duck, capsys):
    _, url = duck
    slow = "SELECT SUM(hash(r.range + s.range)) FROM range(100000000) r, range(1000) s"
    code, _, err = _query(url, slow, capsys, "--timeout", "1")
    assert code == 1 and "ran longer than 1 s and was stopped" in err
    code, out, err = _query(
        url, "SELECT * FROM report_cells ORDER BY report_id", capsys, "--max-rows", "7", "--format", "csv"
    )
    assert code == 0 and len(out.strip().splitlines()) == 1 + 7 and "only the first 7 rows" in err
    code, out, err = _query(url, "SELECT COUNT(*) AS n FROM report_cells", capsys, "--format", "csv")
    assert out.split() == ["n", "990"] and not err  # 5 reports × 198 cells: all read


def test_export_still_writes_through_its_own_path(duck, tmp_path, capsys):
    _, url = duck
    assert cli.main(["export", "--format", "parquet", "--out", str(tmp_path / "pq"), "--warehouse", url]) == 0
    assert (tmp_path / "pq" / "reports.parquet").exists()


@pytest.fixture
def reader_url(pg_url, sample_dir, dagster_home):
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", pg_url, home=dagster_home).returncode == 0
    role = f"reader_{uuid.uuid4().hex[:8]}"
    granted = govinfo("db", "grant-reader", "--role", role, "--warehouse", pg_url, home=dagster_home)
    assert granted.returncode == 0, granted.stderr
    yield sa.engine.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')
    admin.dispose()


@pytest.mark.slow
def test_the_postgresql_reader_role_can_only_read(reader_url, pg_url, tmp_path):
    engine = sa.create_engine(reader_url, isolation_level="AUTOCOMMIT")
    attempts = [
        "CREATE TABLE stolen (a int)",
        "INSERT INTO rejections (source_path, reason, rejected_at) VALUES ('x', 'empty', now())",
        f"COPY reports TO '{tmp_path / 'leak.csv'}'",
        "COPY rejections FROM '/etc/passwd'",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "COPY (SELECT 1) TO PROGRAM 'touch /tmp/govinfo_pwned'",
    ]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "1min"
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM v_agency_year").scalar() == 5
        for sql in attempts:
            with pytest.raises(sa.exc.DBAPIError, match="read-only|permission denied|must be superuser"):
                conn.exec_driver_sql(sql)
        # PostgreSQL lets any role change its session default back; it gains nothing: the role may only read.
        conn.exec_driver_sql("SET default_transaction_read_only = off")
        for sql in attempts[:2]:
            with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
                conn.exec_driver_sql(sql)
    engine.dispose()
    assert not (tmp_path / "leak.csv").exists()
    assert read(pg_url, "SELECT COUNT(*) AS n FROM rejections")["n"][0] == 0


@pytest.mark.slow
def test_govinfo_query_on_postgresql_is_one_read_only_statement_with_a_timeout(reader_url, capsys):
    code, _, err = _query(reader_url, "SELECT pg_sleep(5)", capsys, "--timeout", "1")
    assert code == 1 and "ran longer than 1 s" in err
    code, _, err = _query(reader_url, "SELECT 1; SELECT 2", capsys)
    assert code == 2 and "one SQL statement" in err
    code, out, _ = _query(reader_url, "SELECT COUNT(*) AS n FROM reports", capsys, "--format", "csv")
    assert code == 0 and out.split() == ["n", "5"]
