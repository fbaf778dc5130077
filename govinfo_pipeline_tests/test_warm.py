"""``govinfo serve``: runs forked from a warm process give what a cold run gives, and fall back to a cold run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from govinfo_pipeline import warm

pytestmark = pytest.mark.slow


@pytest.fixture
def server(sample_dir: Path):
    """A warm server in a DAGSTER_HOME of its own."""
    home = sample_dir.parent / "a_dagster_home_whose_path_is_long_enough_to_need_the_socket_elsewhere"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GOVINFO_WAREHOUSE_URL": f"duckdb:///{home / 'w.duckdb'}"}
    env.pop("GOVINFO_WARM", None)
    log = home / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "govinfo_pipeline.cli", "serve"], env=env, stderr=fh)
    sock = warm.socket_path(home)
    deadline = time.monotonic() + 180
    while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sock.exists(), log.read_text()
    yield proc, env, log, sample_dir
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert not sock.exists() or proc.returncode == -signal.SIGKILL  # removed on the way out
    sock.unlink(missing_ok=True)


def govinfo(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "govinfo_pipeline.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def served(log: Path) -> list[str]:
    """The requests the server has forked a run for."""
    return [line for line in log.read_text().splitlines() if ": govinfo run" in line]


def test_a_run_forked_from_the_warm_server_loads_every_report_and_prints_its_summary(server):
    proc, env, log, raw = server
    done = govinfo(env, "run", "--input", str(raw))
    assert done.returncode == 0, done.stderr
    assert "reports loaded: 5" in done.stdout  # the five sample reports; the output reached this process
    assert "cells: 990" in done.stdout
    assert len(served(log)) == 1
    engine = sa.create_engine(env["GOVINFO_WAREHOUSE_URL"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM reports")).scalar() == 5
    engine.dispose()
    one = sorted(raw.glob("*.txt"))[0]
    one.write_bytes(one.read_bytes() + b"\n")  # changed: re-read and re-checked
    again = govinfo(env, "run", "--input", str(raw), "--file", one.name)
    assert again.returncode == 0, again.stderr
    assert "this run: 1 files seen = 1 reports" in again.stdout
    assert len(served(log)) == 2
    assert proc.poll() is None  # each run was a child of its own: the server is still there


def test_a_failing_command_keeps_its_exit_status_and_message_through_the_server(server):
    _, env, log, _ = server
    done = govinfo(env, "run", "--input", "/nonexistent/folder")
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert len(served(log)) == 1


def test_cold_runs_are_not_forwarded(server):
    _, env, log, raw = server
    assert govinfo(env, "run", "--input", str(raw), "--cold").returncode == 0
    assert govinfo({**env, "GOVINFO_WARM": "off"}, "run", "--input", str(raw)).returncode == 0
    assert served(log) == []


def test_a_server_of_other_code_stops_and_the_run_goes_cold(server):
    proc, env, log, raw = server
    source = Path(warm.__file__)
    before = source.stat()
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))  # the code "changed"
    try:
        done = govinfo(env, "run", "--input", str(raw))
    finally:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert done.returncode == 0, done.stderr
    assert "runs other code" in done.stderr
    assert "reports loaded: 5" in done.stdout  # run here instead
    assert proc.wait(timeout=30) == 0
    assert served(log) == []
    assert not warm.socket_path(Path(env["DAGSTER_HOME"])).exists()


def test_a_socket_left_by_a_killed_server_is_ignored(server):
    proc, env, _, raw = server
    proc.kill()
    proc.wait(timeout=30)
    assert warm.socket_path(Path(env["DAGSTER_HOME"])).exists()  # nobody removed it
    done = govinfo(env, "run", "--input", str(raw))
    assert done.returncode == 0, done.stderr
    assert "reports loaded: 5" in done.stdout
