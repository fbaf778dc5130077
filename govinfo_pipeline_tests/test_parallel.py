"""The same definitions in parallel: several years as concurrent runs (multiprocess executor), steps on
Celery workers, and concurrent writers of one warehouse. Each parallel result must equal a plain
single-process run of the same input, row for row (run ids and timestamps aside)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from govinfo_pipeline import cli, launch, settings
from govinfo_pipeline_tests.conftest import PG_ADMIN_URL, ROOT, SAMPLES, WAREHOUSE_TABLES
from govinfo_pipeline_tests.test_pipeline import read

BROKER = os.environ.get("GOVINFO_TEST_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")
VENV_BIN = Path(sys.executable).parent
STAMPS = ("loaded_at", "checked_at", "rejected_at")
# Every table a run fills, with the key it is sorted by (run ids and timestamps are left out).
TABLES = {
    **WAREHOUSE_TABLES,
    "report_similarity": ["report_id", "other_report_id", "scope"],
    "agencies": ["agency_id"],
    "agency_aliases": ["alias"],
}


def two_years(folder: Path) -> Path:
    """The five sample reports (2020) and a 2019 edition of each (the same bodies, the year changed), so that
    the years are separate partitions and the warehouse-wide rules (X1 across years, S1 similarity) link them."""
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted(SAMPLES.glob("*.txt")):
        text = src.read_text(encoding="utf-8")
        (folder / src.name).write_text(text, encoding="utf-8")
        (folder / f"{src.stem}_2019.txt").write_text(text.replace("2020", "2019"), encoding="utf-8")
    return folder


def contents(url: str) -> dict[str, pd.DataFrame]:
    out = {}
    for table, key in TABLES.items():
        df = read(url, f"SELECT * FROM {table}").drop(columns=list(STAMPS), errors="ignore")
        out[table] = df.sort_values(key).reset_index(drop=True)
    return out


def assert_same_contents(url: str, reference: dict[str, pd.DataFrame]) -> None:
    got = contents(url)
    for table in TABLES:
        n, expected = len(got[table]), len(reference[table])
        assert n == expected, f"{table}: {n} rows, expected {expected}"
        pd.testing.assert_frame_equal(got[table], reference[table], check_dtype=False, obj=table)


def expected_totals(ref: dict[str, pd.DataFrame]) -> None:
    """What the two-year corpus gives, so that an empty reference cannot pass."""
    assert len(ref["reports"]) == 10 and sorted(set(ref["reports"]["report_year"])) == [2019, 2020]
    assert len(ref["report_cells"]) == 1980
    rules = set(ref["quality_results"]["rule_id"])
    assert {"X1", "S1"} <= rules  # the warehouse-wide rules ran across both years


@contextmanager
def home_at(path: Path) -> Iterator[Path]:
    """DAGSTER_HOME set to ``path`` (a govinfo instance) for the duration."""
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(path)
    try:
        yield settings.ensure_dagster_home()
    finally:
        if before is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = before


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return two_years(tmp_path_factory.mktemp("two_years") / "raw")


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """One plain run, in process, over both years, into a DuckDB file."""
    base = tmp_path_factory.mktemp("reference")
    url = f"duckdb:///{base / 'ref.duckdb'}"
    with home_at(base / "dagster_home"):
        assert launch.run_pipeline(str(corpus), url, [2019, 2020]).success
    ref = contents(url)
    expected_totals(ref)
    return ref


@contextmanager
def scratch_database() -> Iterator[str]:
    """One more PostgreSQL database (like the pg_url fixture), dropped afterwards."""
    name = f"govinfo_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def step_events(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """Per step: when it started and ended, and the Celery worker that ran it (if any)."""
    steps: dict[str, dict] = {}
    for rec in instance.all_logs(run_id):
        ev = rec.dagster_event
        if ev is None or not rec.step_key:
            continue
        step = steps.setdefault(rec.step_key, {})
        if ev.event_type == dg.DagsterEventType.STEP_START:
            step["start"] = rec.timestamp
        elif ev.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            step["end"] = rec.timestamp
        elif ev.event_type == dg.DagsterEventType.ENGINE_EVENT and "in celery worker" in (ev.message or ""):
            meta = ev.engine_event_data.metadata
            step["worker"] = meta["Celery worker"].value
    return steps


STEPS = {"raw_files", "normalized", "facts", "warehouse_tables", "review__reviewed_results"}  # the ingest job's steps


# --- the pool ----------------------------------------------------------------------------------------------------


def test_the_warehouse_writer_pool_is_limited_in_the_instance_govinfo_creates(dagster_home):
    from govinfo_pipeline.definitions import defs

    with dg.DagsterInstance.get() as instance:
        pools = instance.get_concurrency_config().pool_config
        assert pools.pool_granularity.value == "op" and pools.default_pool_limit == 1
        assert instance.event_log_storage.supports_global_concurrency_limits
    node = defs().resolve_asset_graph().get(dg.AssetKey(["warehouse", "reports"]))
    assert node.pools == {"warehouse_writer"}


def test_an_older_govinfo_instance_gets_the_pool_settings(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("# Written by govinfo. Telemetry is off.\ntelemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    settings.ensure_dagster_home()
    text = (home / "dagster.yaml").read_text()
    assert "concurrency:" in text and "telemetry:\n  enabled: false" in text
    custom = "telemetry:\n  enabled: false\n"  # a file someone wrote: left alone
    (home / "dagster.yaml").write_text(custom)
    settings.ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == custom


def test_executor_is_chosen_in_run_config():
    from govinfo_pipeline.defs.jobs import resolved_ingest_job

    job = resolved_ingest_job()
    assert job.executor_def.name == "govinfo"
    assert launch.executor_config("celery", queue="q")["celery"]["config_source"] == {"task_default_queue": "q"}
    assert "forkserver" in launch.executor_config("multiprocess")["multiprocess"]["start_method"]
    for name in ("in_process", "multiprocess", "celery"):
        assert job.executor_def.config_schema.config_type.fields[name]  # one branch per executor


def test_a_killed_govinfo_run_gives_back_its_pool_slot(dagster_home):
    """A run whose process died (SIGKILL in its warehouse step) would hold the warehouse_writer slot for ever;
    the next `govinfo run` marks it failed and frees the slot."""
    import socket

    from govinfo_pipeline.defs.jobs import resolved_ingest_job

    gone = subprocess.Popen(["true"])
    gone.wait()
    with dg.DagsterInstance.get() as instance:
        run = instance.create_run_for_job(
            resolved_ingest_job(),
            status=dg.DagsterRunStatus.STARTED,
            tags={"govinfo/host": socket.gethostname(), "govinfo/pid": str(gone.pid)},
        )
        alive = instance.create_run_for_job(
            resolved_ingest_job(),
            status=dg.DagsterRunStatus.STARTED,
            tags={"govinfo/host": socket.gethostname(), "govinfo/pid": str(os.getpid())},
        )
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("warehouse_writer")
        assert storage.claim_concurrency_slot("warehouse_writer", run.run_id, "warehouse_tables").is_claimed
        assert storage.get_concurrency_info("warehouse_writer").active_slot_count == 1
        assert launch.release_dead_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED  # its process lives
        assert storage.get_concurrency_info("warehouse_writer").active_slot_count == 0


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_warehouse_writers_exclude_each_other(backend, tmp_path, request):
    """The locks themselves: while one session writes, another writer waits (here: times out); a PostgreSQL
    reader does not wait, a DuckDB one does (DuckDB: one process has the file open at a time)."""
    from govinfo_pipeline.store.sessions import open_warehouse

    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"duckdb:///{tmp_path / 'wh.duckdb'}"
    with open_warehouse(url, write=True) as engine:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM reports").scalar() == 0
        with pytest.raises(TimeoutError):
            with open_warehouse(url, write=True, timeout=0.5):
                pass
        if backend == "postgresql":
            with open_warehouse(url, timeout=5):
                pass
        else:
            with pytest.raises(TimeoutError):
                with open_warehouse(url, timeout=0.5):
                    pass
    with open_warehouse(url, write=True, timeout=5):  # free again
        pass


# --- several years at once ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_years_as_concurrent_runs_on_one_duckdb_file(corpus, reference, dagster_home, tmp_path, capsys):
    """`govinfo run --parallel 2 --executor multiprocess`: the years run as two runs at once, each step in its
    own process, all sharing one DuckDB file. Both succeed, the warehouse steps take turns (the pool), and
    the warehouse holds exactly what one plain run writes."""
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    code = cli.main(
        ["run", "--input", str(corpus), "--warehouse", url, "--parallel", "2", "--executor", "multiprocess"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(2019) succeeded" in out and "(2020) succeeded" in out
    assert "run 2019: 5 files seen = 5 reports + 0 rejections (balanced)" in out
    assert_same_contents(url, reference)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"govinfo/launched_by": "cli"}))
        assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        steps = {r.run_id: step_events(instance, r.run_id) for r in runs}
        # the runs overlapped: each started before the other ended
        spans = [(min(s["start"] for s in st.values()), max(s["end"] for s in st.values())) for st in steps.values()]
        assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1], spans
        # ... but their warehouse steps did not: the warehouse_writer pool let one in at a time
        (a, b) = sorted((st["warehouse_tables"]["start"], st["warehouse_tables"]["end"]) for st in steps.values())
        assert a[1] <= b[0], (a, b)
        # every step ran in a child process of its own
        for run in runs:
            pids = {
                rec.step_key: rec.dagster_event.pid
                for rec in instance.all_logs(run.run_id)
                if rec.dagster_event and rec.dagster_event.event_type == dg.DagsterEventType.STEP_START
            }
            assert set(pids) == STEPS and len(set(pids.values())) == len(STEPS), pids


def govinfo_run(folder: Path, url: str, home: Path, year: int) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "govinfo_pipeline.cli",
            "run",
            "--input",
            str(folder),
            "--warehouse",
            url,
            "--year",
            str(year),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_runs_without_a_shared_instance_write_one_postgresql_warehouse_at_once(corpus, reference, tmp_path, pg_url):
    """Two `govinfo run` processes with separate Dagster instances (so no pool between them) write different
    years into the same PostgreSQL warehouse at the same time: the warehouse's own advisory locks keep every
    row, once. (DuckDB: the first test above, where the steps of both runs open the one file at once.)"""
    url = pg_url
    procs = [govinfo_run(corpus, url, tmp_path / f"home_{year}", year) for year in (2019, 2020)]
    try:
        outs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out + err
    assert_same_contents(url, reference)


# --- Celery ------------------------------------------------------------------------------------------------------


class Workers:
    """``dagster-celery worker start`` processes, each in a process group of its own."""

    def __init__(self, names: list[str], queue: str, home: Path, folder: Path):
        self.names, self.queue, self.folder = names, queue, folder
        self.config = folder / "celery.yaml"
        self.config.write_text(f"execution:\n  config:\n    broker: '{BROKER}'\n    backend: 'rpc://'\n")
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "DAGSTER_DISABLE_TELEMETRY": "1",
        }
        self.procs: list[subprocess.Popen] = []

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def start(self) -> None:
        for name in self.names:
            with self.log(name).open("wb") as fh:
                self.procs.append(
                    subprocess.Popen(
                        [
                            str(VENV_BIN / "dagster-celery"),
                            "worker",
                            "start",
                            "-A",
                            "dagster_celery.app",
                            "-y",
                            str(self.config),
                            "-n",
                            name,
                            "-q",
                            self.queue,
                            "--loglevel",
                            "INFO",
                            "--",
                            "--concurrency=1",
                            "--without-mingle",
                            "--without-gossip",
                        ],
                        cwd=ROOT,
                        env=self.env,
                        stdout=fh,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(
                f"{name}@" in text and " ready." in text
                for name in self.names
                for text in [self.log(name).read_text(errors="replace")]
            ):
                return
            for p, name in zip(self.procs, self.names, strict=True):
                assert p.poll() is None, f"worker {name} exited:\n{self.log(name).read_text(errors='replace')}"
            time.sleep(0.5)
        pytest.fail(
            "celery workers not ready:\n"
            + "\n".join(self.log(n).read_text(errors="replace")[-2000:] for n in self.names)
        )

    def alive(self) -> set[str]:
        """The workers that answer a ping through the broker."""
        from celery import Celery

        app = Celery(broker=BROKER, backend="rpc://")
        try:
            replies = app.control.ping(timeout=5)  # every worker on the broker answers; ours are picked out
        finally:
            app.close()
        return {name.split("@")[0] for reply in replies for name in reply} & set(self.names)

    def stop(self) -> None:
        for p in self.procs:
            with_group(p, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with_group(p, signal.SIGKILL)  # the whole group: celery's own children too
            p.wait(timeout=10)


def with_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the leader's pid
    except ProcessLookupError:
        pass


@pytest.mark.slow
def test_celery_workers_run_the_steps_into_postgresql(corpus, dagster_home, pg_url, tmp_path):
    """Two Celery workers (RabbitMQ broker) share the steps of two concurrent runs (one per year); the
    PostgreSQL warehouse they fill equals a single-process run of the same input into another database."""
    queue = f"govinfo-test-{uuid.uuid4().hex[:8]}"  # this test's own queue: other workers on the broker stay out
    names = [f"govinfo-w1-{queue[-8:]}", f"govinfo-w2-{queue[-8:]}"]
    launch.prepare_instance()  # the workers open the instance as they start
    workers = Workers(names, queue, dagster_home, tmp_path)
    try:
        workers.start()
        workers.wait_ready()
        assert workers.alive() == set(names)
        executor = launch.executor_config("celery", broker=BROKER, backend="rpc://", queue=queue)
        outcomes = launch.run_years(str(corpus), pg_url, [2019, 2020], parallel=2, executor=executor)
        assert [o["success"] for o in outcomes] == [True, True], outcomes
        assert workers.alive() == set(names)  # both still up after the work
        with dg.DagsterInstance.get() as instance:
            ran_on = {}
            for o in outcomes:
                steps = step_events(instance, o["run_id"])
                assert set(steps) == STEPS
                for key, step in steps.items():
                    assert "worker" in step, f"{key} of {o['year']} did not run on a Celery worker"
                    ran_on[(o["year"], key)] = step["worker"].split("@")[0]
        assert set(ran_on.values()) == set(names), ran_on  # both workers took steps
        logs = {n: workers.log(n).read_text(errors="replace") for n in names}
        for name in names:
            assert "Task execute_plan[" in logs[name] and " succeeded in " in logs[name], logs[name][-3000:]
    finally:
        workers.stop()
    assert all(p.poll() is not None for p in workers.procs)

    with scratch_database() as single:
        with home_at(tmp_path / "home_single"):
            assert launch.run_pipeline(str(corpus), single, [2019, 2020]).success
        ref = contents(single)
        expected_totals(ref)
        assert_same_contents(pg_url, ref)
