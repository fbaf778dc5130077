"""Where each cell stands on its page: the box (x0, top, x1, bottom, in PDF points from the page's top-left
corner) of a cell read from a PDF's text layer or by OCR, and the OCR engine's confidence in its text, so that a
reviewer can be shown the crop of the page the number was read from.
Where each agency name was read (``manifest``, ``title`` or ``opening_prose``), on the report and on each
spelling in the registry, with the report the spelling was first read from.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

COLUMNS = ("box_x0", "box_top", "box_x1", "box_bottom", "ocr_confidence")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("report_cells", sa.Column(name, sa.Double))
    op.add_column("reports", sa.Column("agency_name_source", sa.String(16)))
    op.add_column("agency_aliases", sa.Column("name_source", sa.String(16)))
    op.add_column("agency_aliases", sa.Column("first_report_id", sa.String(32)))
