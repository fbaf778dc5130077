"""Analysts' queries: one statement, on a session that can read the warehouse and nothing else, in bounded time.

The limits are the engine's, not string filters. DuckDB: the file is opened read-only, with external access off
(no other file can be read or written, nothing attached, no extension installed or loaded) and its configuration
locked, so a query cannot turn them back on. PostgreSQL: the session is read-only by default and has a statement
timeout; the `grant-reader` role adds that it may only read (see ``reader``).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from govinfo_pipeline.store.sessions import read_only_engine

DEFAULT_TIMEOUT_SECONDS = 60.0


class QueryRefused(ValueError):
    """The input is not one statement."""


@dataclasses.dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool  # rows beyond the limit were left unread


def statements(sql: str) -> int:
    """How many statements ``sql`` holds (DuckDB's parser, which is PostgreSQL's: it reads both dialects); 1 when
    it cannot be parsed, so that the engine itself reports the syntax error."""
    import duckdb

    try:
        return len(duckdb.extract_statements(sql))
    except duckdb.Error:
        return 1


def run(url: str, sql: str, max_rows: int = 0, timeout: float | None = DEFAULT_TIMEOUT_SECONDS) -> QueryResult:
    """Run one statement on a read session; at most ``max_rows`` rows are read (0: all); a statement still
    running after ``timeout`` seconds is interrupted (TimeoutError)."""
    n = statements(sql)
    if n != 1:
        raise QueryRefused(f"one SQL statement per query, not {n}: run them one at a time")
    engine = read_only_engine(url, timeout)
    timer = None
    interrupted = threading.Event()
    raw = engine.raw_connection()  # the SQL goes to the driver as written: no bind parameters read into it
    try:
        if timeout and engine.dialect.name == "duckdb":  # PostgreSQL enforces statement_timeout itself
            driver = raw.driver_connection
            assert driver is not None

            def stop() -> None:
                interrupted.set()
                driver.interrupt()

            timer = threading.Timer(timeout, stop)
            timer.start()
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            fetched = (cursor.fetchmany(max_rows + 1) if max_rows else cursor.fetchall()) if columns else []
            rows = [tuple(r) for r in fetched]
        except Exception as exc:
            if interrupted.is_set() or "statement timeout" in str(exc):
                raise TimeoutError(f"the query ran longer than {timeout:g} s and was stopped") from exc
            raise
    finally:
        if timer is not None:
            timer.cancel()
        raw.close()
        engine.dispose()
    more = bool(max_rows) and len(rows) > max_rows
    return QueryResult(columns, rows[:max_rows] if more else rows, more)
