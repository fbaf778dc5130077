"""Corrections in the warehouse: saving a reviewer's decision, which ones apply, the rules on the reviewed cells,
and sharing corrections as CSV or YAML.

A correction names the report, the cell (``section.row.col``) and the sha256 of the file the reviewer saw. It
applies while the warehouse holds that very file; once the file at its path has other bytes it is ``stale``
(kept, shown, never applied). ``report_cells`` is never written here: the reviewed layer is a view over it.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import uuid
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import yaml

from govinfo_pipeline.quality.review import KINDS, BadCorrection, corrected_value, in_force, reevaluate
from govinfo_pipeline.store.schema import (
    corrections,
    prose_numbers,
    quality_results,
    quote_cols,
    report_cells,
    reports,
    review_results,
)
from govinfo_pipeline.store.writes import _bulk_insert, chunks

FIELDS = [c.name for c in corrections.columns]


def default_reviewer() -> str:
    """The OS user, when no reviewer is named."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def split_code(code: str) -> tuple[str, str, str]:
    """``section.row.col`` → its three parts."""
    parts = code.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise BadCorrection(f"{code!r} is not a cell code section.row.col")
    return parts[0], parts[1], parts[2]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def save(
    engine: sa.Engine,
    report_id: str,
    code: str,
    kind: str,
    typed: str | None = None,
    reviewer: str | None = None,
    note: str | None = None,
) -> dict:
    """Write one correction row at once, against the file the warehouse holds now; returns the row."""
    section, row, col = split_code(code)
    value, status = corrected_value(kind, typed)
    with engine.begin() as conn:
        rep = conn.execute(
            sa.select(reports.c.source_sha256, reports.c.source_path).where(reports.c.report_id == report_id)
        ).first()
        if rep is None:
            raise BadCorrection(f"the warehouse holds no report {report_id!r}")
        cell = conn.execute(
            sa.select(report_cells.c.value, report_cells.c.cell_status).where(
                report_cells.c.report_id == report_id,
                report_cells.c.section == section,
                report_cells.c.row == row,
                report_cells.c.col == col,
            )
        ).first()
        if cell is None:
            raise BadCorrection(f"report {report_id} has no cell {code}")
        record = {
            "correction_id": uuid.uuid4().hex,
            "report_id": report_id,
            "source_sha256": rep.source_sha256,
            "source_path": rep.source_path,
            "section": section,
            "row": row,
            "col": col,
            "kind": kind,
            "value": value,
            "cell_status": status,
            "read_value": cell.value,
            "read_status": cell.cell_status,
            "reviewer": (reviewer or default_reviewer()).strip() or default_reviewer(),
            "note": note or None,
            "corrected_at": _now(),
        }
        conn.execute(corrections.insert().values(**record))
    return record


def load(engine: sa.Engine, report_ids: list[str] | None = None) -> pd.DataFrame:
    """Every correction row (or those of these reports), oldest first."""
    query = sa.select(corrections).order_by(corrections.c.corrected_at, corrections.c.correction_id)
    with engine.connect() as conn:
        if report_ids is None:
            return pd.read_sql(query, conn)
        parts = [pd.read_sql(query.where(corrections.c.report_id.in_(p)), conn) for p in chunks(report_ids, 1000)]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FIELDS)


def with_state(engine: sa.Engine, report_ids: list[str] | None = None) -> pd.DataFrame:
    """Every correction with its ``state``: 'applied' (in force on the file held now), 'superseded' (a later
    correction of the same cell replaced it) or 'stale' (made against other bytes than the warehouse holds)."""
    rows = load(engine, report_ids)
    if rows.empty:
        return rows.assign(state=pd.Series(dtype=str))
    with engine.connect() as conn:
        held = pd.read_sql(sa.select(reports.c.report_id, reports.c.source_sha256), conn)
    current = rows.merge(held, on=["report_id", "source_sha256"], how="left", indicator=True)["_merge"] == "both"
    force = set(in_force(rows[current.to_numpy()])["correction_id"])
    rows["state"] = [
        "applied" if cid in force else "superseded" if ok else "stale"
        for cid, ok in zip(rows["correction_id"], current, strict=True)
    ]
    return rows


def applicable(engine: sa.Engine, report_ids: list[str] | None = None) -> pd.DataFrame:
    """The corrections made against the files the warehouse holds now (stale ones left out)."""
    rows = with_state(engine, report_ids)
    return rows[rows["state"] != "stale"].drop(columns="state").reset_index(drop=True)


def reviewed_cells_sql(engine: sa.Engine) -> str:
    """SQL of the reviewed layer: ``report_cells`` with the corrections in force laid over them, and
    ``value_source`` ('reader' or 'reviewer'), ``review_kind``, ``reviewer``, ``read_value``, ``read_status``."""
    row, col = quote_cols(engine).values()
    return f"""(
        SELECT c.report_id, c.section, c.{row}, c.{col},
               CASE WHEN k.kind = 'misread' THEN k.value ELSE c.value END AS value,
               CASE WHEN k.kind = 'misread' THEN NULL ELSE c.unit END AS unit,
               CASE WHEN k.kind = 'misread' THEN k.cell_status ELSE c.cell_status END AS cell_status,
               c.raw_text, c.source_line, c.source_page, c.cell_flag,
               CASE WHEN k.kind = 'misread' THEN 'reviewer' ELSE 'reader' END AS value_source,
               k.kind AS review_kind, k.reviewer, k.corrected_at AS reviewed_at,
               c.value AS read_value, c.cell_status AS read_status
        FROM report_cells c
        LEFT JOIN (
            SELECT x.*, ROW_NUMBER() OVER (
                       PARTITION BY x.report_id, x.section, x.{row}, x.{col}, x.source_sha256
                       ORDER BY x.corrected_at DESC, x.correction_id DESC) AS n
            FROM corrections x JOIN reports rr
                 ON rr.report_id = x.report_id AND rr.source_sha256 = x.source_sha256
        ) k ON k.n = 1 AND k.report_id = c.report_id AND k.section = c.section
               AND k.{row} = c.{row} AND k.{col} = c.{col}
    )"""


def refresh_results(engine: sa.Engine, report_ids: list[str] | None = None) -> int:
    """Evaluate the rules again on the reviewed cells of these reports (default: every report with corrections,
    and every report that had reviewed results) and replace their ``review_results``; returns the rows written."""
    if report_ids is None:
        with engine.connect() as conn:
            ids = {r[0] for r in conn.execute(sa.select(corrections.c.report_id).distinct())}
            ids |= {r[0] for r in conn.execute(sa.select(review_results.c.report_id).distinct())}
        report_ids = sorted(ids)
    written = 0
    for part in chunks(sorted(set(report_ids)), 500):
        force = applicable(engine, part)
        held = sorted(set(force["report_id"]))
        with engine.connect() as conn:
            reps = pd.read_sql(sa.select(reports).where(reports.c.report_id.in_(held)), conn)
            cells = pd.read_sql(sa.select(report_cells).where(report_cells.c.report_id.in_(held)), conn)
            claims = pd.read_sql(sa.select(prose_numbers).where(prose_numbers.c.report_id.in_(held)), conn)
        out = reevaluate(reps, cells, claims, force) if held else pd.DataFrame()
        if not out.empty:
            out = _as_stored(engine, out)
        with engine.begin() as conn:
            conn.execute(review_results.delete().where(review_results.c.report_id.in_(part)))
            if not out.empty:
                out = out.assign(checked_at=_now(), passed=out["passed"].astype(object).where(out["passed"].notna()))
                _bulk_insert(conn, review_results, out)
        written += len(out)
    with engine.begin() as conn:  # the reviewed results of reports that a new version of their file replaced
        conn.execute(review_results.delete().where(review_results.c.report_id.not_in(sa.select(reports.c.report_id))))
    return written


def _as_stored(engine: sa.Engine, out: pd.DataFrame) -> pd.DataFrame:
    """The operands text of each result as quality_results holds it, where one stored result has the same rule
    and subject (a batch may have written a line number as 12.0), so that the two join on it."""
    ids = sorted(set(out["report_id"]))
    with engine.connect() as conn:
        stored = pd.read_sql(
            sa.select(quality_results.c.report_id, quality_results.c.rule_id, quality_results.c.subject,
                      quality_results.c.operands).where(quality_results.c.report_id.in_(ids)),
            conn,
        )  # fmt: skip
    key = ["report_id", "rule_id", "subject"]
    single = stored[~stored.duplicated(key, keep=False)].rename(columns={"operands": "stored_operands"})
    merged = out.merge(single, on=key, how="left")
    merged["operands"] = merged["stored_operands"].where(merged["stored_operands"].notna(), merged["operands"])
    return merged.drop(columns="stored_operands")


def export(engine: sa.Engine, path: Path) -> int:
    """Write every correction row to ``path`` (.csv: UTF-8 with a byte-order mark; .yaml/.yml); returns the count."""
    records = [{str(k): _plain(v) for k, v in rec.items()} for rec in load(engine).to_dict("records")]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        path.write_text(buf.getvalue(), encoding="utf-8-sig")
    return len(records)


def _plain(v: object) -> object:
    """A value as YAML and CSV write it: None, an ISO time, a float or a str."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, float | int) and not isinstance(v, bool):
        return float(v)
    return str(v)


def _number(text: object) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    return float(text)  # type: ignore[arg-type]


def import_(engine: sa.Engine, path: Path) -> tuple[int, int]:
    """Add the corrections of a CSV or YAML file that the warehouse does not hold yet (by ``correction_id``);
    returns (added, already held). A row with an unknown kind or no reviewer stops the import: nothing is added."""
    if path.suffix.lower() in (".yaml", ".yml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    else:
        raw = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    rows = []
    for i, r in enumerate(raw, start=1):
        if r.get("kind") not in KINDS:
            raise BadCorrection(f"{path.name}, correction {i}: unknown kind {r.get('kind')!r}")
        if not (r.get("reviewer") and r.get("report_id") and r.get("source_sha256")):
            raise BadCorrection(f"{path.name}, correction {i}: report_id, source_sha256 and reviewer are required")
        when = r.get("corrected_at")
        rows.append(
            {
                **{k: (r.get(k) or None) for k in FIELDS},
                "correction_id": str(r.get("correction_id") or uuid.uuid4().hex),
                "value": _number(r.get("value")),
                "read_value": _number(r.get("read_value")),
                "corrected_at": pd.Timestamp(when).to_pydatetime() if when else _now(),
            }
        )
    with engine.begin() as conn:
        held = {x[0] for x in conn.execute(sa.select(corrections.c.correction_id))}
        new = [r for r in rows if r["correction_id"] not in held]
        if new:
            conn.execute(corrections.insert(), new)
    return len(new), len(rows) - len(new)


def fingerprint(engine: sa.Engine) -> str:
    """A version of the corrections: it changes whenever one is saved or imported."""
    with engine.connect() as conn:
        n, last = conn.execute(sa.select(sa.func.count(), sa.func.max(corrections.c.corrected_at))).one()
    return f"{n}-{last.isoformat() if last else 'none'}"


def latest_time(engine: sa.Engine) -> dt.datetime | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(corrections.c.corrected_at))).scalar()


def changed_since(engine: sa.Engine, since: dt.datetime | None) -> dict[int, set[str]]:
    """The reports (by year) with corrections saved after ``since`` that the warehouse holds."""
    query = sa.select(reports.c.report_year, corrections.c.report_id).join(
        reports, reports.c.report_id == corrections.c.report_id
    )
    if since is not None:
        query = query.where(corrections.c.corrected_at > since)
    out: dict[int, set[str]] = {}
    with engine.connect() as conn:
        for year, rid in conn.execute(query):
            if year is not None:
                out.setdefault(int(year), set()).add(rid)
    return out


def reports_to_review(engine: sa.Engine, years: list[int]) -> list[str]:
    """The reports of these years whose reviewed results may need working out again: those with corrections
    (whatever their state) and those that hold reviewed results."""
    ids: set[str] = set()
    with engine.connect() as conn:
        for table in (corrections, review_results):
            query = sa.select(table.c.report_id).distinct().join(reports, reports.c.report_id == table.c.report_id)
            ids |= {r[0] for r in conn.execute(query.where(reports.c.report_year.in_(years)))}
    return sorted(ids)
