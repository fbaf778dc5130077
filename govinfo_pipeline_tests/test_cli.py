"""The govinfo command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def govinfo(*args: str, home, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DAGSTER_HOME": str(home), **extra_env}
    env.pop("GOVINFO_WAREHOUSE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "govinfo_pipeline.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_run_then_query(sample_dir, tmp_path, dagster_home):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    proc = govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home)
    assert proc.returncode == 0, proc.stderr
    assert "reports loaded: 5" in proc.stdout
    assert "cells: 990" in proc.stdout
    assert "B2 (error) ×1" in proc.stdout and "B3 (error) ×1" in proc.stdout
    proc = govinfo(
        "query",
        "SELECT agency_name, applications_received FROM v_agency_year ORDER BY agency_name",
        "--warehouse",
        url,
        "--format",
        "csv",
        home=dagster_home,
    )
    assert proc.returncode == 0, proc.stderr
    assert "杨舍镇,23.0" in proc.stdout


def test_query_is_read_only(sample_dir, tmp_path, dagster_home):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    proc = govinfo("query", "DELETE FROM reports", "--warehouse", url, home=dagster_home)
    assert proc.returncode != 0
    assert "read-only" in proc.stderr.lower() or "read only" in proc.stderr.lower()


def test_missing_input_folder_is_a_clear_error(tmp_path, dagster_home):
    proc = govinfo(
        "run", "--input", str(tmp_path / "nope"), "--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}", home=dagster_home
    )
    assert proc.returncode == 2
    assert "input folder" in proc.stderr and "does not exist" in proc.stderr


def test_unreachable_warehouse_is_a_clear_error(sample_dir, dagster_home):
    proc = govinfo(
        "run",
        "--input",
        str(sample_dir),
        "--warehouse",
        "postgresql+psycopg://postgres:secret@127.0.0.1:1/none",
        home=dagster_home,
    )
    assert proc.returncode == 2
    assert "cannot reach the warehouse at postgresql+psycopg://postgres:***@127.0.0.1:1/none" in proc.stderr
    assert "secret" not in proc.stderr


def test_env_vars_do_what_the_flags_do(sample_dir, tmp_path, dagster_home):
    url = f"duckdb:///{tmp_path / 'env.duckdb'}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "GOVINFO_INPUT_DIR": str(sample_dir),
        "GOVINFO_WAREHOUSE_URL": url,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "govinfo_pipeline.cli", "run"], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "env.duckdb").exists()
    assert "reports loaded: 5" in proc.stdout


def test_quality_scorecard_and_data_docs(sample_dir, tmp_path, dagster_home):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    proc = govinfo("quality", "--year", "2020", "--warehouse", url, home=dagster_home)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Reports: 5  errors: 1, passed: 3, warnings: 1" in out
    assert "1. 保税区（金港镇） 2020 — 001_c3f9dd7fb35767f7.txt — 2 errors, 1 warnings" in out
    # the failing cell, its raw text and its line
    assert "application.other.total = '0' (line 327)" in out
    assert "application.other.natural_person = '1' (line 321)" in out
    docs = tmp_path / "docs"
    proc = govinfo("docs", "--warehouse", url, "--out", str(docs), home=dagster_home)
    assert proc.returncode == 0, proc.stderr
    index = docs / "index.html"
    assert proc.stdout.strip() == str(index)
    html = index.read_text(encoding="utf-8")
    for suite in ("normalized_cells", "facts_rule_results", "warehouse_audit"):
        assert suite in html
    assert not (docs / "index.html").read_text(encoding="utf-8").count("unexpected Exception")


def test_query_is_read_only_on_postgresql(sample_dir, dagster_home, pg_url):
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", pg_url, home=dagster_home).returncode == 0
    for sql in ("DELETE FROM reports", "DROP TABLE report_cells", "UPDATE reports SET agency_name = 'x'"):
        proc = govinfo("query", sql, "--warehouse", pg_url, home=dagster_home)
        assert proc.returncode != 0
        assert "read-only" in proc.stderr.lower()
    proc = govinfo(
        "query", "SELECT COUNT(*) AS n FROM reports", "--warehouse", pg_url, "--format", "csv", home=dagster_home
    )
    assert proc.stdout.split() == ["n", "5"]


@pytest.mark.parametrize("steps", ["in_process", "multiprocess"])
def test_a_large_input_runs_as_batches_with_the_same_result(steps, sample_dir, tmp_path, dagster_home):
    """More files than --batch-files: consecutive runs, each reading about that many files. The warehouse ends
    as one run leaves it, and a copy of a file meets its original in one batch, so it is still a duplicate.

    Memory goes back to the system between batches: with the steps in this process, each batch runs in a
    process forked for it; from GOVINFO_STEP_PROCESSES_FROM files on (auto), each step runs in a process of
    its own."""
    import dagster as dg
    import sqlalchemy as sa

    first = sorted(sample_dir.iterdir())[0]
    (sample_dir / "copy_of_first.txt").write_bytes(first.read_bytes())
    one, batched = (f"duckdb:///{tmp_path / name}" for name in ("one.duckdb", "batched.duckdb"))
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", one, home=dagster_home).returncode == 0
    profile = tmp_path / "profile.txt"  # profiled too: the command, and each batch process apart
    proc = govinfo(
        "run",
        "--input",
        str(sample_dir),
        "--warehouse",
        batched,
        "--batch-files",
        "2",
        home=dagster_home,
        GOVINFO_PROFILE=str(profile),
        GOVINFO_STEP_PROCESSES_FROM="1" if steps == "multiprocess" else "1000",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("succeeded (batch ") == 3  # six files, two per run; the copy stays with its original
    assert "reports loaded: 5" in proc.stdout and "cells: 990" in proc.stdout
    assert "cmd_run" in profile.read_text(encoding="utf-8")

    run_ids = [line.split()[2] for line in proc.stdout.splitlines() if "succeeded (batch " in line]
    with dg.DagsterInstance.get() as instance:
        runs = [instance.get_run_by_id(r) for r in run_ids]
        step_pids = [
            {
                r.dagster_event.pid
                for r in instance.all_logs(run.run_id)
                if r.dagster_event and r.dagster_event.event_type == dg.DagsterEventType.STEP_START
            }
            for run in runs
        ]
    run_pids = {int(run.tags["govinfo/pid"]) for run in runs}
    if steps == "in_process":  # three batch processes, each running its own steps
        assert len(run_pids) == 3
        assert all(p == {int(run.tags["govinfo/pid"])} for p, run in zip(step_pids, runs, strict=True))
        for i in (1, 2, 3):
            assert "warehouse_tables" in (tmp_path / f"profile.batch{i}.txt").read_text(encoding="utf-8")
    else:  # one orchestrating process; each step of each run in a process of its own
        from govinfo_pipeline.defs.jobs import resolved_ingest_job

        steps_per_run = len(resolved_ingest_job().graph.node_names())  # raw, normalized, facts, warehouse, review
        assert len(run_pids) == 1 and all(len(p) == steps_per_run and not p & run_pids for p in step_pids)

    def contents(url: str) -> dict:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            out = {
                t: sorted(map(tuple, conn.execute(sa.text(f"SELECT {cols} FROM {t}")).fetchall()))
                for t, cols in (
                    ("reports", "report_id, source_path, parse_status, quality_status"),
                    ("report_cells", "report_id, section, row, col, value, cell_status"),
                    ("quality_results", "report_id, rule_id, subject, outcome"),
                    ("rejections", "source_path, reason, duplicate_of"),
                )
            }
            out["ledger"] = conn.execute(
                sa.text(
                    "SELECT SUM(files_seen), SUM(reports_loaded), SUM(rejections), "
                    "MIN(CAST(balanced AS INTEGER)) FROM run_accounting"
                )
            ).fetchone()
        engine.dispose()
        return out

    a, b = contents(one), contents(batched)
    assert {k: v for k, v in a.items() if k != "ledger"} == {k: v for k, v in b.items() if k != "ledger"}
    assert [r[1] for r in b["rejections"]] == ["duplicate_content"]
    assert tuple(b["ledger"]) == (6, 5, 1, 1) and tuple(a["ledger"]) == (6, 5, 1, 1)
