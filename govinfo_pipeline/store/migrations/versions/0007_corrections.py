"""Corrections as data: what a reviewer confirmed or corrected, per report, cell and source file (sha256), kept
apart from what was read; and the rules re-evaluated on the reviewed cells of the reports that have corrections.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("correction_id", sa.String(32), primary_key=True),
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_path", sa.Text),
        sa.Column("section", sa.String(32), nullable=False),
        sa.Column("row", sa.String(48), nullable=False),
        sa.Column("col", sa.String(48), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Double),
        sa.Column("cell_status", sa.String(8)),
        sa.Column("read_value", sa.Double),
        sa.Column("read_status", sa.String(8)),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("corrected_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_corrections_report_id", "corrections", ["report_id"])
    op.create_table(
        "review_results",
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(16), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("subject", sa.Text),
        sa.Column("operands", sa.Text),
        sa.Column("cells", sa.Text),
        sa.Column("read_outcome", sa.String(16)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("passed", sa.Boolean),
        sa.Column("expected", sa.Double),
        sa.Column("observed", sa.Double),
        sa.Column("review", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("checked_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_review_results_report_id", "review_results", ["report_id"])
