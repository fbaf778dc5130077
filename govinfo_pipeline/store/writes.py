"""Writing a batch: every report's rows in one transaction, the ledger, the validations.

Bulk inserts take each backend's fast path: DataFrame registration for DuckDB, COPY for PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline import settings
from govinfo_pipeline.parse.limits import safe_str
from govinfo_pipeline.store import failpoints
from govinfo_pipeline.store.schema import (
    BATCH_TABLES,
    REPORT_TABLES,
    _q,
    agencies,
    agency_aliases,
    rejections,
    report_history,
    reports,
    run_accounting,
    validations,
)

# Reports per transaction: each report is whole in one, and batches stay fast.


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def storable(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with every string storable as text: a NUL (which PostgreSQL refuses) dropped, a lone surrogate
    (which neither backend can encode) as U+FFFD. Checked a column at a time in one pass; copied only when needed."""
    fixed = None
    for col in df.columns:
        if df[col].dtype != object:
            continue
        values = df[col].tolist()
        try:
            joined = "\x01".join(filter(None, values))
        except TypeError:  # not all strings (NaN)
            joined = "\x01".join(v for v in values if isinstance(v, str))
        if "\x00" in joined or not _encodable(joined):
            fixed = df.copy() if fixed is None else fixed
            fixed[col] = df[col].map(lambda v: safe_str(v) if isinstance(v, str) else v)
    return df if fixed is None else fixed


def _bulk_insert(conn: sa.Connection, table: sa.Table, df: pd.DataFrame) -> None:
    """Insert a DataFrame through the backend's fast path, inside the caller's transaction."""
    if df.empty:
        return
    cols = [c.name for c in table.columns]
    df = storable(df[cols])
    name = conn.dialect.name
    if name == "duckdb":
        duck = conn.connection.driver_connection
        assert duck is not None  # a connection in use has its DBAPI connection
        view = f"_govinfo_insert_{table.name}"
        duck.register(view, df)
        try:
            quoted = ", ".join(_q(conn.engine, c) for c in cols)
            duck.execute(f"INSERT INTO {table.name} ({quoted}) SELECT {quoted} FROM {view}")
        finally:
            duck.unregister(view)
    elif name == "postgresql":
        quoted = ", ".join(_q(conn.engine, c) for c in cols)
        records = df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
        pg = conn.connection.driver_connection
        assert pg is not None  # a connection in use has its DBAPI connection
        with pg.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
                for rec in records:
                    copy.write_row(rec)
    else:
        conn.execute(table.insert(), df.astype(object).where(df.notna(), None).to_dict("records"))


def chunks(items: list, size: int) -> Iterable[list]:
    """Consecutive slices of at most ``size`` items (SQL IN lists, transactions)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _delete_reports(conn: sa.Connection, report_ids: list[str]) -> None:
    for table in (*REPORT_TABLES, reports):
        conn.execute(table.delete().where(table.c.report_id.in_(report_ids)))


def _keep_history(conn: sa.Connection, held: pd.DataFrame, incoming: pd.DataFrame, now: dt.datetime) -> None:
    """Record the reports that new versions of the same files (or their rejections) replace."""
    old = held.merge(incoming[["source_path", "source_sha256", "report_id"]], on="source_path", suffixes=("", "_new"))
    old = old[old["source_sha256"] != old["source_sha256_new"]]
    if old.empty:
        return
    _bulk_insert(
        conn,
        report_history,
        pd.DataFrame(
            {
                "source_path": old["source_path"],
                "source_sha256": old["source_sha256"],
                "report_id": old["report_id"],
                "loaded_at": old["loaded_at"],
                "replaced_at": now,
                "replaced_by": old["report_id_new"],
            }
        ),
    )


def _add_agencies(conn: sa.Connection, chunk: pd.DataFrame) -> None:
    """Register the bodies and spellings a chunk of reports brings that the warehouse does not know yet."""
    from govinfo_pipeline.parse.agencies import level

    named = chunk.dropna(subset=["agency_id", "agency_name"])
    if named.empty:
        return
    ids = sorted(set(named["agency_id"]))
    known = {r[0] for r in conn.execute(sa.select(agencies.c.agency_id).where(agencies.c.agency_id.in_(ids)))}
    new = named[~named["agency_id"].isin(known)].drop_duplicates("agency_id")
    _bulk_insert(
        conn,
        agencies,
        pd.DataFrame(
            {
                "agency_id": new["agency_id"],
                "name": new["agency_name"],
                "region": new["region"],
                "level": new["agency_name"].map(level),
            }
        ),
    )
    # Each spelling's first report is the earliest (by year, then id), whatever order the runs came in.
    spellings = named.sort_values(["report_year", "report_id"], na_position="last").drop_duplicates("agency_name")
    first = reports.alias("first")
    held = {
        alias: _earliest_key(year, rid)
        for alias, year, rid in conn.execute(
            sa.select(agency_aliases.c.alias, first.c.report_year, first.c.report_id)
            .select_from(agency_aliases.outerjoin(first, first.c.report_id == agency_aliases.c.first_report_id))
            .where(agency_aliases.c.alias.in_(spellings["agency_name"].tolist()))
        )
    }
    fresh = spellings[~spellings["agency_name"].isin(held)]
    _bulk_insert(
        conn,
        agency_aliases,
        pd.DataFrame(
            {
                "alias": fresh["agency_name"],
                "agency_id": fresh["agency_id"],
                "name_source": fresh["agency_name_source"],
                "first_report_id": fresh["report_id"],
            }
        ),
    )
    for r in spellings[spellings["agency_name"].isin(held)].itertuples(index=False):
        if _earliest_key(r.report_year, r.report_id) < held[r.agency_name]:  # an earlier year came in later
            conn.execute(
                agency_aliases.update()
                .where(agency_aliases.c.alias == r.agency_name)
                .values(first_report_id=r.report_id)
            )


def _earliest_key(year: Any, report_id: Any) -> tuple[int, str]:
    """Order of reports for a spelling's first report: year (unknown last), then id; a report gone sorts last."""
    if report_id is None:
        return (10**6, "~")
    return (10**6 if year is None or pd.isna(year) else int(year), str(report_id))


def account(engine: sa.Engine, files: pd.DataFrame, run_id: str | None, partitions: str | None) -> dict:
    """The run's invariant, checked in the warehouse and kept: files seen = reports loaded + rejections."""
    paths = files["source_path"].tolist()
    loaded = rejected = 0
    with engine.begin() as conn:
        for chunk in chunks(paths, 1000):
            loaded += conn.execute(
                sa.select(sa.func.count()).select_from(reports).where(reports.c.source_path.in_(chunk))
            ).scalar_one()
            rejected += conn.execute(
                sa.select(sa.func.count()).select_from(rejections).where(rejections.c.source_path.in_(chunk))
            ).scalar_one()
        row = {
            "run_id": run_id,
            "partitions": partitions,
            "files_seen": len(paths),
            "reports_loaded": int(loaded),
            "rejections": int(rejected),
            "balanced": len(paths) == loaded + rejected,
            "checked_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        }
        conn.execute(run_accounting.insert().values(**row))
    return row


def existing_fingerprints(
    engine: sa.Engine, paths: list[str] | None = None, ids: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the warehouse holds now: one row per report, and one per rejection; with ``paths`` (and ``ids``),
    only the reports and rejections of those files (and the reports with those ids), looked up by key instead
    of reading a national year's rows to write one report."""
    rep_cols = (
        reports.c.report_id,
        reports.c.source_path,
        reports.c.source_sha256,
        reports.c.parser_version,
        reports.c.loaded_at,
        reports.c.source_size,
        reports.c.source_mtime_ns,
        reports.c.report_year,
        reports.c.source_format,
    )
    rej_cols = (rejections.c.source_path, rejections.c.source_sha256, rejections.c.reason, rejections.c.duplicate_of)
    with engine.connect() as conn:
        if paths is None:
            return pd.read_sql(sa.select(*rep_cols), conn), pd.read_sql(sa.select(*rej_cols), conn)
        paths = sorted(set(paths))
        reps = [
            pd.read_sql(sa.select(*rep_cols).where(reports.c.source_path.in_(part)), conn)
            for part in chunks(paths, 1000)
        ]
        reps += [
            pd.read_sql(sa.select(*rep_cols).where(reports.c.report_id.in_(part)), conn)
            for part in chunks(sorted(set(ids or [])), 1000)
        ]
        rej = [
            pd.read_sql(sa.select(*rej_cols).where(rejections.c.source_path.in_(part)), conn)
            for part in chunks(paths, 1000)
        ]
    reps, rej = [r for r in reps if not r.empty], [r for r in rej if not r.empty]
    held = (
        pd.concat(reps, ignore_index=True).drop_duplicates("report_id", ignore_index=True)
        if reps
        else pd.DataFrame(columns=[c.name for c in rep_cols])
    )
    return held, pd.concat(rej, ignore_index=True) if rej else pd.DataFrame(columns=[c.name for c in rej_cols])


def write(
    engine: sa.Engine,
    batch: dict[str, pd.DataFrame],
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write a batch of reports and rejections, each report whole in one transaction; ``progress`` is told
    how many reports each transaction settled (the unchanged ones first).

    Reports already held with the same id, path and parser version are left untouched, so a
    re-run on unchanged input changes nothing. A file whose bytes changed replaces its old report.
    """
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    reps = batch["reports"]
    rej = batch.get("rejections", pd.DataFrame(columns=["source_path"]))
    held, held_rej = existing_fingerprints(  # only what this batch's files and reports can meet
        engine, paths=reps["source_path"].tolist() + rej["source_path"].tolist(), ids=reps["report_id"].tolist()
    )
    key = ["report_id", "source_path", "parser_version"]
    unchanged = reps.merge(held[key], on=key, how="inner")["report_id"]
    todo = reps[~reps["report_id"].isin(unchanged)]
    stats = {"reports_written": 0, "reports_unchanged": int(len(unchanged)), "rejections_written": 0}
    progress = progress or (lambda n: None)
    progress(len(unchanged))

    tables = {name: BATCH_TABLES[name] for name in ("cells", "sections", "results", "claims")}
    # Each report's row positions, found once, so that a chunk's rows are taken without scanning the frame
    # (or copying it: a batch's cells are millions of rows).
    positions = {
        name: batch[name].groupby("report_id", sort=False).indices
        for name in tables
        if name in batch and not batch[name].empty
    }
    held_ids = set(held["report_id"])
    for ids in chunks(list(todo["report_id"]), settings.current().write_chunk):
        chunk = todo[todo["report_id"].isin(ids)]
        # Reports that an earlier version of the same file produced are replaced in the same transaction.
        replaced = held.loc[held["source_path"].isin(chunk["source_path"]), "report_id"].tolist()
        with engine.begin() as conn:
            _keep_history(conn, held, chunk, now)
            stale = (set(ids) & held_ids) | set(replaced)  # a new report has nothing to delete
            if stale:
                _delete_reports(conn, sorted(stale))
            conn.execute(rejections.delete().where(rejections.c.source_path.in_(chunk["source_path"].tolist())))
            _bulk_insert(conn, reports, chunk.assign(loaded_at=now))
            _add_agencies(conn, chunk)
            for name, rows_of in positions.items():
                taken = [rows_of[r] for r in ids if r in rows_of]
                if not taken:
                    continue
                part = batch[name].take(np.sort(np.concatenate(taken))).reset_index(drop=True)
                if name == "results":
                    part = part.assign(checked_at=now)
                _bulk_insert(conn, tables[name], part)
            failpoints.hit("warehouse.before_commit")
        stats["reports_written"] += len(ids)
        progress(len(ids))

    if not rej.empty:
        merged = rej.merge(held_rej, on=["source_path"], how="left", suffixes=("", "_held"))
        same = (
            (merged["source_sha256"].fillna("") == merged["source_sha256_held"].fillna(""))
            & (merged["reason"] == merged["reason_held"])
            & (merged["duplicate_of"].fillna("") == merged["duplicate_of_held"].fillna(""))
        )
        new_rej = rej[~rej["source_path"].isin(merged.loc[same, "source_path"])]
        for paths in chunks(list(new_rej["source_path"]), settings.current().write_chunk):
            part = new_rej[new_rej["source_path"].isin(paths)]
            stale = held.loc[held["source_path"].isin(paths), "report_id"].tolist()
            with engine.begin() as conn:
                if stale:  # the file used to be a report; now it is rejected
                    _keep_history(conn, held, part.assign(report_id=None), now)
                    _delete_reports(conn, stale)
                conn.execute(rejections.delete().where(rejections.c.source_path.in_(paths)))
                _bulk_insert(conn, rejections, part.assign(rejected_at=now))
            stats["rejections_written"] += len(paths)
    return stats


def record_validation(engine: sa.Engine, row: dict) -> None:
    """Keep one suite's validation result (GX) in the warehouse."""
    with engine.begin() as conn:
        conn.execute(validations.insert().values(**row, validated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))


def assemble(normalized: dict[str, pd.DataFrame], facts: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The batch the warehouse writes: normalized tables with quality status and rule results."""
    reps = normalized["reports"].drop(columns=["quality_status"]).merge(facts["status"], on="report_id", how="left")
    return {
        "reports": reps,
        "cells": normalized["cells"],
        "sections": normalized["sections"],
        "claims": normalized["claims"],
        "results": facts["results"],
        "rejections": normalized["rejections"],
    }
