"""What people read: a quality scorecard from the warehouse, and the frames behind the Data Docs."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline import store as wh
from govinfo_pipeline.quality import checkframes
from govinfo_pipeline.quality.results import RESULT_COLUMNS
from govinfo_pipeline.store import audit

_MAX_CELLS_SHOWN = 8


def _read(conn: sa.Connection, sql: str, **params) -> pd.DataFrame:
    return pd.read_sql(sa.text(sql), conn, params=params)


def scorecard(engine: sa.Engine, year: int | None = None, top: int = 5) -> str:
    """Reports by status; failures by rule; the worst reports with their failing cells."""
    where = "WHERE r.report_year = :year" if year else ""
    params = {"year": year} if year else {}
    q = wh.quote_cols(engine)
    with engine.connect() as conn:
        status = _read(
            conn,
            f"SELECT r.quality_status, COUNT(*) AS n FROM reports r {where} "
            "GROUP BY r.quality_status ORDER BY r.quality_status",
            **params,
        )
        by_rule = _read(
            conn,
            f"""
            SELECT q.rule_id, q.level, COUNT(DISTINCT q.report_id) AS reports, COUNT(*) AS results
            FROM quality_results q JOIN reports r ON r.report_id = q.report_id
            {where + " AND" if where else "WHERE"} q.passed = FALSE
            GROUP BY q.rule_id, q.level ORDER BY q.level, q.rule_id""",
            **params,
        )
        worst = _read(
            conn,
            f"""
            SELECT r.report_id, r.agency_name, r.report_year, r.source_path, r.quality_status,
                   SUM(CASE WHEN q.level = 'error' THEN 1 ELSE 0 END) AS errors,
                   SUM(CASE WHEN q.level = 'warning' THEN 1 ELSE 0 END) AS warnings
            FROM quality_results q JOIN reports r ON r.report_id = q.report_id
            {where + " AND" if where else "WHERE"} q.passed = FALSE
            GROUP BY r.report_id, r.agency_name, r.report_year, r.source_path, r.quality_status
            ORDER BY errors DESC, warnings DESC, r.source_path LIMIT {int(top)}""",
            **params,
        )
        ids = worst["report_id"].tolist()
        failures = (
            _read(
                conn,
                "SELECT report_id, rule_id, level, subject, message, cells FROM quality_results WHERE passed = FALSE",
            )
            if ids
            else pd.DataFrame()
        )
        cells = (
            _read(
                conn,
                f"SELECT report_id, section, {q['row']}, {q['col']}, raw_text, source_line, cell_status "
                "FROM report_cells",
            )
            if ids
            else pd.DataFrame()
        )
    lines = [f"Quality scorecard{f' — {year}' if year else ''}", ""]
    total = int(status["n"].sum())
    lines.append(f"Reports: {total}  " + ", ".join(f"{r.quality_status}: {r.n}" for r in status.itertuples()))
    lines += ["", "Failures by rule:"]
    if by_rule.empty:
        lines.append("  none")
    for r in by_rule.itertuples():
        lines.append(f"  {r.rule_id:<4} {r.level:<8} {r.reports:>6} reports  {r.results:>6} results")
    lines += ["", f"Worst reports (top {top}):"]
    if worst.empty:
        lines.append("  none")
    if ids:
        failures = failures[failures["report_id"].isin(ids)]
        cells = (
            cells[cells["report_id"].isin(ids)]
            .assign(code=lambda d: d["section"] + "." + d["row"] + "." + d["col"])
            .set_index(["report_id", "code"])
        )
    for i, r in enumerate(worst.itertuples(), start=1):
        lines.append(
            f"  {i}. {r.agency_name or '(agency unknown)'} {r.report_year or ''} — {r.source_path} — "
            f"{r.errors} errors, {r.warnings} warnings"
        )
        mine = failures[failures["report_id"] == r.report_id].sort_values(["level", "rule_id"])
        for f in mine.itertuples():
            lines.append(f"     {f.level:<7} {f.message}")
            codes = [c for c in (f.cells or "").split(",") if (r.report_id, c) in cells.index]
            shown = [c for c in codes if cells.loc[(r.report_id, c), "cell_status"] == "number"] or codes
            for code in shown[:_MAX_CELLS_SHOWN]:
                cell = cells.loc[(r.report_id, code)]
                line = "" if pd.isna(cell["source_line"]) else f" (line {int(cell['source_line'])})"
                lines.append(f"         {code} = {cell['raw_text']!r}{line}")
            if len(shown) > _MAX_CELLS_SHOWN:
                lines.append(f"         … and {len(shown) - _MAX_CELLS_SHOWN} more cells")
    return "\n".join(lines)


def docs_frames(engine: sa.Engine) -> dict[str, tuple[pd.DataFrame, dict | None]]:
    """The warehouse's content as the frames the normalized, facts and warehouse suites validate."""
    with engine.connect() as conn:
        batch = {
            name: pd.read_sql(sa.select(table), conn) for name, table in wh.BATCH_TABLES.items() if name != "rejections"
        }
    from govinfo_pipeline.parse import batch as parse_batch

    reports, cells, results = batch["reports"], batch["cells"], batch["results"]
    base = reports[parse_batch.REPORT_COLUMNS]
    return {
        "normalized_reports": (checkframes.reports_view(base), None),
        "normalized_cells": (checkframes.cells_view(cells, base), None),
        "normalized_cell_counts": (checkframes.cell_counts(cells, base), None),
        "facts_rule_results": (results[RESULT_COLUMNS], None),
        "warehouse_audit": (audit.warehouse_audit(engine, batch), None),
    }
