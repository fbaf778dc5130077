"""The rules that read across reports in the warehouse (X1 across years, S1 similarity): their reads and
writes; the logic lives in ``quality``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline.store.schema import quality_results, quote_cols, report_sections, reports, signatures, similarity
from govinfo_pipeline.store.writes import _bulk_insert, chunks


def cross_year(engine: sa.Engine, agency_ids: list[str], now: dt.datetime | None = None) -> int:
    """X1 for every report of these agencies: carried_over in year Y = the same body's carried_forward in
    year Y-1, per applicant column. Skipped (no result) when the previous year is not in the warehouse.
    Re-evaluated whenever a year of the body arrives, in either order; returns the results written."""
    from govinfo_pipeline.quality import rules

    if not agency_ids:
        return 0
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row, col = quote_cols(engine).values()
    frames = []
    with engine.connect() as conn:
        for part in chunks(agency_ids, 10_000):  # each query scans the cells once
            frames.append(
                pd.read_sql(
                    sa.text(
                        f"SELECT r.report_id, r.agency_id, r.report_year, c.{row} AS row, c.{col} AS col, c.value, "
                        f"c.cell_status FROM reports r JOIN report_cells c ON c.report_id = r.report_id "
                        f"WHERE c.section = 'application' AND c.{row} IN ('carried_over', 'carried_forward') "
                        f"AND r.agency_id IN :ids"
                    ).bindparams(sa.bindparam("ids", expanding=True)),
                    conn,
                    params={"ids": part},
                )
            )
    cells = pd.concat(frames, ignore_index=True)
    results = rules.cross_year(cells)
    ids = sorted(set(cells["report_id"]))
    with engine.begin() as conn:
        for part in chunks(ids, 1000):
            conn.execute(
                quality_results.delete()
                .where(quality_results.c.report_id.in_(part))
                .where(quality_results.c.rule_id == "X1")
            )
        _bulk_insert(conn, quality_results, results.assign(checked_at=now))
        _refresh_status(conn, ids)
    return len(results)


def _refresh_status(conn: sa.Connection, ids: list[str]) -> None:
    """Recompute quality_status from all of a report's rule results (after warehouse-level rules)."""
    for part in chunks(ids, 10_000):  # uncorrelated subqueries: one pass over the chunk's results, not one a report
        failed = sa.select(quality_results.c.report_id).where(
            quality_results.c.report_id.in_(part), quality_results.c.passed.is_(False)
        )
        conn.execute(
            reports.update()
            .where(reports.c.report_id.in_(part))
            .values(
                quality_status=sa.case(
                    (reports.c.report_id.in_(failed.where(quality_results.c.level == "error")), "errors"),
                    (reports.c.report_id.in_(failed.where(quality_results.c.level == "warning")), "warnings"),
                    else_="passed",
                )
            )
        )


def _sign(engine: sa.Engine, report_ids: list[str], sigs: dict) -> None:
    """Work out and keep the prose signatures of reports that have none stored yet (each is computed once)."""
    from govinfo_pipeline.quality import similarity as sim

    for part in chunks(report_ids, 5000):
        with engine.connect() as conn:
            pre = pd.read_sql(
                sa.select(reports.c.report_id, reports.c.preamble).where(reports.c.report_id.in_(part)), conn
            )
            secs = pd.read_sql(
                sa.select(report_sections.c.report_id, report_sections.c.section_no, report_sections.c.body_text).where(
                    report_sections.c.report_id.in_(part)
                ),
                conn,
            )
        body = (
            secs.sort_values(["report_id", "section_no"])
            .groupby("report_id")["body_text"]
            .agg(lambda x: "\n".join(t for t in x if t))
        )
        prose = pre["preamble"].fillna("") + "\n" + pre["report_id"].map(body).fillna("")
        new = dict(zip(pre["report_id"], sim.signatures(prose.tolist()), strict=True))
        sigs.update(new)
        rows = pd.DataFrame(
            {"report_id": list(new), "signature": [None if s is None else s.tobytes() for s in new.values()]}
        )
        with engine.begin() as conn:
            _bulk_insert(conn, signatures, rows)


def copy_paste(
    engine: sa.Engine, years: list[int], now: dt.datetime | None = None, new_ids: list[str] | None = None
) -> int:
    """Rule S1 (内容雷同) for the reports of these years and the years beside them: prose similarity with
    the body's previous report and with other bodies' reports of the same year; a warning at 0.9 or more.

    With ``new_ids`` (the reports just written) only the results that can have changed are rewritten: those
    of the new reports, of the reports they pair with, and of reports whose match has left the warehouse.
    Without, every report of the years is judged again. Returns the similarity rows written."""
    from govinfo_pipeline.quality import similarity as sim

    years = sorted({y for year in years for y in (year - 1, year, year + 1)})
    if not years:
        return 0
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.connect() as conn:
        reps = pd.read_sql(
            sa.select(reports.c.report_id, reports.c.agency_id, reports.c.report_year).where(
                reports.c.report_year.in_(years)
            ),
            conn,
        )
        stored = pd.read_sql(
            sa.select(signatures.c.report_id, signatures.c.signature)
            .join(reports, reports.c.report_id == signatures.c.report_id)
            .where(reports.c.report_year.in_(years)),
            conn,
        )
    if reps.empty:
        return 0
    sigs = {
        rid: None if s is None else np.frombuffer(bytes(s), dtype=np.uint64)
        for rid, s in zip(stored["report_id"], stored["signature"], strict=True)
    }
    _sign(engine, [rid for rid in reps["report_id"] if rid not in sigs], sigs)
    ids = reps["report_id"].tolist()
    if new_ids is None:
        pairs = sim.compare_signed(reps, sigs)
    else:  # only pairs that involve a new report are looked for; the touched reports' other pairs are kept
        new = set(new_ids)
        pairs = sim.compare_signed(reps, sigs, focus=new)
        with engine.connect() as conn:
            gone = pd.read_sql(
                sa.select(similarity.c.report_id).where(
                    similarity.c.other_report_id.not_in(sa.select(reports.c.report_id))
                ),
                conn,
            )["report_id"]
        touched = new | set(pairs.loc[pairs["other_report_id"].isin(new), "report_id"]) | set(gone)
        ids = [rid for rid in ids if rid in touched]
        kept = []
        with engine.connect() as conn:
            for part in chunks(sorted(touched - new), 5000):
                kept.append(
                    pd.read_sql(
                        sa.select(
                            similarity.c.report_id, similarity.c.other_report_id, similarity.c.scope, similarity.c.score
                        ).where(
                            similarity.c.report_id.in_(part),
                            similarity.c.other_report_id.in_(sa.select(reports.c.report_id)),
                        ),
                        conn,
                    )
                )
        parts = [p for p in (pairs[pairs["report_id"].isin(touched)], *kept) if not p.empty]
        pairs = (pd.concat(parts, ignore_index=True) if parts else pairs.iloc[0:0]).drop_duplicates(
            ["report_id", "other_report_id", "scope"]
        )
    judged = pairs.astype({"score": float}).sort_values("score", ascending=False).drop_duplicates("report_id")
    results = pd.DataFrame(
        {
            "report_id": judged["report_id"],
            "rule_id": "S1",
            "level": "warning",
            "passed": judged["score"] < sim.NEAR_DUPLICATE,
            "subject": judged["scope"],
            "expected": sim.NEAR_DUPLICATE,
            "observed": judged["score"].round(3),
            "operands": "prose of report " + judged["other_report_id"],
            "cells": None,
        }
    )
    results["outcome"] = np.where(results["passed"], "pass", "fail")
    results["message"] = np.where(
        results["passed"],
        "S1: prose differs from its closest match (" + judged["other_report_id"] + ", " + judged["scope"] + ")",
        "S1: prose nearly the same as report "
        + judged["other_report_id"]
        + " ("
        + judged["scope"]
        + ", similarity "
        + judged["score"].map("{:.2f}".format)
        + "): 内容雷同?",
    )
    with engine.begin() as conn:
        for part in chunks(ids, 1000):
            conn.execute(similarity.delete().where(similarity.c.report_id.in_(part)))
            conn.execute(
                quality_results.delete()
                .where(quality_results.c.report_id.in_(part))
                .where(quality_results.c.rule_id == "S1")
            )
        _bulk_insert(conn, similarity, pairs.assign(checked_at=now))
        _bulk_insert(conn, quality_results, results.assign(checked_at=now))
        _refresh_status(conn, ids)
    return len(pairs)
