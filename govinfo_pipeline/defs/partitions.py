"""Report years: one partition per year, so the UI can (re)materialize a whole year in one run."""

import dagster as dg

from govinfo_pipeline.runner.plan import FIRST_YEAR

year_partitions = dg.TimeWindowPartitionsDefinition(
    start=str(FIRST_YEAR), fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1
)
# A backfill over several years runs as one run; assets read context.partition_keys.
batch_policy = dg.BackfillPolicy.single_run()


def partition_years(context: dg.AssetExecutionContext) -> set[int]:
    return {int(k) for k in context.partition_keys}
