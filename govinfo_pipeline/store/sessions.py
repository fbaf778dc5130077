"""Opening the warehouse: engines, the schema check, and the locks that let runs take turns."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from govinfo_pipeline import settings
from govinfo_pipeline.store.views import view_marks, view_sql


def connect(url: str) -> sa.Engine:
    """An engine for ``url``; DuckDB files get their folder created."""
    if url.startswith("duckdb:///") and not url.startswith("duckdb:///:memory:"):
        Path(url.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    if engine.dialect.name == "duckdb":
        sa.event.listen(engine, "connect", _fewer_checkpoints)
    return engine


def _fewer_checkpoints(dbapi_connection, _record) -> None:
    """DuckDB checkpoints when its write-ahead log passes 16 MB, and each checkpoint writes the primary-key
    indexes out whole: with millions of cells, commits then grow slower batch after batch. The log is as
    durable as the file; checkpoints come every GOVINFO_DUCKDB_CHECKPOINT (default 1 GB) of log and when the last
    connection closes."""
    threshold = settings.current().duckdb_checkpoint  # a size, checked when read
    dbapi_connection.execute(f"SET checkpoint_threshold = '{threshold}'")


class SchemaBehind(RuntimeError):
    """The warehouse's schema is not at this govinfo's latest migration."""


def ensure_schema(engine: sa.Engine) -> None:
    """Build a new warehouse through the migrations, refuse one whose schema is behind, (re)create views."""
    from govinfo_pipeline.store import migrate

    existing = set(sa.inspect(engine).get_table_names())
    if "reports" not in existing:
        migrate.upgrade(engine)
    else:
        at, latest = migrate.current(engine), migrate.head()
        if at != latest:
            raise SchemaBehind(
                f"the warehouse schema is at migration {at or '(unversioned)'}, this govinfo needs {latest}: "
                "run `govinfo db upgrade` first (it migrates in place, keeping every row)"
            )
    views = view_sql(engine)
    marks = {name: "govinfo:" + hashlib.sha256(sql.encode()).hexdigest()[:16] for name, sql in views.items()}
    with engine.begin() as conn:
        if view_marks(conn, list(views)) == marks:  # every view as this govinfo defines it: nothing to write
            return
        for name, sql in views.items():
            conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
            conn.exec_driver_sql(f"CREATE VIEW {name} AS {sql}")
            conn.exec_driver_sql(f"COMMENT ON VIEW {name} IS '{marks[name]}'")


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
            if conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                break
        try:
            yield
        finally:
            with contextlib.suppress(sa.exc.DBAPIError):  # a lost connection has released it already
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextlib.contextmanager
def open_warehouse(
    url: str, write: bool = False, timeout: float = LOCK_TIMEOUT_SECONDS, check_schema: bool = True
) -> Iterator[sa.Engine]:
    """An engine on the warehouse, its schema checked (unless the caller checked it already), safe beside other
    runs using the same warehouse.

    DuckDB: the whole session holds the file lock (one process at a time). PostgreSQL: the schema check
    (which re-creates the views) takes turns; with ``write`` the session also holds the writer lock, so
    that the warehouse-wide steps after a batch's write (agencies, X1 across years, S1 similarity) never
    interleave with another run's and lose or double rows.
    """
    with duckdb_lock(url, timeout):
        engine = connect(url)
        try:
            if check_schema:
                with pg_lock(engine, "schema", timeout):
                    ensure_schema(engine)
            with pg_lock(engine, "writer", timeout) if write else contextlib.nullcontext():
                yield engine
        finally:
            engine.dispose()


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be used now: locked by another process, unreachable, corrupt, or its schema behind."""


def redact(url: str) -> str:
    """The URL without its password, to show in messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid URL>"


_DUCKDB_LOCK = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def unavailable(url: str, exc: BaseException) -> WarehouseUnavailable:
    """A one-line account of why the warehouse at ``url`` cannot be used, and what to do about it."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    path = duckdb_path(url)
    lock = _DUCKDB_LOCK.search(text)
    if path is not None and (lock or "Could not set lock on file" in text):
        holder = f"{lock.group(1)} (PID {lock.group(2)})" if lock else "another process"
        return WarehouseUnavailable(
            f"the DuckDB warehouse {path} is locked by {holder}: DuckDB lets one process write a file or several "
            "read it; close that process's connection (an analyst's session, `govinfo query`, the UI) or wait for "
            "it to finish, then run again"
        )
    if isinstance(exc, SchemaBehind | TimeoutError):
        return WarehouseUnavailable(f"cannot use the warehouse at {redact(url)}: {first}")
    if isinstance(exc, sa.exc.OperationalError) and path is None:
        return WarehouseUnavailable(
            f"cannot reach the warehouse at {redact(url)}: {first} (is the server running, and the database created?)"
        )
    return WarehouseUnavailable(f"cannot use the warehouse at {redact(url)}: {type(exc).__name__}: {first}")


DUCKDB_READ_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,  # last: a query cannot change the settings above back
}


def read_only_engine(url: str, timeout: float | None = None) -> sa.Engine:
    """An engine whose sessions can read the warehouse and nothing else: DuckDB opened read-only with external
    access off (no other file read or written, nothing attached, no extension installed or loaded) and its
    configuration locked; PostgreSQL sessions read-only by default, with a statement timeout when given."""
    if url.startswith("duckdb:"):
        return sa.create_engine(url, connect_args={"read_only": True, "config": dict(DUCKDB_READ_CONFIG)})
    options = "-c default_transaction_read_only=on"
    if timeout:
        options += f" -c statement_timeout={int(timeout * 1000)}"
    engine = sa.create_engine(url, connect_args={"options": options}, execution_options={"postgresql_readonly": True})
    return engine.execution_options(postgresql_readonly=True)
