"""Review: the reviewers' corrections (an observable source, upstream of the reviewed results) and the rules
evaluated again on the reviewed cells, per year; a sensor re-materializes the reports whose corrections changed.
The logic is in ``store.corrections``; these are thin wrappers."""

import datetime as dt

import dagster as dg
from pydantic import Field

from govinfo_pipeline.defs.partitions import batch_policy, partition_years, year_partitions
from govinfo_pipeline.defs.resources import Warehouse
from govinfo_pipeline.store import corrections as store

CORRECTIONS = dg.AssetKey(["review", "corrections"])


@dg.observable_source_asset(
    key=CORRECTIONS,
    group_name="review",
    description="What reviewers confirmed or corrected (table corrections, written by `govinfo review` and "
    "`govinfo corrections import`); its data version changes with every correction saved.",
)
def corrections(warehouse: Warehouse) -> dg.DataVersion:
    with warehouse.session() as engine:
        return dg.DataVersion(store.fingerprint(engine))


class ReviewConfig(dg.Config):
    report_ids: list[str] = Field(
        default_factory=list, description="Only these reports. Empty: every report of the years with corrections."
    )


@dg.asset(
    key=["review", "reviewed_results"],
    group_name="review",
    partitions_def=year_partitions,
    backfill_policy=batch_policy,
    deps=[CORRECTIONS, dg.AssetKey(["warehouse", "quality_results"])],
    pool="warehouse_writer",
    kinds={"sql"},
    description="The rules evaluated again on the reviewed cells (table review_results) of the reports that have "
    "corrections: resolved, still failing, confirmed, an error of the source, or a new failure.",
)
def reviewed_results(context: dg.AssetExecutionContext, config: ReviewConfig, warehouse: Warehouse):
    with warehouse.session(write=True) as engine:
        ids = config.report_ids or store.reports_to_review(engine, sorted(partition_years(context)))
        rows = store.refresh_results(engine, ids) if ids else 0
    return dg.MaterializeResult(metadata={"reports": len(ids), "reviewed_results": rows})


apply_corrections = dg.define_asset_job(
    "apply_corrections",
    selection=dg.AssetSelection.assets(["review", "reviewed_results"]),
    partitions_def=year_partitions,
    description="Evaluate the rules again on the reviewed cells of the reports whose corrections changed.",
)


@dg.sensor(job=apply_corrections, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED)
def corrections_saved(context: dg.SensorEvaluationContext, warehouse: Warehouse):
    """Notice corrections saved since the last tick: record a new observation of the corrections (their
    downstream shows stale) and re-materialize just those reports, one run per year."""
    since = dt.datetime.fromisoformat(context.cursor) if context.cursor else None
    with warehouse.session() as engine:
        changed, latest, version = (
            store.changed_since(engine, since),
            store.latest_time(engine),
            store.fingerprint(engine),
        )
    if not changed:
        return dg.SensorResult(skip_reason="no new corrections", cursor=context.cursor)
    requests = [
        dg.RunRequest(
            run_key=f"corrections-{year}-{version}",
            partition_key=str(year),
            run_config={"ops": {"review__reviewed_results": {"config": {"report_ids": sorted(ids)}}}},
        )
        for year, ids in sorted(changed.items())
    ]
    observed = dg.AssetObservation(asset_key=CORRECTIONS, tags={"dagster/data_version": version})
    return dg.SensorResult(
        run_requests=requests, asset_events=[observed], cursor=latest.isoformat() if latest else context.cursor
    )
