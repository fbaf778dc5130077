"""The analysts' views: their SQL, the same on DuckDB and PostgreSQL, and keeping them current."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.store.corrections import reviewed_cells_sql
from govinfo_pipeline.store.schema import quote_cols

# Cells whose value a reviewer gave (corrections of kind misread), counted in each analyst view.
REVIEWED = "CAST(SUM(CASE WHEN c.value_source = 'reviewer' THEN 1 ELSE 0 END) AS BIGINT) AS reviewed_cells"


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
    reviewed = reviewed_cells_sql(engine)
    cells_view = f"""
        SELECT c.report_id, r.agency_name, r.report_year, r.template_version, r.quality_status,
               c.section, c.{row}, c.{col}, c.value, c.unit, c.cell_status, c.raw_text, c.source_line,
               CASE WHEN c.cell_status IN ('blank', 'none') THEN 0 ELSE c.value END AS value_or_zero,
               r.source_path, c.value_source, c.review_kind, c.reviewer, c.read_value, c.read_status
        FROM {reviewed} c JOIN reports r ON r.report_id = c.report_id"""

    def total(rows_: tuple[str, ...], section: str = "application") -> str:
        in_list = ", ".join(f"'{r}'" for r in rows_)
        return (
            f"SUM(CASE WHEN c.section = '{section}' AND c.{row} IN ({in_list}) AND c.{col} = 'total' THEN c.value END)"
        )

    figures = ",\n               ".join(f"{total(rows_)} AS {name}" for name, rows_ in _headline_rows().items())
    agency_year = f"""
        SELECT r.report_id, r.agency_name, r.report_year, r.template_version, r.parse_status, r.quality_status,
               {figures},
               {total(("review",), "review_litigation")} AS review_total,
               {total(("litigation_direct", "litigation_after_review"), "review_litigation")} AS litigation_total,
               r.source_path, {REVIEWED}
        FROM reports r LEFT JOIN {reviewed} c ON c.report_id = r.report_id
        GROUP BY r.report_id, r.agency_name, r.report_year, r.template_version, r.parse_status,
                 r.quality_status, r.source_path"""
    return {"v_cells": cells_view, "v_agency_year": agency_year, **analyst_view_sql(engine)}


def view_marks(conn: sa.Connection, names: list[str]) -> dict[str, str | None]:
    """The mark (a hash of its SQL, kept as the view's comment) of each of these views that exists."""
    if conn.dialect.name == "duckdb":
        sql = "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal AND schema_name = current_schema()"
    elif conn.dialect.name == "postgresql":
        sql = (
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND n.nspname = current_schema()"
        )
    else:
        return {}
    return {name: mark for name, mark in conn.exec_driver_sql(sql).fetchall() if name in names}


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
        f"THEN c.value END) AS {f}"
        for f in YOY_FIGURES
    )
    review = (
        f"SUM(CASE WHEN c.section = 'review_litigation' AND c.{row} = 'review' AND c.{col} = 'total' "
        f"THEN c.value END) AS review_total"
    )
    compare = ",\n       ".join(
        f"cur.{f}, prev.{f} AS {f}_prev, cur.{f} - prev.{f} AS {f}_change" for f in (*YOY_FIGURES, "review_total")
    )
    return f"""
        WITH h AS (
            SELECT r.report_id, r.agency_id, r.agency_name, r.report_year, r.quality_status,
                   {figures},
                   {review}, {REVIEWED}
            FROM reports r LEFT JOIN {reviewed_cells_sql(engine)} c ON c.report_id = r.report_id
            WHERE r.agency_id IS NOT NULL
            GROUP BY r.report_id, r.agency_id, r.agency_name, r.report_year, r.quality_status)
        SELECT cur.agency_id, cur.agency_name, cur.report_year, cur.report_id, prev.report_id AS prev_report_id,
       {compare},
       cur.quality_status, cur.reviewed_cells
        FROM h cur LEFT JOIN h prev ON prev.agency_id = cur.agency_id AND prev.report_year = cur.report_year - 1"""


def _applications_wide_sql(engine: sa.Engine) -> str:
    """One row per report and application row; the seven applicant columns side by side (NULL when not a number)."""
    row, col = quote_cols(engine).values()
    cb = codebook.load()
    app_rows = cb["application_rows"]
    cols = [c["col"] for c in cb["application_cols"]]

    def case(value_of) -> str:
        whens = " ".join(
            f"WHEN {_literal(r['row'])} THEN {value_of(i, r)}"
            for i, r in enumerate(app_rows, start=1)
            if value_of(i, r) != "NULL"
        )
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
               r.quality_status, r.source_path, {REVIEWED}
        FROM {reviewed_cells_sql(engine)} c JOIN reports r ON r.report_id = c.report_id
        WHERE c.section = 'application'
        GROUP BY c.report_id, r.agency_name, r.report_year, r.template_version, c.{row}, r.quality_status,
                 r.source_path"""


def _outcome_figures_sql(engine: sa.Engine) -> str:
    """Per report: total processed and each outcome figure (总计 column); NULL when all its cells are blank."""
    row, col = quote_cols(engine).values()
    heads = _headline_rows()
    sums = ",\n                   ".join(
        f"SUM(CASE WHEN c.{row} IN ({_in_list(heads[f])}) THEN c.value END) AS {f}"
        for f in ("processed", *OUTCOME_FIGURES)
    )
    return f"""
            SELECT r.report_id, r.agency_name, r.report_year, r.template_version, r.quality_status,
                   {sums},
                   r.source_path, {REVIEWED}
            FROM reports r LEFT JOIN {reviewed_cells_sql(engine)} c ON c.report_id = r.report_id
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
               o.source_path, o.reviewed_cells
        FROM ({_outcome_figures_sql(engine)}) o"""


def _outcome_rates_year_sql(engine: sa.Engine) -> str:
    """Per report year: the figures summed, and each share pooled over the reports that give it and processed > 0."""
    sums = ", ".join(f"SUM(o.{f}) AS {f}" for f in OUTCOME_FIGURES)
    shares = ",\n               ".join(
        f"SUM(CASE WHEN o.processed > 0 THEN o.{f} END)"
        f" / SUM(CASE WHEN o.processed > 0 AND o.{f} IS NOT NULL THEN o.processed END) AS {f}_share"
        for f in OUTCOME_FIGURES
    )
    return f"""
        SELECT o.report_year, COUNT(*) AS reports, COUNT(o.processed) AS reports_with_processed,
               CAST(SUM(CASE WHEN o.processed > 0 THEN 1 ELSE 0 END) AS BIGINT) AS reports_with_applications,
               SUM(o.processed) AS processed, {sums},
               {shares},
               CAST(SUM(o.reviewed_cells) AS BIGINT) AS reviewed_cells
        FROM ({_outcome_figures_sql(engine)}) o
        GROUP BY o.report_year"""


def _rule_failures_sql(engine: sa.Engine) -> str:
    """Each failed rule result, once per cell it names (section.row.col), with the cell's raw text and line."""
    row, col = quote_cols(engine).values()
    code = "TRIM(u.cell_code)"
    return f"""
        SELECT q.report_id, r.agency_name, r.report_year, r.source_path, q.rule_id, q.level, q.outcome, q.subject,
               q.expected, q.observed, q.operands, q.message,
               u.cell_no, {code} AS cell_code, c.cell_status, c.value, c.unit, c.raw_text, c.source_line,
               c.value_source, c.review_kind, c.read_value, rv.review, rv.outcome AS reviewed_outcome
        FROM quality_results q
        LEFT JOIN reports r ON r.report_id = q.report_id
        LEFT JOIN LATERAL unnest(string_to_array(NULLIF(TRIM(q.cells), ''), ','))
             WITH ORDINALITY AS u(cell_code, cell_no) ON TRUE
        LEFT JOIN review_results rv ON rv.report_id = q.report_id AND rv.rule_id = q.rule_id
             AND rv.subject IS NOT DISTINCT FROM q.subject AND rv.operands IS NOT DISTINCT FROM q.operands
        LEFT JOIN {reviewed_cells_sql(engine)} c ON c.report_id = q.report_id
             AND c.section = split_part({code}, '.', 1)
             AND c.{row} = split_part({code}, '.', 2)
             AND c.{col} = split_part({code}, '.', 3)
        WHERE q.passed = FALSE"""
