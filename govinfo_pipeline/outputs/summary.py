"""What ``govinfo run`` prints when it is done: what the warehouse holds, and the runs' accounting."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline.store.sessions import connect, duckdb_lock, redact


def summary(url: str, run_ids: list[str]) -> str:
    """A short account of what the warehouse holds, and of the runs' files."""
    with duckdb_lock(url):
        engine = connect(url)
        with engine.connect() as conn:
            reps = pd.read_sql(
                "SELECT parse_status, quality_status, COUNT(*) AS n FROM reports "
                "GROUP BY parse_status, quality_status ORDER BY parse_status, quality_status",
                conn,
            )
            n_cells = pd.read_sql(
                "SELECT cell_status, COUNT(*) AS n FROM report_cells GROUP BY cell_status ORDER BY cell_status", conn
            )
            outcomes = pd.read_sql(
                "SELECT outcome, COUNT(*) AS n FROM quality_results GROUP BY outcome ORDER BY outcome", conn
            )
            failures = pd.read_sql(
                "SELECT rule_id, level, COUNT(*) AS n FROM quality_results WHERE passed = FALSE "
                "GROUP BY rule_id, level ORDER BY rule_id",
                conn,
            )
            rej = pd.read_sql("SELECT reason, COUNT(*) AS n FROM rejections GROUP BY reason ORDER BY reason", conn)
            ledger = pd.read_sql(
                sa.text("SELECT * FROM run_accounting WHERE run_id IN :r").bindparams(
                    sa.bindparam("r", expanding=True)
                ),
                conn,
                params={"r": run_ids},
            )
        engine.dispose()
    lines = [
        f"warehouse: {redact(url)}",
        f"reports loaded: {int(reps['n'].sum())}  "
        + ", ".join(f"{r.parse_status}/{r.quality_status}: {r.n}" for r in reps.itertuples()),
        f"cells: {int(n_cells['n'].sum())}  " + ", ".join(f"{r.cell_status}: {r.n}" for r in n_cells.itertuples()),
        f"rule results: {int(outcomes['n'].sum())}  " + ", ".join(f"{r.outcome}: {r.n}" for r in outcomes.itertuples()),
        "failed rules: " + (", ".join(f"{r.rule_id} ({r.level}) ×{r.n}" for r in failures.itertuples()) or "none"),
        f"rejected files: {int(rej['n'].sum())}"
        + ("  " + ", ".join(f"{r.reason}: {r.n}" for r in rej.itertuples()) if len(rej) else ""),
    ]
    for r in ledger.itertuples():
        label = "this run" if len(run_ids) == 1 else f"run {r.partitions}"
        lines.append(
            f"{label}: {r.files_seen} files seen = {r.reports_loaded} reports + {r.rejections} rejections"
            + (" (balanced)" if r.balanced else "  — DOES NOT BALANCE")
        )
    return "\n".join(lines)
