"""Stage 4, warehouse: the contract tables and views, written through SQLAlchemy."""

import dagster as dg
import pandas as pd

from govinfo_pipeline import store as wh
from govinfo_pipeline.defs.gx_checks import partition_label, run_suite, suite_spec
from govinfo_pipeline.defs.partitions import batch_policy, year_partitions
from govinfo_pipeline.defs.resources import Warehouse
from govinfo_pipeline.progress import meter
from govinfo_pipeline.store.audit import warehouse_audit
from govinfo_pipeline.store.writes import assemble

INS = {
    "reports": ["normalized", "reports"],
    "cells": ["normalized", "cells"],
    "sections": ["normalized", "sections"],
    "claims": ["normalized", "prose_numbers"],
    "rejections": ["normalized", "rejections"],
    "files": ["normalized", "files"],
    "rule_results": ["facts", "rule_results"],
    "report_quality": ["facts", "report_quality"],
}
# warehouse table -> the batch frame it is written from
TABLES = {table.name: frame for frame, table in wh.BATCH_TABLES.items()}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["warehouse", t],
            group_name="warehouse",
            kinds={"sql"},
            description=f"Warehouse table {t}.",
            deps=list(INS.values()),
        )
        for t in TABLES
    ],
    ins={name: dg.AssetIn(key) for name, key in INS.items()},
    partitions_def=year_partitions,
    backfill_policy=batch_policy,
    pool="warehouse_writer",
    check_specs=[suite_spec("warehouse_audit", ["warehouse", "reports"], blocking=False)],
)
def warehouse_tables(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    reports: pd.DataFrame,
    cells: pd.DataFrame,
    sections: pd.DataFrame,
    claims: pd.DataFrame,
    rejections: pd.DataFrame,
    files: pd.DataFrame,
    rule_results: pd.DataFrame,
    report_quality: pd.DataFrame,
):
    normalized = {"reports": reports, "cells": cells, "sections": sections, "claims": claims, "rejections": rejections}
    batch = assemble(normalized, {"results": rule_results, "status": report_quality})
    # One writer at a time per warehouse (DuckDB file lock, PostgreSQL advisory lock), also when runs share
    # no Dagster instance; within an instance the warehouse_writer pool already queues this step.
    writing = meter("write", len(batch["reports"]), context.run.tags, context.log.info)
    try:
        with warehouse.session(write=True) as engine:
            stats = wh.write(engine, batch, progress=writing.add)
            stats["x1_results"] = wh.cross_year(engine, sorted(set(batch["reports"]["agency_id"].dropna())))
            years = sorted({int(y) for y in batch["reports"]["report_year"].dropna()})
            stats["similarity_pairs"] = wh.copy_paste(engine, years, new_ids=batch["reports"]["report_id"].tolist())
            audit = warehouse_audit(engine, batch)
            ledger = wh.account(engine, files, context.run_id, partition_label(context))
    except Exception as exc:
        raise dg.Failure(f"could not write to the warehouse: {type(exc).__name__}: {exc}") from exc
    timing = writing.finish()
    context.log.info(f"warehouse: {stats}")
    if not ledger["balanced"]:
        context.log.error(f"accounting does not balance: {ledger}")
    for table, name in TABLES.items():
        meta: dict = {"dagster/row_count": len(batch[name])}
        if table == "reports":
            meta.update(
                written=stats["reports_written"],
                unchanged=stats["reports_unchanged"],
                files_seen=ledger["files_seen"],
                reports_loaded=ledger["reports_loaded"],
                rejections=ledger["rejections"],
                accounting_balanced=ledger["balanced"],
                seconds=timing["seconds"],
                reports_per_second=timing["per_second"],
            )
        if table == "rejections":
            meta.update(written=stats["rejections_written"])
        yield dg.MaterializeResult(asset_key=["warehouse", table], metadata=meta)
    if batch["reports"].empty and batch["rejections"].empty:  # a re-run with nothing new: nothing was written
        yield dg.AssetCheckResult(
            check_name="warehouse_audit_suite",
            asset_key=["warehouse", "reports"],
            passed=True,
            description="nothing new was written in this run: no audit needed",
            metadata={"audit": dg.MetadataValue.json(audit.to_dict("records"))},
        )
        return
    yield run_suite(
        context,
        audit,
        "warehouse_audit",
        ["warehouse", "reports"],
        warehouse,
        extra={"audit": dg.MetadataValue.json(audit.to_dict("records"))},
    )
