"""Two `govinfo run` processes on one warehouse at once, the same input, no Dagster instance shared: the second
waits for the first (or refuses with exit 2 and a message), and the warehouse ends as after one run, with every
row once and every run's accounting balanced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govinfo_pipeline_tests.conftest import SAMPLES
from govinfo_pipeline_tests.test_pipeline import read

pytestmark = pytest.mark.slow


def start(folder: Path, url: str, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "govinfo_pipeline.cli", "run", "--input", str(folder), "--warehouse", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse(request, tmp_path):
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'wh.duckdb'}"
    return request.getfixturevalue("pg_url")


def test_two_runs_at_once_write_everything_once(warehouse, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    for f in SAMPLES.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "copy.txt").write_bytes((SAMPLES / "003_cc3b440ac1b55c30.txt").read_bytes())  # a rejection
    (folder / "empty.txt").write_bytes(b"")
    procs = [start(folder, warehouse, tmp_path / f"home_{i}") for i in range(2)]
    try:
        outs = [p.communicate(timeout=900) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    codes = [p.returncode for p in procs]
    for code, (out, err) in zip(codes, outs, strict=True):
        assert code in (0, 2), out + err
        if code == 2:  # refused: one line that says the warehouse is held and what to do
            assert "lock" in err and "warehouse" in err, err
    assert 0 in codes, outs
    n = read(warehouse, "SELECT COUNT(*) AS n, COUNT(DISTINCT report_id) AS ids FROM reports").iloc[0]
    assert (n["n"], n["ids"]) == (5, 5)
    cells = read(
        warehouse,
        'SELECT COUNT(*) AS n FROM (SELECT DISTINCT report_id, section, "row", col FROM report_cells) t',
    )["n"][0]
    assert cells == read(warehouse, "SELECT COUNT(*) AS n FROM report_cells")["n"][0] == 5 * 198
    sections = read(warehouse, "SELECT report_id, section_no, COUNT(*) AS n FROM report_sections GROUP BY 1, 2")
    assert (sections["n"] == 1).all()
    results = read(warehouse, "SELECT COUNT(*) AS n FROM quality_results")["n"][0]
    distinct = read(
        warehouse,
        "SELECT COUNT(*) AS n FROM (SELECT DISTINCT report_id, rule_id, subject, operands FROM quality_results) t",
    )["n"][0]
    assert results == distinct > 0
    rej = read(warehouse, "SELECT source_path, reason FROM rejections ORDER BY source_path")
    assert list(zip(rej["source_path"], rej["reason"], strict=True)) == [
        ("copy.txt", "duplicate_content"),
        ("empty.txt", "empty"),
    ]
    ledger = read(warehouse, "SELECT files_seen, reports_loaded, rejections, balanced FROM run_accounting")
    assert len(ledger) == codes.count(0)
    assert ledger["balanced"].all() and (ledger["files_seen"] == 7).all()
