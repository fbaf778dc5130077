"""Progress: counted by the stages wherever they run, shown by the command that waits for them."""

from __future__ import annotations

import io
import re

import pytest

from govinfo_pipeline import progress
from govinfo_pipeline_tests.test_cli import govinfo


def test_a_line_says_done_total_rate_and_what_is_left():
    half = progress.Count("parse", 50, 100, 10.0)  # 5 a second, 50 to go: 10 s
    assert half.line() == "parse: 50 of 100 files parsed · 5.0/s · ETA 0:10"
    big = progress.Count("write", 1_000, 141_000, 1.0)  # 140,000 left at 1,000/s: 2:20
    assert big.line().endswith("ETA 2:20")
    assert progress.Count("check", 0, 7, 0.0).line() == "check: 0 of 7 reports checked"
    assert progress.Count("read", 8, 8, 4.0, finished=True).line() == "read: 8 of 8 files read in 0:04 (2.0/s)"


def test_the_batches_of_a_run_are_summed_per_stage(tmp_path):
    a = progress.Meter("parse", 10, tmp_path / "batch-1")
    b = progress.Meter("parse", 4, tmp_path / "batch-2")
    for _ in range(10):
        a.add()
    a.finish()
    b.add(3)
    b.finish()
    progress.Meter("read", 14, tmp_path / "batch-1").finish()
    got = {c.stage: c for c in progress.read_folder(tmp_path)}
    assert list(got) == ["read", "parse"]  # in the order a run goes
    assert (got["parse"].done, got["parse"].total, got["parse"].finished) == (13, 14, True)
    assert (got["read"].done, got["read"].total) == (0, 14)


def test_a_meter_logs_and_times_its_stage():
    logged: list[str] = []
    m = progress.Meter("read", 3, None, logged.append, log_every=0.0)
    m.add()
    m.add(2)
    timing = m.finish()
    assert logged[0].startswith("read: 1 of 3 files read") and logged[1].startswith("read: 3 of 3 files read · ")
    assert logged[-1].startswith("read: 3 of 3 files read in ")
    assert set(timing) == {"seconds", "per_second"} and timing["seconds"] >= 0


def test_lines_mode_prints_only_what_moved(tmp_path):
    out = io.StringIO()
    with progress.Display(tmp_path, "lines", every=0.05, out=out):
        m = progress.Meter("parse", 2, tmp_path / "batch-1")
        m.add(2)
        m.finish()
    lines = out.getvalue().splitlines()
    assert lines and lines[-1].startswith("govinfo: parse: 2 of 2 files parsed in ")
    assert len(lines) == len(set(lines))


@pytest.mark.slow
def test_a_batched_run_shows_each_stage_and_records_timings(sample_dir, tmp_path, dagster_home):
    """Six files (the five samples and a copy of one) in three runs of two files, each step in a process of its
    own: the command's progress lines add up to the whole input, and the UI gets each stage's timing."""
    import dagster as dg

    first = sorted(sample_dir.iterdir())[0]
    (sample_dir / "copy_of_first.txt").write_bytes(first.read_bytes())
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    proc = govinfo(
        *("run", "--input", str(sample_dir), "--warehouse", url, "--batch-files", "2"),
        home=dagster_home,
        GOVINFO_PROGRESS="lines",
        GOVINFO_PROGRESS_EVERY="1",
        GOVINFO_STEP_PROCESSES_FROM="1",
    )
    assert proc.returncode == 0, proc.stderr
    last = {}
    for line in proc.stderr.splitlines():
        if m := re.match(r"govinfo: (\w+): (\d+) of (\d+) ", line):
            last[m[1]] = (int(m[2]), int(m[3]))
    # Six files read and parsed (the copy is a duplicate); five reports checked and written.
    assert last == {"read": (6, 6), "parse": (6, 6), "check": (5, 5), "write": (5, 5)}
    assert not list((dagster_home / "storage" / "batches" / "progress").glob("*"))  # removed after the run

    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["normalized", "files"]))
    assert event is not None
    meta = event.asset_materialization.metadata
    assert meta["seconds"].value >= 0 and meta["files_per_second"].value >= 0
