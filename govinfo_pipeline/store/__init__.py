"""The SQL warehouse, on DuckDB (embedded default) and PostgreSQL (production) alike.

``schema`` holds the tables, ``views`` the analysts' views, ``sessions`` engines and locks, ``writes`` the
per-report transactional writes, ``crossrules`` the reads and writes of the rules that span reports,
``reader`` the read-only role, ``migrate`` the Alembic migrations. This package re-exports what callers use.
"""

from govinfo_pipeline.store.audit import warehouse_audit
from govinfo_pipeline.store.crossrules import copy_paste, cross_year
from govinfo_pipeline.store.reader import grant_reader
from govinfo_pipeline.store.schema import (
    BATCH_TABLES,
    REPORT_TABLES,
    agencies,
    agency_aliases,
    metadata,
    prose_numbers,
    quality_results,
    quote_cols,
    rejections,
    report_cells,
    report_history,
    report_sections,
    reports,
    run_accounting,
    signatures,
    similarity,
    validations,
)
from govinfo_pipeline.store.sessions import (
    LOCK_TIMEOUT_SECONDS,
    SchemaBehind,
    connect,
    duckdb_lock,
    duckdb_path,
    ensure_schema,
    open_warehouse,
    pg_lock,
)
from govinfo_pipeline.store.views import view_sql
from govinfo_pipeline.store.writes import account, assemble, chunks, existing_fingerprints, record_validation, write

__all__ = [
    "BATCH_TABLES",
    "LOCK_TIMEOUT_SECONDS",
    "REPORT_TABLES",
    "SchemaBehind",
    "account",
    "agencies",
    "agency_aliases",
    "assemble",
    "chunks",
    "connect",
    "copy_paste",
    "cross_year",
    "duckdb_lock",
    "duckdb_path",
    "ensure_schema",
    "existing_fingerprints",
    "grant_reader",
    "metadata",
    "open_warehouse",
    "pg_lock",
    "prose_numbers",
    "quality_results",
    "quote_cols",
    "record_validation",
    "rejections",
    "report_cells",
    "report_history",
    "report_sections",
    "reports",
    "run_accounting",
    "signatures",
    "similarity",
    "validations",
    "view_sql",
    "warehouse_audit",
    "write",
]
