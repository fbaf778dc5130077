"""The warehouse tables (SQLAlchemy Core), shared by DuckDB and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


reports = sa.Table(
    "reports",
    metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("agency_name", sa.Text),
    sa.Column("agency_name_source", sa.String(16)),  # where the name was read: manifest, title or opening_prose
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
    "report_similarity",
    metadata,
    sa.Column("report_id", sa.String(32), nullable=False, index=True),
    sa.Column("other_report_id", sa.String(32), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),  # previous_year (same body) or same_year (other bodies)
    sa.Column("score", sa.Double, nullable=False),  # estimated Jaccard similarity of the prose's 4-grams
    sa.Column("checked_at", sa.DateTime, nullable=False),
)


signatures = sa.Table(
    "report_signatures",
    metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("signature", sa.LargeBinary),  # MinHash of the prose (64 × uint64); NULL when too short to judge
)


agencies = sa.Table(
    "agencies",
    metadata,
    sa.Column("agency_id", sa.String(16), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),  # the name as first seen
    sa.Column("region", sa.Text),
    sa.Column("level", sa.String(16)),  # 乡镇街道, 开发区, 政府, 部门 where the name tells
)


agency_aliases = sa.Table(
    "agency_aliases",
    metadata,
    sa.Column("alias", sa.Text, primary_key=True),  # every spelling seen
    sa.Column("agency_id", sa.String(16), nullable=False),
    sa.Column("name_source", sa.String(16)),  # where the spelling was first read: manifest, title or opening_prose
    sa.Column("first_report_id", sa.String(32)),  # the earliest report (by year, then id) that carries it
)


report_cells = sa.Table(
    "report_cells",
    metadata,
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
    # where the cell stands on its PDF page (points from the page's top-left corner) and an OCR engine's confidence
    sa.Column("box_x0", sa.Double),
    sa.Column("box_top", sa.Double),
    sa.Column("box_x1", sa.Double),
    sa.Column("box_bottom", sa.Double),
    sa.Column("ocr_confidence", sa.Double),
)


report_sections = sa.Table(
    "report_sections",
    metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column("section_no", sa.Integer, primary_key=True),
    sa.Column("heading", sa.Text),
    sa.Column("body_text", sa.Text),
    sa.Column("source_line", sa.Integer),
)


quality_results = sa.Table(
    "quality_results",
    metadata,
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
    "report_prose_numbers",
    metadata,
    sa.Column("report_id", sa.String(32), nullable=False, index=True),
    sa.Column("figure", sa.String(32), nullable=False),
    sa.Column("value", sa.Double),
    sa.Column("phrase", sa.Text),
    sa.Column("source_line", sa.Integer),
)


validations = sa.Table(
    "validations",
    metadata,
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
    "report_history",
    metadata,
    sa.Column("source_path", sa.Text, nullable=False, index=True),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("report_id", sa.String(32), nullable=False),
    sa.Column("loaded_at", sa.DateTime),
    sa.Column("replaced_at", sa.DateTime, nullable=False),
    sa.Column("replaced_by", sa.String(32)),  # the new report, or NULL when the file is now rejected
)


run_accounting = sa.Table(
    "run_accounting",
    metadata,
    sa.Column("run_id", sa.String(64), index=True),
    sa.Column("partitions", sa.String(32)),
    sa.Column("files_seen", sa.Integer, nullable=False),
    sa.Column("reports_loaded", sa.Integer, nullable=False),
    sa.Column("rejections", sa.Integer, nullable=False),
    sa.Column("balanced", sa.Boolean, nullable=False),
    sa.Column("checked_at", sa.DateTime, nullable=False),
)


rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("source_path", sa.Text, primary_key=True),
    sa.Column("source_sha256", sa.String(64)),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("duplicate_of", sa.String(32)),
    sa.Column("rejected_at", sa.DateTime, nullable=False),
)


corrections = sa.Table(
    "corrections",
    metadata,
    sa.Column("correction_id", sa.String(32), primary_key=True),
    sa.Column("report_id", sa.String(32), nullable=False, index=True),
    sa.Column("source_sha256", sa.String(64), nullable=False),  # the file the reviewer saw: another one is stale
    sa.Column("source_path", sa.Text),
    sa.Column("section", sa.String(32), nullable=False),
    sa.Column("row", sa.String(48), nullable=False),
    sa.Column("col", sa.String(48), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # 'misread', 'source_error' or 'confirmed'
    sa.Column("value", sa.Double),  # misread: the number the source says (NULL when it says blank or 无)
    sa.Column("cell_status", sa.String(8)),  # misread: the status the source says
    sa.Column("read_value", sa.Double),  # what the reader had made of the cell when the reviewer saw it
    sa.Column("read_status", sa.String(8)),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("corrected_at", sa.DateTime, nullable=False),
)


review_results = sa.Table(
    "review_results",
    metadata,
    sa.Column("report_id", sa.String(32), nullable=False, index=True),
    sa.Column("rule_id", sa.String(16), nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("operands", sa.Text),
    sa.Column("cells", sa.Text),
    sa.Column("read_outcome", sa.String(16)),  # the outcome on the cells as read (NULL: the rule gave no result)
    sa.Column("outcome", sa.String(16)),  # the outcome on the reviewed cells
    sa.Column("passed", sa.Boolean),
    sa.Column("expected", sa.Double),
    sa.Column("observed", sa.Double),
    sa.Column("review", sa.String(16), nullable=False),  # resolved, still_fails, confirmed, source_error, new_failure
    sa.Column("message", sa.Text),
    sa.Column("checked_at", sa.DateTime, nullable=False),
)


# child tables keyed by report_id
REPORT_TABLES = (report_cells, report_sections, quality_results, prose_numbers, similarity, signatures)
# The batch a run writes, frame by frame: which table each frame is written to (the one mapping between them).
BATCH_TABLES = {
    "reports": reports,
    "cells": report_cells,
    "sections": report_sections,
    "claims": prose_numbers,
    "results": quality_results,
    "rejections": rejections,
}


def _q(engine: sa.Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


def quote_cols(engine: sa.Engine) -> dict[str, str]:
    """The cell-code columns, quoted for the dialect (``row`` is a keyword in some)."""
    return {"row": _q(engine, "row"), "col": _q(engine, "col")}
