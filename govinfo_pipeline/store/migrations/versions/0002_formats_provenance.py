"""PDF, HTML and DOCX input: where each cell stood (page, table, row, column), the manifest's region
and source URL, and how long each validation took.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("reports", sa.Column("region", sa.Text))
    op.add_column("reports", sa.Column("source_url", sa.Text))
    for name in ("source_page", "source_table", "source_row", "source_col"):
        op.add_column("report_cells", sa.Column(name, sa.Integer))
    op.add_column("validations", sa.Column("rows", sa.BigInteger))
    op.add_column("validations", sa.Column("seconds", sa.Double))
