"""Export the warehouse for analysts: every contract table and view as CSV or Parquet, and a data dictionary.

CSV files are UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly; NULL is an empty
field. Parquet files carry the warehouse's column types (taken from the query's result description, so an
all-NULL column keeps its type). Tables and views are read in chunks, so a national warehouse does not have to
fit in memory. Views are exported by running their SQL (``warehouse.view_sql``) rather than by name, so a
read-only connection to a warehouse whose views predate this version still gets every view.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from govinfo_pipeline import store as wh
from govinfo_pipeline.parse import codebook

FORMATS = ("csv", "parquet")
CONTRACT_TABLES = (
    "reports",
    "report_cells",
    "report_sections",
    "quality_results",
    "rejections",
    "report_prose_numbers",
    "validations",
    "agencies",
    "agency_aliases",
    "corrections",
    "review_results",
)
# Deterministic row order in the files (columns that exist in every schema version).
ORDER_BY = {
    "reports": ("report_id",),
    "report_cells": ("report_id", "section", "row", "col"),
    "report_sections": ("report_id", "section_no"),
    "quality_results": ("report_id", "rule_id", "subject", "operands"),
    "rejections": ("source_path",),
    "report_prose_numbers": ("report_id", "source_line", "figure", "phrase"),
    "validations": ("validated_at", "suite", "run_id"),
    "agencies": ("agency_id",),
    "agency_aliases": ("alias",),
    "corrections": ("corrected_at", "correction_id"),
    "review_results": ("report_id", "rule_id", "subject", "operands"),
    "v_year_over_year": ("agency_id", "report_year", "report_id"),
    "v_cells": ("report_id", "section", "row", "col"),
    "v_agency_year": ("report_id",),
    "v_applications_wide": ("report_id", "row_order"),
    "v_outcome_rates": ("report_id",),
    "v_outcome_rates_year": ("report_year",),
    "v_rule_failures": ("report_id", "rule_id", "subject", "operands", "cell_no"),
}
CHUNK_ROWS = 200_000

# Rules the rules engine reports that codebook.yaml does not list (yet); their text is the README's.
EXTRA_RULES = {
    "K1": {"level": "warning", "text": "a table left entirely blank: incomplete, not zero"},
    "K2": {"level": "warning", "text": "cells missing from the report altogether (cell_status 'absent')"},
    "K0": {"level": "warning", "text": "the report's tables were read (a report whose parse failed cannot pass)"},
}

DICTIONARY_COLUMNS = [
    "entry",
    "code",
    "section",
    "section_label",
    "row",
    "row_label",
    "row_group",
    "col",
    "col_label",
    "col_group",
    "templates",
    "kind",
    "unit",
    "level",
    "text",
    "note",
]


@dataclass(frozen=True)
class Exported:
    name: str  # table or view
    path: Path
    rows: int
    columns: tuple[str, ...]


# ---- reading ----------------------------------------------------------------------------------------------------


def sources(engine: sa.Engine) -> dict[str, str]:
    """Every contract table and view -> the SELECT that reads it, ordered for stable files."""
    quote = engine.dialect.identifier_preparer.quote
    out = {t: f"SELECT * FROM {t}" for t in CONTRACT_TABLES}
    out.update({name: f"SELECT * FROM ({sql}) v" for name, sql in wh.view_sql(engine).items()})
    return {
        name: sql + (" ORDER BY " + ", ".join(quote(c) for c in ORDER_BY[name]) if name in ORDER_BY else "")
        for name, sql in out.items()
    }


_PG_TYPES = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    1042: pa.string(),
    1043: pa.string(),
    700: pa.float64(),
    701: pa.float64(),
    1700: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}
_DUCK_TYPES = {
    "BOOLEAN": pa.bool_(),
    "TINYINT": pa.int8(),
    "SMALLINT": pa.int16(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "HUGEINT": pa.int64(),
    "UTINYINT": pa.int16(),
    "USMALLINT": pa.int32(),
    "UINTEGER": pa.int64(),
    "FLOAT": pa.float64(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
}


def _arrow_type(dialect: str, type_code: object) -> pa.DataType | None:
    if dialect == "postgresql":
        return _PG_TYPES.get(cast(int, type_code))  # psycopg describes a column's type by its OID
    name = str(type_code).upper()
    if name.startswith("DECIMAL"):
        return pa.float64()
    return _DUCK_TYPES.get(name)


def _chunks(conn: sa.Connection, sql: str, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, list[pa.DataType]]]:
    """The query's rows in DataFrames of at most ``chunk_rows`` (at least one, maybe empty), typed as the
    warehouse types them, with each column's Arrow type (None when the mapping does not know it)."""
    result = conn.execution_options(stream_results=True).exec_driver_sql(sql)
    try:
        dialect = conn.dialect.name
        types = [_arrow_type(dialect, d[1]) for d in result.cursor.description]
        columns = list(result.keys())
        while True:
            rows = result.fetchmany(chunk_rows)
            yield _typed(pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns), types), types
            if len(rows) < chunk_rows:
                break
    finally:
        result.close()


def _typed(df: pd.DataFrame, types: list[pa.DataType | None]) -> pd.DataFrame:
    """Integers stay integers (nullable) and booleans booleans, whatever NULLs the chunk holds."""
    for name, typ in zip(df.columns, types, strict=True):
        if typ is None:
            continue
        if pa.types.is_integer(typ):
            df[name] = pd.to_numeric(df[name]).astype("Int64")
        elif pa.types.is_floating(typ):
            df[name] = pd.to_numeric(df[name]).astype("float64")
        elif pa.types.is_boolean(typ):
            df[name] = df[name].astype("boolean")
        elif pa.types.is_timestamp(typ):
            df[name] = pd.to_datetime(df[name])
    return df


def _schema(df: pd.DataFrame, types: list[pa.DataType | None]) -> pa.Schema:
    fields = []
    for name, typ in zip(df.columns, types, strict=True):
        if typ is None:  # unknown to the mapping: as pyarrow infers it from the first chunk
            typ = pa.array(df[name], from_pandas=True).type
            typ = pa.string() if pa.types.is_null(typ) else typ
        fields.append(pa.field(str(name), typ))
    return pa.schema(fields)


def _write_one(conn: sa.Connection, name: str, sql: str, target: Path, fmt: str, chunk_rows: int) -> Exported:
    rows = 0
    columns: tuple[str, ...] = ()
    if fmt == "csv":
        with open(target, "w", encoding="utf-8-sig", newline="") as fh:  # one handle: one BOM
            for i, (df, _) in enumerate(_chunks(conn, sql, chunk_rows)):
                columns = tuple(map(str, df.columns))
                df.to_csv(fh, index=False, header=i == 0, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
                rows += len(df)
        return Exported(name, target, rows, columns)
    writer = None
    try:
        for df, types in _chunks(conn, sql, chunk_rows):
            if writer is None:
                schema = _schema(df, types)
                columns = tuple(schema.names)
                writer = pq.ParquetWriter(target, schema)
            writer.write_table(pa.Table.from_pandas(df, schema=writer.schema, preserve_index=False, safe=True))
            rows += len(df)
    finally:
        if writer is not None:
            writer.close()
    return Exported(name, target, rows, columns)


def export(
    engine: sa.Engine,
    out_dir: Path | str,
    fmt: str = "csv",
    chunk_rows: int = CHUNK_ROWS,
    on_written: Callable[[Exported], None] | None = None,
) -> list[Exported]:
    """Write every contract table and view to ``out_dir`` as ``<name>.csv`` or ``<name>.parquet``, and the data
    dictionary (``data_dictionary.csv`` and ``data_dictionary.md``). Returns what was written, dictionary last;
    ``on_written`` is told of each file as soon as it is complete (progress of a long export)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with engine.connect() as conn:
        for name, sql in sources(engine).items():
            written.append(_write_one(conn, name, sql, out / f"{name}.{fmt}", fmt, chunk_rows))
            if on_written:
                on_written(written[-1])
    dictionary = write_dictionary(out, written)
    for f in dictionary:
        if on_written:
            on_written(f)
    return written + dictionary


# ---- data dictionary ----------------------------------------------------------------------------------------------


def _labels(entries: list[dict], key: str) -> dict[str, dict]:
    return {e[key]: e for e in entries}


def cell_dictionary() -> pd.DataFrame:
    """Every cell code of either template, with its Chinese labels, templates, kind and unit."""
    cb = codebook.load()
    section_label = {s["code"]: s["label"] for s in cb["sections"]}
    pcols = cb["proactive_cols"]
    app_cols = _labels(cb["application_cols"], "col")
    app_rows = _labels(cb["application_rows"], "row")
    rl_cols = _labels(cb["review_litigation_cols"], "col")
    rl_rows = _labels(cb["review_litigation_rows"], "row")
    entries: dict[tuple[str, str, str], dict] = {}
    for section in codebook.SECTIONS:
        for template in codebook.TEMPLATES:
            specs = {(c.row, c.col): c for c in codebook.cells(template) if c.section == section}
            for r in codebook.rows(template, section):
                for c in r.cols:
                    spec = specs[(r.row, c)]
                    if section == "proactive":
                        p_row = next(x for x in cb["proactive"][template] if x["row"] == r.row)
                        row_group, col_label, col_group = p_row.get("clause"), pcols[c]["label"], None
                    elif section == "application":
                        row_group = app_rows[r.row].get("group")
                        col_label, col_group = app_cols[c]["label"], app_cols[c].get("group")
                    else:
                        row_group = rl_rows[r.row].get("group")
                        col_label, col_group = rl_cols[c]["label"], rl_cols[c].get("group")
                    e = entries.setdefault(
                        (section, r.row, c),
                        {
                            "entry": "cell",
                            "code": f"{section}.{r.row}.{c}",
                            "section": section,
                            "section_label": section_label.get(section),
                            "row": r.row,
                            "row_label": {},
                            "row_group": row_group,
                            "col": c,
                            "col_label": {},
                            "col_group": col_group,
                            "templates": [],
                            "kind": spec.kind,
                            "unit": spec.default_unit or ("元 or 万元, as written" if spec.kind == "money" else None),
                        },
                    )
                    e["templates"].append(template)
                    e["row_label"][template] = r.label
                    e["col_label"][template] = col_label
    rows = []
    for e in entries.values():
        for key in ("row_label", "col_label"):  # one label, or each template's when they differ
            labels = e[key]
            e[key] = (
                next(iter(labels.values()))
                if len(set(labels.values())) == 1
                else "; ".join(f"{t}: {lab}" for t, lab in labels.items())
            )
        e["templates"] = ",".join(e["templates"])
        rows.append(e)
    return pd.DataFrame(rows, columns=DICTIONARY_COLUMNS)


def rule_dictionary() -> pd.DataFrame:
    """Every rule id with its level and text (the codebook's, and the rules the engine adds)."""
    rows = [
        {"entry": "rule", "code": rid, "level": r["level"], "text": r["text"]} for rid, r in codebook.rules().items()
    ]
    rows += [
        {
            "entry": "rule",
            "code": rid,
            "level": r["level"],
            "text": r["text"],
            "note": "reported by the rules engine; not in codebook.yaml",
        }
        for rid, r in EXTRA_RULES.items()
        if rid not in codebook.rules()
    ]
    return pd.DataFrame(rows, columns=DICTIONARY_COLUMNS)


def dictionary() -> pd.DataFrame:
    return pd.concat([cell_dictionary(), rule_dictionary()], ignore_index=True)


def _md_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(df: pd.DataFrame, columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in df[columns].itertuples(index=False)]
    return lines


def dictionary_markdown(files: list[Exported] | None = None) -> str:
    cb = codebook.load()
    cells = cell_dictionary()
    rules = rule_dictionary()
    lines = [
        "# govinfo warehouse — data dictionary",
        "",
        "Generated from `govinfo_pipeline/codebook.yaml`. Every table cell of the 政府信息公开工作年度报告 "
        "templates has a code `section.row.col`; `report_cells`, `v_cells` and `v_rule_failures` use these "
        "codes. `templates` lists the templates that have the cell (2019: 国办公开办函〔2019〕60号, used for the "
        "2019–2020 reports; 2021: 国办公开办函〔2021〕30号, from the 2021 reports on). Counts have no unit; "
        "money cells carry theirs in `report_cells.unit`.",
        "",
    ]
    if files:
        lines += ["## Files", "", "| file | rows | columns |", "|---|---|---|"]
        lines += [f"| `{f.path.name}` | {f.rows} | {', '.join(f.columns)} |" for f in files]
        lines += [""]
    lines += [f"## Cell codes ({len(cells)})", ""]
    for section in codebook.SECTIONS:
        part = cells[cells["section"] == section]
        lines += [f"### {section} — {part['section_label'].iloc[0]} ({len(part)} cells)", ""]
        lines += _md_table(
            part, ["code", "row_label", "row_group", "col_label", "col_group", "templates", "kind", "unit"]
        )
        lines += [""]
    lines += [f"## Rules ({len(rules)})", ""]
    lines += _md_table(rules, ["code", "level", "text", "note"])
    lines += ["", "## Cell status (`cell_status`)", "", "| status | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {_md_cell(v)} |" for k, v in cb["cell_status"].items()]
    return "\n".join(lines) + "\n"


def write_dictionary(out_dir: Path, files: list[Exported] | None = None) -> list[Exported]:
    """``data_dictionary.csv`` (cells and rules, one per line; ``entry`` says which) and ``data_dictionary.md``."""
    df = dictionary()
    csv_path = out_dir / "data_dictionary.csv"
    df.to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    md_path = out_dir / "data_dictionary.md"
    md_path.write_text(dictionary_markdown(files), encoding="utf-8")
    return [
        Exported("data_dictionary", csv_path, len(df), tuple(df.columns)),
        Exported("data_dictionary_md", md_path, len(df), ()),
    ]
