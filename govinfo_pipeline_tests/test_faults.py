"""Crashes and a vanishing warehouse: the warehouse only ever holds whole reports, and a re-run
completes with the same contents as a run that was never interrupted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from govinfo_pipeline_tests.conftest import SAMPLES
from govinfo_pipeline_tests.test_pipeline import TABLES, read, snapshot

pytestmark = pytest.mark.slow
N_REPORTS = 30
STAMPS = ("loaded_at", "checked_at", "rejected_at")


def corpus(folder: Path) -> Path:
    """N distinct reports: the samples, each with a different sentence added to its preamble."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = sorted(SAMPLES.glob("*.txt"))
    for i in range(N_REPORTS):
        src = samples[i % len(samples)]
        text = src.read_text(encoding="utf-8").replace("一、总体情况", f"（第{i}号副本）\n一、总体情况", 1)
        (folder / f"{i:03d}_{src.name}").write_text(text, encoding="utf-8")
    return folder


def govinfo_run(folder: Path, url: str, home: Path, **env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "DAGSTER_HOME": str(home), **env}
    return subprocess.run(
        [sys.executable, "-m", "govinfo_pipeline.cli", "run", "--input", str(folder), "--warehouse", url],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_only_whole_reports(url: str) -> int:
    """Every report in the warehouse has all its cells, sections and rule results; returns how many."""
    per_report = read(
        url,
        """
        SELECT r.report_id,
               (SELECT COUNT(*) FROM report_cells c WHERE c.report_id = r.report_id) AS cells,
               (SELECT COUNT(*) FROM report_sections s WHERE s.report_id = r.report_id) AS sections,
               (SELECT COUNT(*) FROM quality_results q WHERE q.report_id = r.report_id) AS results
        FROM reports r""",
    )
    assert (per_report["cells"] == 198).all()
    assert (per_report["sections"] >= 4).all() and (per_report["results"] > 0).all()
    for table in ("report_cells", "report_sections", "quality_results", "report_prose_numbers"):
        orphans = read(
            url,
            f"SELECT COUNT(*) AS n FROM {table} t LEFT JOIN reports r "
            f"ON r.report_id = t.report_id WHERE r.report_id IS NULL",
        )["n"][0]
        assert orphans == 0, table
    return len(per_report)


def same_contents(a: str, b: str) -> None:
    x, y = snapshot(a, drop=STAMPS), snapshot(b, drop=STAMPS)
    for table in TABLES:
        pd.testing.assert_frame_equal(x[table], y[table], check_dtype=False)


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_sigkill_mid_load_then_rerun(backend, tmp_path, dagster_home, request):
    folder = corpus(tmp_path / "raw")
    if backend == "duckdb":
        url, reference = f"duckdb:///{tmp_path / 'wh.duckdb'}", f"duckdb:///{tmp_path / 'ref.duckdb'}"
    else:
        url = request.getfixturevalue("pg_url")
        reference = f"duckdb:///{tmp_path / 'ref.duckdb'}"
    # Killed with SIGKILL inside the 6th one-report transaction, after its inserts, before its commit.
    killed = govinfo_run(
        folder, url, dagster_home, GOVINFO_WRITE_CHUNK="1", GOVINFO_FAILPOINT="warehouse.before_commit:6"
    )
    assert killed.returncode == -9, killed.stderr
    assert assert_only_whole_reports(url) == 5
    rerun = govinfo_run(folder, url, dagster_home)
    assert rerun.returncode == 0, rerun.stderr
    assert assert_only_whole_reports(url) == N_REPORTS
    uninterrupted = govinfo_run(folder, reference, dagster_home)
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    same_contents(url, reference)


def test_a_batch_killed_mid_load_fails_the_run_and_a_rerun_completes(tmp_path, dagster_home):
    """A large input runs batch by batch, each in a process of its own: when one is killed, the command says
    so and stops, the warehouse holds only whole reports, and a re-run completes it."""
    folder = corpus(tmp_path / "raw")
    url, reference = f"duckdb:///{tmp_path / 'wh.duckdb'}", f"duckdb:///{tmp_path / 'ref.duckdb'}"
    killed = govinfo_run(
        folder,
        url,
        dagster_home,
        GOVINFO_BATCH_FILES="10",
        GOVINFO_WRITE_CHUNK="1",
        GOVINFO_FAILPOINT="warehouse.before_commit:6",
    )
    assert killed.returncode == 1, killed.stderr
    assert "(batch 1 of 3) failed" in killed.stderr and "exit code -9" in killed.stderr
    assert assert_only_whole_reports(url) == 5
    rerun = govinfo_run(folder, url, dagster_home, GOVINFO_BATCH_FILES="10")
    assert rerun.returncode == 0, rerun.stderr
    assert assert_only_whole_reports(url) == N_REPORTS
    assert govinfo_run(folder, reference, dagster_home).returncode == 0
    same_contents(url, reference)


class DroppingProxy:
    """A TCP proxy to PostgreSQL that cuts every connection when it sees a COPY: the warehouse
    goes away in the middle of the bulk load."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.cut_on_copy = True
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while data := src.recv(65536):
                if from_client and self.cut_on_copy and b"COPY " in data:
                    self.cut_all()
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut_all(self) -> None:
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        self.server.close()
        self.cut_all()


def test_postgresql_goes_away_mid_load(tmp_path, dagster_home, pg_url):
    folder = corpus(tmp_path / "raw")
    real = sa.engine.make_url(pg_url)
    proxy = DroppingProxy((real.host, real.port or 5432))
    try:
        via_proxy = real.set(port=proxy.port).render_as_string(hide_password=False)
        failed = govinfo_run(folder, via_proxy, dagster_home)
        assert failed.returncode == 1
        assert "could not write to the warehouse" in failed.stderr
        assert read(pg_url, "SELECT COUNT(*) AS n FROM reports")["n"][0] == 0  # nothing half-written
        proxy.cut_on_copy = False  # the server is back
        ok = govinfo_run(folder, via_proxy, dagster_home)
        assert ok.returncode == 0, ok.stderr
        assert assert_only_whole_reports(pg_url) == N_REPORTS
    finally:
        proxy.close()


def test_duckdb_file_unwritable(tmp_path, dagster_home):
    folder = corpus(tmp_path / "raw")
    db = tmp_path / "wh.duckdb"
    url = f"duckdb:///{db}"
    assert govinfo_run(SAMPLES, url, dagster_home).returncode == 0
    before = snapshot(url)
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this filesystem")
    try:
        failed = govinfo_run(folder, url, dagster_home)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert failed.returncode != 0
    assert "warehouse" in failed.stderr
    after = snapshot(url)
    for table in TABLES:
        pd.testing.assert_frame_equal(before[table], after[table])
    ok = govinfo_run(folder, url, dagster_home)
    assert ok.returncode == 0, ok.stderr
    assert assert_only_whole_reports(url) == 5 + N_REPORTS
