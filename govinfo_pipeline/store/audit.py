"""The warehouse audit: does the warehouse hold exactly the rows the facts stage produced?"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline.store.schema import BATCH_TABLES, reports
from govinfo_pipeline.store.writes import chunks


def warehouse_audit(engine: sa.Engine, batch: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per table: rows the facts stage produced for this batch, rows the warehouse holds, orphan rows."""
    ids = batch["reports"]["report_id"].tolist()
    rows = []
    with engine.connect() as conn:
        for frame, table in BATCH_TABLES.items():
            if frame == "rejections":  # keyed by file, not by report
                continue
            table_name = table.name
            stored = 0
            for chunk in chunks(ids, 1000):
                query = sa.select(sa.func.count()).select_from(table).where(table.c.report_id.in_(chunk))
                if table_name == "quality_results":  # X1 and S1 are worked out in the warehouse, across reports
                    query = query.where(table.c.rule_id.not_in(["X1", "S1"]))
                stored += conn.execute(query).scalar_one()
            orphans = 0
            if table_name != "reports":
                orphans = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(table.outerjoin(reports, reports.c.report_id == table.c.report_id))
                    .where(reports.c.report_id.is_(None))
                ).scalar_one()
            rows.append(
                {
                    "table": table_name,
                    "expected_rows": len(batch[frame]),
                    "stored_rows": int(stored),
                    "orphan_rows": int(orphans),
                }
            )
    return pd.DataFrame(rows)
