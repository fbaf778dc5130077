"""Glued text: where in a long line each cell starts, and whether its digits were split using the totals
('inferred_split') or could not be split with certainty ('unsplittable'). Each report's file modification
time, so that a re-run does not read unchanged files again. Each report's prose signature, worked out
once, so that copy-paste detection (S1) over a national year does not redo every report on each run.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("report_cells", sa.Column("source_offset", sa.Integer))
    op.add_column("report_cells", sa.Column("cell_flag", sa.String(16)))
    op.add_column("reports", sa.Column("source_mtime_ns", sa.BigInteger))
    op.create_table(
        "report_signatures",
        sa.Column("report_id", sa.String(32), primary_key=True),
        sa.Column("signature", sa.LargeBinary),
    )
