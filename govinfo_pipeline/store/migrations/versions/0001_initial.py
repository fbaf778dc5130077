"""The first warehouse schema: reports, cells, sections, prose figures, rule results, rejections,
validations, report history and run accounting.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "reports",
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
    )
    op.create_table(
        "report_cells",
        sa.Column("report_id", sa.String(32), primary_key=True),
        sa.Column("section", sa.String(32), primary_key=True),
        sa.Column("row", sa.String(48), primary_key=True),
        sa.Column("col", sa.String(48), primary_key=True),
        sa.Column("value", sa.Double),
        sa.Column("unit", sa.String(8)),
        sa.Column("cell_status", sa.String(8), nullable=False),
        sa.Column("raw_text", sa.Text),
        sa.Column("source_line", sa.Integer),
    )
    op.create_table(
        "report_sections",
        sa.Column("report_id", sa.String(32), primary_key=True),
        sa.Column("section_no", sa.Integer, primary_key=True),
        sa.Column("heading", sa.Text),
        sa.Column("body_text", sa.Text),
        sa.Column("source_line", sa.Integer),
    )
    op.create_table(
        "quality_results",
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(16), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("passed", sa.Boolean),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text),
        sa.Column("expected", sa.Double),
        sa.Column("observed", sa.Double),
        sa.Column("operands", sa.Text),
        sa.Column("cells", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("checked_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_quality_results_report_id", "quality_results", ["report_id"])
    op.create_table(
        "report_prose_numbers",
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("figure", sa.String(32), nullable=False),
        sa.Column("value", sa.Double),
        sa.Column("phrase", sa.Text),
        sa.Column("source_line", sa.Integer),
    )
    op.create_index("ix_report_prose_numbers_report_id", "report_prose_numbers", ["report_id"])
    op.create_table(
        "validations",
        sa.Column("run_id", sa.String(64)),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("asset_key", sa.Text),
        sa.Column("partitions", sa.String(32)),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("critical_failed", sa.Boolean, nullable=False),
        sa.Column("evaluated", sa.Integer),
        sa.Column("unsuccessful", sa.Integer),
        sa.Column("failures", sa.Text),
        sa.Column("validated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_validations_run_id", "validations", ["run_id"])
    op.create_table(
        "report_history",
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("loaded_at", sa.DateTime),
        sa.Column("replaced_at", sa.DateTime, nullable=False),
        sa.Column("replaced_by", sa.String(32)),
    )
    op.create_index("ix_report_history_source_path", "report_history", ["source_path"])
    op.create_table(
        "run_accounting",
        sa.Column("run_id", sa.String(64)),
        sa.Column("partitions", sa.String(32)),
        sa.Column("files_seen", sa.Integer, nullable=False),
        sa.Column("reports_loaded", sa.Integer, nullable=False),
        sa.Column("rejections", sa.Integer, nullable=False),
        sa.Column("balanced", sa.Boolean, nullable=False),
        sa.Column("checked_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_run_accounting_run_id", "run_accounting", ["run_id"])
    op.create_table(
        "rejections",
        sa.Column("source_path", sa.Text, primary_key=True),
        sa.Column("source_sha256", sa.String(64)),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("duplicate_of", sa.String(32)),
        sa.Column("rejected_at", sa.DateTime, nullable=False),
    )
