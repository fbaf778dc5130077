"""The agency dimension: a stable id per reporting body, its aliases, region and level.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("agency_id", sa.String(16), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region", sa.Text),
        sa.Column("level", sa.String(16)),
    )
    op.create_table(
        "agency_aliases",
        sa.Column("alias", sa.Text, primary_key=True),
        sa.Column("agency_id", sa.String(16), nullable=False),
    )
    op.add_column("reports", sa.Column("agency_id", sa.String(16)))
    op.create_index("ix_reports_agency_id", "reports", ["agency_id"])
