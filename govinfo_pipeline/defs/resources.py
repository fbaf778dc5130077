"""Resources: the input folder, the warehouse and the batch IO manager."""

import contextlib
import fcntl
import hashlib
import logging
import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from govinfo_pipeline import settings
from govinfo_pipeline.lib import warehouse


class SourceFolder(dg.ConfigurableResource):
    """The folder of raw report files."""

    path: str
    max_file_bytes: int = 200 * 1024 * 1024


LOCK_TIMEOUT_SECONDS = 3600.0
_log = logging.getLogger("govinfo_pipeline.lock")


def duckdb_path(url: str) -> Path | None:
    """The file of a DuckDB warehouse URL; None for PostgreSQL or an in-memory DuckDB."""
    if url.startswith("duckdb:///") and not url.startswith("duckdb:///:memory:"):
        return Path(url.removeprefix("duckdb:///").split("?", 1)[0])
    return None


def _waiting(what: str, timeout: float) -> Iterator[None]:
    """Yields once per try, sleeping between tries; raises TimeoutError after ``timeout`` seconds."""
    started, told = time.monotonic(), False
    while True:
        yield
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}; another run still holds it")
        if not told:
            _log.info("waiting for %s (another run holds it)", what)
            told = True
        time.sleep(0.2)


@contextlib.contextmanager
def duckdb_lock(url: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold ``<file>.lock`` while this process has a DuckDB warehouse open.

    DuckDB lets one process at a time open a file for writing; a second one fails at once. Runs that
    share a DuckDB file (two years at once, a run beside the UI) take turns through this lock instead.
    A no-op for PostgreSQL. The lock is an flock, so it holds between processes of one machine.
    """
    path = duckdb_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as fh:
        for _ in _waiting(f"the DuckDB warehouse {path.name}", timeout):
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                continue
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pg_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"govinfo_pipeline:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def pg_lock(engine: sa.Engine, name: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """A PostgreSQL session advisory lock named ``name``, held on its own connection; a no-op elsewhere."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = _pg_key(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for _ in _waiting(f"the warehouse lock {name}", timeout):
            if conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar():
                break
        try:
            yield
        finally:
            with contextlib.suppress(sa.exc.DBAPIError):  # a lost connection has released it already
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")


@contextlib.contextmanager
def open_warehouse(url: str, write: bool = False, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[sa.Engine]:
    """An engine on the warehouse, its schema checked, safe beside other runs using the same warehouse.

    DuckDB: the whole session holds the file lock (one process at a time). PostgreSQL: the schema check
    (which re-creates the views) takes turns; with ``write`` the session also holds the writer lock, so
    that the warehouse-wide steps after a batch's write (agencies, X1 across years, S1 similarity) never
    interleave with another run's and lose or double rows.
    """
    with duckdb_lock(url, timeout):
        engine = warehouse.connect(url)
        try:
            with pg_lock(engine, "schema", timeout):
                warehouse.ensure_schema(engine)
            with pg_lock(engine, "writer", timeout) if write else contextlib.nullcontext():
                yield engine
        finally:
            engine.dispose()


class Warehouse(dg.ConfigurableResource):
    """The SQL warehouse, by SQLAlchemy URL (DuckDB file by default, PostgreSQL in production)."""

    url: str
    lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS

    def session(self, write: bool = False) -> contextlib.AbstractContextManager[sa.Engine]:
        """``with warehouse.session() as engine:`` — see ``open_warehouse``."""
        return open_warehouse(self.url, write, self.lock_timeout_seconds)

    def engine(self) -> sa.Engine:
        """An engine without the cross-run locks (callers in one process only)."""
        engine = warehouse.connect(self.url)
        warehouse.ensure_schema(engine)
        return engine


class BatchIOManager(dg.ConfigurableIOManager):
    """Pickles each stage's output per asset and partition range.

    Dagster's filesystem IO manager stores one file per partition and refuses an output that
    covers several; our assets take a whole batch of partitions (a year, or a backfill of years)
    in one run, so the batch is stored under its range.
    """

    base_dir: str

    def _path(self, context: dg.InputContext | dg.OutputContext) -> Path:
        if context.has_asset_partitions:
            r = context.asset_partition_key_range
            part = r.start if r.start == r.end else f"{r.start}-{r.end}"
        else:
            part = "all"
        return Path(self.base_dir, *context.asset_key.path, f"{part}.pkl")

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()} has no stored output for these partitions ({path.name}); "
                "materialize it first"
            )
        with path.open("rb") as fh:
            return pickle.load(fh)


def batch_dir() -> str:
    """Where the stage outputs are pickled: ``$GOVINFO_BATCH_DIR``, else under DAGSTER_HOME. Every process that
    runs a step (child processes, Celery workers, Kubernetes pods) must see the same folder."""
    return os.environ.get("GOVINFO_BATCH_DIR") or str(settings.dagster_home() / "storage" / "batches")


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={
        "source": SourceFolder(path=settings.input_dir(), max_file_bytes=settings.max_file_bytes()),
        "warehouse": Warehouse(url=settings.warehouse_url()),
        "io_manager": BatchIOManager(base_dir=batch_dir()),
    })
