"""Copy-paste detection: how alike each report's prose is to its body's previous report and to other
bodies' reports of the same year.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "report_similarity",
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("other_report_id", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("checked_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_report_similarity_report_id", "report_similarity", ["report_id"])
