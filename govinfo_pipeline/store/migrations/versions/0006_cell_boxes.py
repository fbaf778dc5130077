"""Where each cell stands on its page: the box (x0, top, x1, bottom, in PDF points from the page's top-left
corner) of a cell read from a PDF's text layer or by OCR, and the OCR engine's confidence in its text, so that a
reviewer can be shown the crop of the page the number was read from.

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
