"""What the review desk reads: the queue of flagged items, worst reports first, and each item's cells.

An item is either a failed rule result (with the cells it read) or a flagged cell: ``unsplittable`` or
``inferred_split`` glued digits, or an OCR reading of low confidence (``cell_flag`` 'ocr_low').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.store.corrections import reviewed_cells_sql, split_code
from govinfo_pipeline.store.schema import quote_cols

FLAGS = ("unsplittable", "inferred_split", "ocr_low")


@dataclass
class Item:
    """One thing for a person to look at."""

    report_id: str
    agency_name: str | None
    report_year: int | None
    source_path: str
    source_format: str | None
    errors: int  # the report's failed error rules: worst reports first
    warnings: int
    rule_id: str | None = None  # a failed rule result, or
    subject: str | None = None
    level: str | None = None
    operands: str | None = None
    message: str | None = None
    flag: str | None = None  # a flagged cell
    codes: list[str] = field(default_factory=list)
    review: str | None = None  # the result on the reviewed cells: resolved, source_error, confirmed, …
    reviewed_outcome: str | None = None

    @property
    def key(self) -> dict[str, str]:
        """The item's address on the desk (query parameters of /item)."""
        if self.rule_id:
            return {"report": self.report_id, "rule": self.rule_id, "subject": self.subject or ""}
        return {"report": self.report_id, "cell": self.codes[0]}

    @property
    def href(self) -> str:
        return "/item?" + urlencode(self.key)


def item_path(report_id: str, rule_id: str | None = None, subject: str | None = None, cell: str | None = None) -> str:
    """The desk's address of a rule result or a cell (used by the HTML year report too)."""
    if rule_id:
        return "/item?" + urlencode({"report": report_id, "rule": rule_id, "subject": subject or ""})
    return "/item?" + urlencode({"report": report_id, "cell": cell or ""})


def _read(engine: sa.Engine, sql: str, params: dict | None = None) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn, params=params or {})


def _none(v: object) -> object:
    return None if v is None or (not isinstance(v, str | list) and pd.isna(v)) else v


def items(
    engine: sa.Engine,
    year: int | None = None,
    agency: str | None = None,
    rule: str | None = None,
    flag: str | None = None,
) -> list[Item]:
    """The queue: every failed rule result and every flagged cell, worst reports first, filtered as asked
    (``rule`` keeps rule results of that rule only, ``flag`` flagged cells of that flag only)."""
    row, col = quote_cols(engine).values()
    reps = _read(
        engine,
        """SELECT r.report_id, r.agency_name, r.report_year, r.source_path, r.source_format,
                  SUM(CASE WHEN q.passed = FALSE AND q.level = 'error' THEN 1 ELSE 0 END) AS errors,
                  SUM(CASE WHEN q.passed = FALSE AND q.level <> 'error' THEN 1 ELSE 0 END) AS warnings
           FROM reports r LEFT JOIN quality_results q ON q.report_id = r.report_id
           GROUP BY r.report_id, r.agency_name, r.report_year, r.source_path, r.source_format""",
    )
    if year is not None:
        reps = reps[reps["report_year"] == year]
    if agency:
        reps = reps[reps["agency_name"].fillna("").str.contains(agency, regex=False)]
    by_id = {r["report_id"]: r for r in reps.to_dict("records")}
    out: list[Item] = []

    def base(rid: str) -> dict:
        r = by_id[rid]
        return {
            "report_id": rid,
            "agency_name": _none(r["agency_name"]),
            "report_year": None if pd.isna(r["report_year"]) else int(r["report_year"]),
            "source_path": r["source_path"],
            "source_format": _none(r["source_format"]),
            "errors": int(r["errors"] or 0),
            "warnings": int(r["warnings"] or 0),
        }

    if not flag:
        failed = _read(
            engine,
            """SELECT q.report_id, q.rule_id, q.level, q.subject, q.operands, q.message, q.cells,
                      rv.review, rv.outcome AS reviewed_outcome
               FROM quality_results q LEFT JOIN review_results rv ON rv.report_id = q.report_id
                    AND rv.rule_id = q.rule_id AND rv.subject IS NOT DISTINCT FROM q.subject
                    AND rv.operands IS NOT DISTINCT FROM q.operands
               WHERE q.passed = FALSE""",
        )
        if rule:
            failed = failed[failed["rule_id"] == rule]
        for r in failed.to_dict("records"):
            if r["report_id"] in by_id:
                codes = [c.strip() for c in (r["cells"] or "").split(",") if c.strip().count(".") == 2]
                out.append(
                    Item(
                        **base(r["report_id"]),
                        rule_id=r["rule_id"],
                        subject=_none(r["subject"]),  # type: ignore[arg-type]
                        level=r["level"],
                        operands=_none(r["operands"]),  # type: ignore[arg-type]
                        message=_none(r["message"]),  # type: ignore[arg-type]
                        codes=codes,
                        review=_none(r["review"]),  # type: ignore[arg-type]
                        reviewed_outcome=_none(r["reviewed_outcome"]),  # type: ignore[arg-type]
                    )
                )
    if not rule:
        flags = [flag] if flag else list(FLAGS)
        marks = ", ".join(f"'{f}'" for f in flags if f in FLAGS) or "''"
        cells = _read(
            engine,
            f"SELECT c.report_id, c.section, c.{row} AS row_code, c.{col} AS col_code, c.cell_flag, c.review_kind "
            f"FROM {reviewed_cells_sql(engine)} c WHERE c.cell_flag IN ({marks})",
        )
        for r in cells.to_dict("records"):
            if r["report_id"] in by_id:
                code = f"{r['section']}.{r['row_code']}.{r['col_code']}"
                out.append(
                    Item(
                        **base(r["report_id"]),
                        flag=r["cell_flag"],
                        codes=[code],
                        review=_none(r["review_kind"]),  # type: ignore[arg-type]
                    )
                )
    out.sort(key=lambda i: (-i.errors, -i.warnings, i.source_path, i.rule_id or "~", i.subject or "", i.codes[:1]))
    return out


def find_item(engine: sa.Engine, report_id: str, rule_id: str | None, subject: str | None, cell: str | None):
    """The queue's item at this address, or a one-cell item for any cell of a held report (None if unknown)."""
    for it in items(engine):
        if it.report_id != report_id:
            continue
        if rule_id and it.rule_id == rule_id and (it.subject or "") == (subject or ""):
            return it
        if cell and not rule_id and it.flag and it.codes == [cell]:
            return it
    if cell and not rule_id and cell_detail(engine, report_id, cell) is not None:
        rep = _read(
            engine,
            "SELECT report_id, agency_name, report_year, source_path, source_format FROM reports WHERE report_id = :r",
            {"r": report_id},
        ).to_dict("records")[0]
        return Item(**{k: _none(v) for k, v in rep.items()}, errors=0, warnings=0, codes=[cell])  # type: ignore[arg-type]
    return None


def _labels() -> dict[str, str]:
    """``section.row.col`` → the template's row label (Chinese) and the column code."""
    out: dict[str, str] = {}
    for t in codebook.TEMPLATES:
        for section in ("proactive", "application", "review_litigation"):
            for r in codebook.rows(t, section):
                for c in r.cols:
                    out.setdefault(f"{section}.{r.row}.{c}", f"{r.label} · {c}")
    return out


def cell_rows(engine: sa.Engine, report_id: str, codes: list[str]) -> list[dict]:
    """Each named cell of a report as read and as reviewed, with where it stands in the source, in list order."""
    out = []
    labels = _labels()
    for code in codes:
        cell = cell_detail(engine, report_id, code)
        if cell is not None:
            out.append({**cell, "label": labels.get(code, "")})
    return out


def cell_detail(engine: sa.Engine, report_id: str, code: str) -> dict | None:
    """One cell of a report: what was read, the reviewed value, its source position and box, its file."""
    try:
        section, row_code, col_code = split_code(code)
    except ValueError:
        return None
    row, col = quote_cols(engine).values()
    got = _read(
        engine,
        f"""SELECT c.report_id, c.section, c.{row} AS row_code, c.{col} AS col_code, c.value, c.unit, c.cell_status,
                   c.raw_text, c.source_line, c.source_offset, c.source_page, c.source_table, c.source_row,
                   c.source_col, c.cell_flag, c.box_x0, c.box_top, c.box_x1, c.box_bottom, c.ocr_confidence,
                   v.value AS reviewed_value, v.cell_status AS reviewed_status, v.value_source, v.review_kind,
                   v.reviewer, r.source_path, r.source_format, r.source_sha256
            FROM report_cells c JOIN reports r ON r.report_id = c.report_id
            JOIN {reviewed_cells_sql(engine)} v ON v.report_id = c.report_id AND v.section = c.section
                 AND v.{row} = c.{row} AND v.{col} = c.{col}
            WHERE c.report_id = :r AND c.section = :s AND c.{row} = :row AND c.{col} = :col""",
        {"r": report_id, "s": section, "row": row_code, "col": col_code},
    )
    if got.empty:
        return None
    rec = {k: _none(v) for k, v in got.iloc[0].to_dict().items()}
    rec["code"] = code
    return rec


def history(engine: sa.Engine, report_id: str) -> pd.DataFrame:
    """The report's corrections, newest first, with their state (applied, superseded, stale)."""
    from govinfo_pipeline.store.corrections import with_state

    rows = with_state(engine, [report_id])
    return rows.iloc[::-1].reset_index(drop=True)


def filters(engine: sa.Engine) -> dict[str, list]:
    """The values the queue can be filtered by."""
    years = _read(engine, "SELECT DISTINCT report_year FROM reports WHERE report_year IS NOT NULL ORDER BY 1")
    rules = _read(engine, "SELECT DISTINCT rule_id FROM quality_results WHERE passed = FALSE ORDER BY 1")
    return {
        "years": [int(y) for y in years["report_year"]],
        "rules": list(rules["rule_id"]),
        "flags": list(FLAGS),
    }
