"""The SQL warehouse: schema, views and transactional per-report writes, through SQLAlchemy.

DuckDB (embedded default) and PostgreSQL (production) share this code. Bulk inserts take each
backend's fast path: DataFrame registration for DuckDB, COPY for PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline.lib import codebook, failpoints

metadata = sa.MetaData()

reports = sa.Table(
    "reports", metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("agency_name", sa.Text),
    sa.Column("report_year", sa.Integer),
    sa.Column("template_version", sa.String(16), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("parse_status", sa.String(16), nullable=False),
    sa.Column("quality_status", sa.String(16), nullable=False),
    sa.Column("loaded_at", sa.DateTime, nullable=False),
    sa.Column("encoding", sa.String(32)),
    sa.Column("source_format", sa.String(16)),
    sa.Column("source_size", sa.BigInteger),
    sa.Column("parser_version", sa.String(16)),
    sa.Column("n_cells", sa.Integer),
    sa.Column("parse_notes", sa.Text),
    sa.Column("preamble", sa.Text),
    sa.Column("region", sa.Text),
    sa.Column("source_url", sa.Text),
    sa.Column("agency_id", sa.String(16), index=True),
    sa.Column("source_mtime_ns", sa.BigInteger),  # the file's modification time: unchanged files are not re-read
)

similarity = sa.Table(
    "report_similarity", metadata,
    sa.Column("report_id", sa.String(32), nullable=False, index=True),
    sa.Column("other_report_id", sa.String(32), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),  # previous_year (same body) or same_year (other bodies)
    sa.Column("score", sa.Double, nullable=False),  # estimated Jaccard similarity of the prose's 4-grams
    sa.Column("checked_at", sa.DateTime, nullable=False),
)

signatures = sa.Table(
    "report_signatures", metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("signature", sa.LargeBinary),  # MinHash of the prose (64 × uint64); NULL when too short to judge
)

agencies = sa.Table(
    "agencies", metadata,
    sa.Column("agency_id", sa.String(16), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),  # the name as first seen
    sa.Column("region", sa.Text),
    sa.Column("level", sa.String(16)),  # 乡镇街道, 开发区, 政府, 部门 where the name tells
)

agency_aliases = sa.Table(
    "agency_aliases", metadata,
    sa.Column("alias", sa.Text, primary_key=True),  # every spelling seen
    sa.Column("agency_id", sa.String(16), nullable=False),
)

report_cells = sa.Table(
    "report_cells", metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("section", sa.String(32), primary_key=True),
    sa.Column("row", sa.String(48), primary_key=True),
    sa.Column("col", sa.String(48), primary_key=True),
    sa.Column("value", sa.Double),
    sa.Column("unit", sa.String(8)),
    sa.Column("cell_status", sa.String(8), nullable=False),
    sa.Column("raw_text", sa.Text),
    sa.Column("source_line", sa.Integer),
    sa.Column("source_page", sa.Integer),  # PDF page (1-based)
    sa.Column("source_table", sa.Integer),  # table index in the document (0-based), for HTML, DOCX and PDF
    sa.Column("source_row", sa.Integer),  # row and column in that table's grid, merged cells expanded
    sa.Column("source_col", sa.Integer),
    sa.Column("source_offset", sa.Integer),  # character offset in source_line, where one line holds many cells
    sa.Column("cell_flag", sa.String(16)),  # glued text: 'inferred_split' (cut using the totals) or 'unsplittable'
)

report_sections = sa.Table(
    "report_sections", metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("section_no", sa.Integer, primary_key=True),
    sa.Column("heading", sa.Text),
    sa.Column("body_text", sa.Text),
    sa.Column("source_line", sa.Integer),
)

quality_results = sa.Table(
    "quality_results", metadata,
    sa.Column("report_id", sa.String(32), nullable=False, index=True),
    sa.Column("rule_id", sa.String(16), nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("passed", sa.Boolean),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("expected", sa.Double),
    sa.Column("observed", sa.Double),
    sa.Column("operands", sa.Text),
    sa.Column("cells", sa.Text),  # the cells the rule read, as section.row.col codes
    sa.Column("message", sa.Text),
    sa.Column("checked_at", sa.DateTime, nullable=False),
)

prose_numbers = sa.Table(
    "report_prose_numbers", metadata,
    sa.Column("report_id", sa.String(32), nullable=False, index=True),
    sa.Column("figure", sa.String(32), nullable=False),
    sa.Column("value", sa.Double),
    sa.Column("phrase", sa.Text),
    sa.Column("source_line", sa.Integer),
)

validations = sa.Table(
    "validations", metadata,
    sa.Column("run_id", sa.String(64), index=True),
    sa.Column("suite", sa.String(64), nullable=False),
    sa.Column("asset_key", sa.Text),
    sa.Column("partitions", sa.String(32)),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("critical_failed", sa.Boolean, nullable=False),
    sa.Column("evaluated", sa.Integer),
    sa.Column("unsuccessful", sa.Integer),
    sa.Column("failures", sa.Text),  # JSON list: expectation, severity, kwargs, unexpected_count, examples
    sa.Column("rows", sa.BigInteger),
    sa.Column("seconds", sa.Double),  # the time the validation took
    sa.Column("validated_at", sa.DateTime, nullable=False),
)

report_history = sa.Table(
    "report_history", metadata,
    sa.Column("source_path", sa.Text, nullable=False, index=True),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("report_id", sa.String(32), nullable=False),
    sa.Column("loaded_at", sa.DateTime),
    sa.Column("replaced_at", sa.DateTime, nullable=False),
    sa.Column("replaced_by", sa.String(32)),  # the new report, or NULL when the file is now rejected
)

run_accounting = sa.Table(
    "run_accounting", metadata,
    sa.Column("run_id", sa.String(64), index=True),
    sa.Column("partitions", sa.String(32)),
    sa.Column("files_seen", sa.Integer, nullable=False),
    sa.Column("reports_loaded", sa.Integer, nullable=False),
    sa.Column("rejections", sa.Integer, nullable=False),
    sa.Column("balanced", sa.Boolean, nullable=False),
    sa.Column("checked_at", sa.DateTime, nullable=False),
)


rejections = sa.Table(
    "rejections", metadata,
    sa.Column("source_path", sa.Text, primary_key=True),
    sa.Column("source_sha256", sa.String(64)),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("duplicate_of", sa.String(32)),
    sa.Column("rejected_at", sa.DateTime, nullable=False),
)

# child tables keyed by report_id
REPORT_TABLES = (report_cells, report_sections, quality_results, prose_numbers, similarity, signatures)
# Reports per transaction: each report is whole in one, and batches stay fast.
CHUNK = int(os.environ.get("GOVINFO_WRITE_CHUNK") or 2000)


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
    threshold = os.environ.get("GOVINFO_DUCKDB_CHECKPOINT") or "1GB"
    dbapi_connection.execute(f"SET checkpoint_threshold = '{threshold}'")


def _q(engine: sa.Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


def quote_cols(engine: sa.Engine) -> dict[str, str]:
    """The cell-code columns, quoted for the dialect (``row`` is a keyword in some)."""
    return {"row": _q(engine, "row"), "col": _q(engine, "col")}


def _headline_rows() -> dict[str, tuple[str, ...]]:
    """Row groups summed into v_agency_year, from the codebook."""
    app_rows = [r["row"] for r in codebook.load()["application_rows"]]
    return {
        "applications_received": ("new_received",),
        "carried_over": ("carried_over",),
        "processed": ("total_processed",),
        "granted": ("granted",),
        "partially_granted": ("partially_granted",),
        "denied": tuple(r for r in app_rows if r.startswith("denied_")),
        "unable_to_provide": tuple(r for r in app_rows if r.startswith("unable_")),
        "not_processed": tuple(r for r in app_rows if r.startswith("not_processed_")),
        "other_handling": tuple(r for r in app_rows if r == "other" or r.startswith("other_")),
        "carried_forward": ("carried_forward",),
    }


def view_sql(engine: sa.Engine) -> dict[str, str]:
    """The contract views, quoted for the engine's dialect."""
    row, col = quote_cols(engine).values()
    cells_view = f"""
        SELECT c.report_id, r.agency_name, r.report_year, r.template_version, r.quality_status,
               c.section, c.{row}, c.{col}, c.value, c.unit, c.cell_status, c.raw_text, c.source_line,
               CASE WHEN c.cell_status IN ('blank', 'none') THEN 0 ELSE c.value END AS value_or_zero,
               r.source_path
        FROM report_cells c JOIN reports r ON r.report_id = c.report_id"""

    def total(rows_: tuple[str, ...], section: str = "application") -> str:
        in_list = ", ".join(f"'{r}'" for r in rows_)
        return (f"SUM(CASE WHEN c.section = '{section}' AND c.{row} IN ({in_list}) "
                f"AND c.{col} = 'total' THEN c.value END)")

    figures = ",\n               ".join(f"{total(rows_)} AS {name}" for name, rows_ in _headline_rows().items())
    agency_year = f"""
        SELECT r.report_id, r.agency_name, r.report_year, r.template_version, r.parse_status, r.quality_status,
               {figures},
               {total(("review",), "review_litigation")} AS review_total,
               {total(("litigation_direct", "litigation_after_review"), "review_litigation")} AS litigation_total,
               r.source_path
        FROM reports r LEFT JOIN report_cells c ON c.report_id = r.report_id
        GROUP BY r.report_id, r.agency_name, r.report_year, r.template_version, r.parse_status,
                 r.quality_status, r.source_path"""
    return {"v_cells": cells_view, "v_agency_year": agency_year, **analyst_view_sql(engine)}


class SchemaBehind(RuntimeError):
    """The warehouse's schema is not at this govinfo's latest migration."""


def ensure_schema(engine: sa.Engine) -> None:
    """Build a new warehouse through the migrations, refuse one whose schema is behind, (re)create views."""
    from govinfo_pipeline.lib import migrate

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
        if _view_marks(conn, list(views)) == marks:  # every view as this govinfo defines it: nothing to write
            return
        for name, sql in views.items():
            conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
            conn.exec_driver_sql(f"CREATE VIEW {name} AS {sql}")
            conn.exec_driver_sql(f"COMMENT ON VIEW {name} IS '{marks[name]}'")


def _view_marks(conn: sa.Connection, names: list[str]) -> dict[str, str | None]:
    """The mark (a hash of its SQL, kept as the view's comment) of each of these views that exists."""
    if conn.dialect.name == "duckdb":
        sql = "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal AND schema_name = current_schema()"
    elif conn.dialect.name == "postgresql":
        sql = ("SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n "
               "ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND n.nspname = current_schema()")
    else:
        return {}
    return {name: mark for name, mark in conn.exec_driver_sql(sql).fetchall() if name in names}


def _bulk_insert(conn: sa.Connection, table: sa.Table, df: pd.DataFrame) -> None:
    """Insert a DataFrame through the backend's fast path, inside the caller's transaction."""
    if df.empty:
        return
    cols = [c.name for c in table.columns]
    df = df[cols]
    name = conn.dialect.name
    if name == "duckdb":
        duck = conn.connection.driver_connection
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
        with conn.connection.driver_connection.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
                for rec in records:
                    copy.write_row(rec)
    else:
        conn.execute(table.insert(), df.astype(object).where(df.notna(), None).to_dict("records"))


def chunks(items: list, size: int) -> Iterable[list]:
    """Consecutive slices of at most ``size`` items (SQL IN lists, transactions)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _delete_reports(conn: sa.Connection, report_ids: list[str]) -> None:
    for table in (*REPORT_TABLES, reports):
        conn.execute(table.delete().where(table.c.report_id.in_(report_ids)))


def _keep_history(conn: sa.Connection, held: pd.DataFrame, incoming: pd.DataFrame, now: dt.datetime) -> None:
    """Record the reports that new versions of the same files (or their rejections) replace."""
    old = held.merge(incoming[["source_path", "source_sha256", "report_id"]], on="source_path",
                     suffixes=("", "_new"))
    old = old[old["source_sha256"] != old["source_sha256_new"]]
    if old.empty:
        return
    _bulk_insert(conn, report_history, pd.DataFrame({
        "source_path": old["source_path"], "source_sha256": old["source_sha256"], "report_id": old["report_id"],
        "loaded_at": old["loaded_at"], "replaced_at": now, "replaced_by": old["report_id_new"],
    }))


def _add_agencies(conn: sa.Connection, chunk: pd.DataFrame) -> None:
    """Register the bodies and spellings a chunk of reports brings that the warehouse does not know yet."""
    from govinfo_pipeline.lib.agencies import level

    named = chunk.dropna(subset=["agency_id", "agency_name"])
    if named.empty:
        return
    ids = sorted(set(named["agency_id"]))
    known = {r[0] for r in conn.execute(sa.select(agencies.c.agency_id).where(agencies.c.agency_id.in_(ids)))}
    new = named[~named["agency_id"].isin(known)].drop_duplicates("agency_id")
    _bulk_insert(conn, agencies, pd.DataFrame({
        "agency_id": new["agency_id"], "name": new["agency_name"], "region": new["region"],
        "level": new["agency_name"].map(level)}))
    spellings = named.drop_duplicates("agency_name")
    held = {r[0] for r in conn.execute(sa.select(agency_aliases.c.alias).where(
        agency_aliases.c.alias.in_(spellings["agency_name"].tolist())))}
    fresh = spellings[~spellings["agency_name"].isin(held)]
    _bulk_insert(conn, agency_aliases, pd.DataFrame({"alias": fresh["agency_name"], "agency_id": fresh["agency_id"]}))


def cross_year(engine: sa.Engine, agency_ids: list[str], now: dt.datetime | None = None) -> int:
    """X1 for every report of these agencies: carried_over in year Y = the same body's carried_forward in
    year Y-1, per applicant column. Skipped (no result) when the previous year is not in the warehouse.
    Re-evaluated whenever a year of the body arrives, in either order; returns the results written."""
    from govinfo_pipeline.lib import rules

    if not agency_ids:
        return 0
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row, col = quote_cols(engine).values()
    frames = []
    with engine.connect() as conn:
        for part in chunks(agency_ids, 10_000):  # each query scans the cells once
            frames.append(pd.read_sql(sa.text(
                f"SELECT r.report_id, r.agency_id, r.report_year, c.{row} AS row, c.{col} AS col, c.value, "
                f"c.cell_status FROM reports r JOIN report_cells c ON c.report_id = r.report_id "
                f"WHERE c.section = 'application' AND c.{row} IN ('carried_over', 'carried_forward') "
                f"AND r.agency_id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
                conn, params={"ids": part}))
    cells = pd.concat(frames, ignore_index=True)
    results = rules.cross_year(cells)
    ids = sorted(set(cells["report_id"]))
    with engine.begin() as conn:
        for part in chunks(ids, 1000):
            conn.execute(quality_results.delete().where(quality_results.c.report_id.in_(part))
                         .where(quality_results.c.rule_id == "X1"))
        _bulk_insert(conn, quality_results, results.assign(checked_at=now))
        _refresh_status(conn, ids)
    return len(results)


def _refresh_status(conn: sa.Connection, ids: list[str]) -> None:
    """Recompute quality_status from all of a report's rule results (after warehouse-level rules)."""
    for part in chunks(ids, 10_000):  # uncorrelated subqueries: one pass over the chunk's results, not one a report
        failed = sa.select(quality_results.c.report_id).where(
            quality_results.c.report_id.in_(part), quality_results.c.passed.is_(False))
        conn.execute(reports.update().where(reports.c.report_id.in_(part)).values(quality_status=sa.case(
            (reports.c.report_id.in_(failed.where(quality_results.c.level == "error")), "errors"),
            (reports.c.report_id.in_(failed.where(quality_results.c.level == "warning")), "warnings"),
            else_="passed")))


def _sign(engine: sa.Engine, report_ids: list[str], sigs: dict) -> None:
    """Work out and keep the prose signatures of reports that have none stored yet (each is computed once)."""
    from govinfo_pipeline.lib import similarity as sim

    for part in chunks(report_ids, 5000):
        with engine.connect() as conn:
            pre = pd.read_sql(sa.select(reports.c.report_id, reports.c.preamble)
                              .where(reports.c.report_id.in_(part)), conn)
            secs = pd.read_sql(sa.select(report_sections.c.report_id, report_sections.c.section_no,
                                         report_sections.c.body_text).where(report_sections.c.report_id.in_(part)),
                               conn)
        body = secs.sort_values(["report_id", "section_no"]).groupby("report_id")["body_text"].agg(
            lambda x: "\n".join(t for t in x if t))
        prose = pre["preamble"].fillna("") + "\n" + pre["report_id"].map(body).fillna("")
        new = dict(zip(pre["report_id"], sim.signatures(prose.tolist()), strict=True))
        sigs.update(new)
        rows = pd.DataFrame({"report_id": list(new), "signature": [None if s is None else s.tobytes()
                                                                    for s in new.values()]})
        with engine.begin() as conn:
            _bulk_insert(conn, signatures, rows)


def copy_paste(engine: sa.Engine, years: list[int], now: dt.datetime | None = None,
               new_ids: list[str] | None = None) -> int:
    """Rule S1 (内容雷同) for the reports of these years and the years beside them: prose similarity with
    the body's previous report and with other bodies' reports of the same year; a warning at 0.9 or more.

    With ``new_ids`` (the reports just written) only the results that can have changed are rewritten: those
    of the new reports, of the reports they pair with, and of reports whose match has left the warehouse.
    Without, every report of the years is judged again. Returns the similarity rows written."""
    from govinfo_pipeline.lib import similarity as sim

    years = sorted({y for year in years for y in (year - 1, year, year + 1)})
    if not years:
        return 0
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.connect() as conn:
        reps = pd.read_sql(sa.select(reports.c.report_id, reports.c.agency_id, reports.c.report_year)
                           .where(reports.c.report_year.in_(years)), conn)
        stored = pd.read_sql(sa.select(signatures.c.report_id, signatures.c.signature).join(
            reports, reports.c.report_id == signatures.c.report_id).where(reports.c.report_year.in_(years)), conn)
    if reps.empty:
        return 0
    sigs = {rid: None if s is None else np.frombuffer(bytes(s), dtype=np.uint64)
            for rid, s in zip(stored["report_id"], stored["signature"], strict=True)}
    _sign(engine, [rid for rid in reps["report_id"] if rid not in sigs], sigs)
    ids = reps["report_id"].tolist()
    if new_ids is None:
        pairs = sim.compare_signed(reps, sigs)
    else:  # only pairs that involve a new report are looked for; the touched reports' other pairs are kept
        new = set(new_ids)
        pairs = sim.compare_signed(reps, sigs, focus=new)
        with engine.connect() as conn:
            gone = pd.read_sql(sa.select(similarity.c.report_id).where(
                similarity.c.other_report_id.not_in(sa.select(reports.c.report_id))), conn)["report_id"]
        touched = new | set(pairs.loc[pairs["other_report_id"].isin(new), "report_id"]) | set(gone)
        ids = [rid for rid in ids if rid in touched]
        kept = []
        with engine.connect() as conn:
            for part in chunks(sorted(touched - new), 5000):
                kept.append(pd.read_sql(sa.select(similarity.c.report_id, similarity.c.other_report_id,
                                                  similarity.c.scope, similarity.c.score).where(
                    similarity.c.report_id.in_(part), similarity.c.other_report_id.in_(sa.select(reports.c.report_id))),
                    conn))
        parts = [p for p in (pairs[pairs["report_id"].isin(touched)], *kept) if not p.empty]
        pairs = (pd.concat(parts, ignore_index=True) if parts else pairs.iloc[0:0]).drop_duplicates(
            ["report_id", "other_report_id", "scope"])
    judged = pairs.astype({"score": float}).sort_values("score", ascending=False).drop_duplicates("report_id")
    results = pd.DataFrame({
        "report_id": judged["report_id"], "rule_id": "S1", "level": "warning",
        "passed": judged["score"] < sim.NEAR_DUPLICATE, "subject": judged["scope"],
        "expected": sim.NEAR_DUPLICATE, "observed": judged["score"].round(3),
        "operands": "prose of report " + judged["other_report_id"], "cells": None,
    })
    results["outcome"] = np.where(results["passed"], "pass", "fail")
    results["message"] = np.where(
        results["passed"], "S1: prose differs from its closest match (" + judged["other_report_id"] + ", "
        + judged["scope"] + ")", "S1: prose nearly the same as report " + judged["other_report_id"] + " ("
        + judged["scope"] + ", similarity " + judged["score"].map("{:.2f}".format) + "): 内容雷同?")
    with engine.begin() as conn:
        for part in chunks(ids, 1000):
            conn.execute(similarity.delete().where(similarity.c.report_id.in_(part)))
            conn.execute(quality_results.delete().where(quality_results.c.report_id.in_(part))
                         .where(quality_results.c.rule_id == "S1"))
        _bulk_insert(conn, similarity, pairs.assign(checked_at=now))
        _bulk_insert(conn, quality_results, results.assign(checked_at=now))
        _refresh_status(conn, ids)
    return len(pairs)


def account(engine: sa.Engine, files: pd.DataFrame, run_id: str | None, partitions: str | None) -> dict:
    """The run's invariant, checked in the warehouse and kept: files seen = reports loaded + rejections."""
    paths = files["source_path"].tolist()
    loaded = rejected = 0
    with engine.begin() as conn:
        for chunk in chunks(paths, 1000):
            loaded += conn.execute(sa.select(sa.func.count()).select_from(reports).where(
                reports.c.source_path.in_(chunk))).scalar_one()
            rejected += conn.execute(sa.select(sa.func.count()).select_from(rejections).where(
                rejections.c.source_path.in_(chunk))).scalar_one()
        row = {"run_id": run_id, "partitions": partitions, "files_seen": len(paths), "reports_loaded": int(loaded),
               "rejections": int(rejected), "balanced": len(paths) == loaded + rejected,
               "checked_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)}
        conn.execute(run_accounting.insert().values(**row))
    return row


def existing_fingerprints(engine: sa.Engine, paths: list[str] | None = None,
                          ids: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the warehouse holds now: one row per report, and one per rejection; with ``paths`` (and ``ids``),
    only the reports and rejections of those files (and the reports with those ids), looked up by key instead
    of reading a national year's rows to write one report."""
    rep_cols = (reports.c.report_id, reports.c.source_path, reports.c.source_sha256, reports.c.parser_version,
                reports.c.loaded_at, reports.c.source_size, reports.c.source_mtime_ns, reports.c.report_year,
                reports.c.source_format)
    rej_cols = (rejections.c.source_path, rejections.c.source_sha256, rejections.c.reason, rejections.c.duplicate_of)
    with engine.connect() as conn:
        if paths is None:
            return pd.read_sql(sa.select(*rep_cols), conn), pd.read_sql(sa.select(*rej_cols), conn)
        paths = sorted(set(paths))
        reps = [pd.read_sql(sa.select(*rep_cols).where(reports.c.source_path.in_(part)), conn)
                for part in chunks(paths, 1000)]
        reps += [pd.read_sql(sa.select(*rep_cols).where(reports.c.report_id.in_(part)), conn)
                 for part in chunks(sorted(set(ids or [])), 1000)]
        rej = [pd.read_sql(sa.select(*rej_cols).where(rejections.c.source_path.in_(part)), conn)
               for part in chunks(paths, 1000)]
    reps, rej = [r for r in reps if not r.empty], [r for r in rej if not r.empty]
    held = (pd.concat(reps, ignore_index=True).drop_duplicates("report_id", ignore_index=True) if reps
            else pd.DataFrame(columns=[c.name for c in rep_cols]))
    return held, pd.concat(rej, ignore_index=True) if rej else pd.DataFrame(columns=[c.name for c in rej_cols])


def write(engine: sa.Engine, batch: dict[str, pd.DataFrame], now: dt.datetime | None = None) -> dict[str, int]:
    """Write a batch of reports and rejections, each report whole in one transaction.

    Reports already held with the same id, path and parser version are left untouched, so a
    re-run on unchanged input changes nothing. A file whose bytes changed replaces its old report.
    """
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    reps = batch["reports"]
    rej = batch.get("rejections", pd.DataFrame(columns=["source_path"]))
    held, held_rej = existing_fingerprints(  # only what this batch's files and reports can meet
        engine, paths=reps["source_path"].tolist() + rej["source_path"].tolist(), ids=reps["report_id"].tolist())
    key = ["report_id", "source_path", "parser_version"]
    unchanged = reps.merge(held[key], on=key, how="inner")["report_id"]
    todo = reps[~reps["report_id"].isin(unchanged)]
    stats = {"reports_written": 0, "reports_unchanged": int(len(unchanged)), "rejections_written": 0}

    tables = {"cells": report_cells, "sections": report_sections, "results": quality_results,
              "claims": prose_numbers}
    # Each report's row positions, found once, so that a chunk's rows are taken without scanning the frame
    # (or copying it: a batch's cells are millions of rows).
    positions = {name: batch[name].groupby("report_id", sort=False).indices for name in tables
                 if name in batch and not batch[name].empty}
    held_ids = set(held["report_id"])
    for ids in chunks(list(todo["report_id"]), CHUNK):
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

    if not rej.empty:
        merged = rej.merge(held_rej, on=["source_path"], how="left", suffixes=("", "_held"))
        same = (
            merged["source_sha256"].fillna("") == merged["source_sha256_held"].fillna("")
        ) & (merged["reason"] == merged["reason_held"]) & (
            merged["duplicate_of"].fillna("") == merged["duplicate_of_held"].fillna(""))
        new_rej = rej[~rej["source_path"].isin(merged.loc[same, "source_path"])]
        for paths in chunks(list(new_rej["source_path"]), CHUNK):
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
        conn.execute(validations.insert().values(
            **row, validated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))



# ---- Analyst views ----------------------------------------------------------------------------------------------
# v_applications_wide, v_outcome_rates, v_outcome_rates_year and v_rule_failures (README, "For analysts"). Each
# reads the base tables only, never another view: ensure_schema drops and re-creates every view, and PostgreSQL
# refuses to drop a view that another one depends on. The SQL is the same on DuckDB and PostgreSQL; only the
# `row` and `col` columns are quoted per dialect. Blank cells stay NULL throughout: nothing here reads blank as 0.

OUTCOME_FIGURES = ("granted", "partially_granted", "denied", "unable_to_provide", "not_processed", "other_handling")


def _literal(text: object) -> str:
    """A SQL string literal (codebook labels only; never user input)."""
    return "'" + str(text).replace("'", "''") + "'"


def _in_list(values: Iterable[str]) -> str:
    return ", ".join(_literal(v) for v in values)


def analyst_view_sql(engine: sa.Engine) -> dict[str, str]:
    """The analyst views, quoted for the engine's dialect."""
    return {
        "v_applications_wide": _applications_wide_sql(engine),
        "v_outcome_rates": _outcome_rates_sql(engine),
        "v_outcome_rates_year": _outcome_rates_year_sql(engine),
        "v_rule_failures": _rule_failures_sql(engine),
        "v_year_over_year": _year_over_year_sql(engine),
    }


YOY_FIGURES = ("applications_received", "carried_over", "processed", "granted", "denied", "carried_forward")


def _year_over_year_sql(engine: sa.Engine) -> str:
    """Per body and year: headline figures beside the same body's previous year, and the change."""
    row, col = quote_cols(engine).values()
    rows_of = _headline_rows()
    figures = ",\n               ".join(
        f"SUM(CASE WHEN c.section = 'application' AND c.{row} IN ({_in_list(rows_of[f])}) AND c.{col} = 'total' "
        f"THEN c.value END) AS {f}" for f in YOY_FIGURES)
    review = (f"SUM(CASE WHEN c.section = 'review_litigation' AND c.{row} = 'review' AND c.{col} = 'total' "
              f"THEN c.value END) AS review_total")
    compare = ",\n       ".join(
        f"cur.{f}, prev.{f} AS {f}_prev, cur.{f} - prev.{f} AS {f}_change"
        for f in (*YOY_FIGURES, "review_total"))
    return f"""
        WITH h AS (
            SELECT r.report_id, r.agency_id, r.agency_name, r.report_year, r.quality_status,
                   {figures},
                   {review}
            FROM reports r LEFT JOIN report_cells c ON c.report_id = r.report_id
            WHERE r.agency_id IS NOT NULL
            GROUP BY r.report_id, r.agency_id, r.agency_name, r.report_year, r.quality_status)
        SELECT cur.agency_id, cur.agency_name, cur.report_year, cur.report_id, prev.report_id AS prev_report_id,
       {compare},
       cur.quality_status
        FROM h cur LEFT JOIN h prev ON prev.agency_id = cur.agency_id AND prev.report_year = cur.report_year - 1"""


def _applications_wide_sql(engine: sa.Engine) -> str:
    """One row per report and application row; the seven applicant columns side by side (NULL when not a number)."""
    row, col = quote_cols(engine).values()
    cb = codebook.load()
    app_rows = cb["application_rows"]
    cols = [c["col"] for c in cb["application_cols"]]

    def case(value_of) -> str:
        whens = " ".join(f"WHEN {_literal(r['row'])} THEN {value_of(i, r)}"
                         for i, r in enumerate(app_rows, start=1) if value_of(i, r) != "NULL")
        return f"CASE c.{row} {whens} END"

    order = case(lambda i, r: str(i))
    label = case(lambda i, r: _literal(r["label"]))
    group = case(lambda i, r: _literal(r["group"]) if r.get("group") else "NULL")
    pivots = ",\n               ".join(f"MAX(CASE WHEN c.{col} = {_literal(c)} THEN c.value END) AS {c}" for c in cols)
    return f"""
        SELECT c.report_id, r.agency_name, r.report_year, r.template_version, c.{row},
               {order} AS row_order,
               {label} AS row_label,
               {group} AS row_group,
               {pivots},
               r.quality_status, r.source_path
        FROM report_cells c JOIN reports r ON r.report_id = c.report_id
        WHERE c.section = 'application'
        GROUP BY c.report_id, r.agency_name, r.report_year, r.template_version, c.{row}, r.quality_status,
                 r.source_path"""


def _outcome_figures_sql(engine: sa.Engine) -> str:
    """Per report: total processed and each outcome figure (总计 column); NULL when all its cells are blank."""
    row, col = quote_cols(engine).values()
    heads = _headline_rows()
    sums = ",\n                   ".join(
        f"SUM(CASE WHEN c.{row} IN ({_in_list(heads[f])}) THEN c.value END) AS {f}"
        for f in ("processed", *OUTCOME_FIGURES))
    return f"""
            SELECT r.report_id, r.agency_name, r.report_year, r.template_version, r.quality_status,
                   {sums},
                   r.source_path
            FROM reports r LEFT JOIN report_cells c ON c.report_id = r.report_id
                 AND c.section = 'application' AND c.{col} = 'total'
            GROUP BY r.report_id, r.agency_name, r.report_year, r.template_version, r.quality_status,
                     r.source_path"""


def _outcome_rates_sql(engine: sa.Engine) -> str:
    """Per report: each outcome as a share of processed; NULL when processed is NULL or 0."""
    figures = ", ".join(f"o.{f}" for f in OUTCOME_FIGURES)
    shares = ",\n               ".join(f"o.{f} / NULLIF(o.processed, 0) AS {f}_share" for f in OUTCOME_FIGURES)
    return f"""
        SELECT o.report_id, o.agency_name, o.report_year, o.template_version, o.quality_status,
               o.processed, {figures},
               {shares},
               o.source_path
        FROM ({_outcome_figures_sql(engine)}) o"""


def _outcome_rates_year_sql(engine: sa.Engine) -> str:
    """Per report year: the figures summed, and each share pooled over the reports that give it and processed > 0."""
    sums = ", ".join(f"SUM(o.{f}) AS {f}" for f in OUTCOME_FIGURES)
    shares = ",\n               ".join(
        f"SUM(CASE WHEN o.processed > 0 THEN o.{f} END)"
        f" / SUM(CASE WHEN o.processed > 0 AND o.{f} IS NOT NULL THEN o.processed END) AS {f}_share"
        for f in OUTCOME_FIGURES)
    return f"""
        SELECT o.report_year, COUNT(*) AS reports, COUNT(o.processed) AS reports_with_processed,
               CAST(SUM(CASE WHEN o.processed > 0 THEN 1 ELSE 0 END) AS BIGINT) AS reports_with_applications,
               SUM(o.processed) AS processed, {sums},
               {shares}
        FROM ({_outcome_figures_sql(engine)}) o
        GROUP BY o.report_year"""


def _rule_failures_sql(engine: sa.Engine) -> str:
    """Each failed rule result, once per cell it names (section.row.col), with the cell's raw text and line."""
    row, col = quote_cols(engine).values()
    code = "TRIM(u.cell_code)"
    return f"""
        SELECT q.report_id, r.agency_name, r.report_year, r.source_path, q.rule_id, q.level, q.outcome, q.subject,
               q.expected, q.observed, q.operands, q.message,
               u.cell_no, {code} AS cell_code, c.cell_status, c.value, c.unit, c.raw_text, c.source_line
        FROM quality_results q
        LEFT JOIN reports r ON r.report_id = q.report_id
        LEFT JOIN LATERAL unnest(string_to_array(NULLIF(TRIM(q.cells), ''), ','))
             WITH ORDINALITY AS u(cell_code, cell_no) ON TRUE
        LEFT JOIN report_cells c ON c.report_id = q.report_id
             AND c.section = split_part({code}, '.', 1)
             AND c.{row} = split_part({code}, '.', 2)
             AND c.{col} = split_part({code}, '.', 3)
        WHERE q.passed = FALSE"""


def grant_reader(engine: sa.Engine, role: str) -> list[str]:
    """Create (if needed) a PostgreSQL login role that can read every table and view, and nothing more.

    Returns the statements run. The role's sessions are read-only by default as well, so a write is
    refused twice over. Tables and views created later by the loading role are granted too.
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("a read-only role is a PostgreSQL feature; DuckDB files are opened read-only instead")
    q = engine.dialect.identifier_preparer.quote
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        database, owner = conn.execute(sa.text("SELECT current_database(), current_user")).one()
    statements = ([] if exists else [f"CREATE ROLE {q(role)} LOGIN"]) + [
        f"GRANT CONNECT ON DATABASE {q(database)} TO {q(role)}",
        f"GRANT USAGE ON SCHEMA public TO {q(role)}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {q(role)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA public GRANT SELECT ON TABLES TO {q(role)}",
        f"ALTER ROLE {q(role)} SET default_transaction_read_only = on",
    ]
    with engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
    return statements
