"""Report years: one partition per year, so the UI can (re)materialize a whole year in one run."""

import dagster as dg

FIRST_YEAR = "2008"  # the Regulation took effect on 2008-05-01

year_partitions = dg.TimeWindowPartitionsDefinition(
    start=FIRST_YEAR, fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1
)
# A backfill over several years runs as one run; assets read context.partition_keys.
batch_policy = dg.BackfillPolicy.single_run()


def partition_years(context: dg.AssetExecutionContext) -> set[int]:
    return {int(k) for k in context.partition_keys}


def valid_year(year: int | None) -> bool:
    return year is not None and str(year) in set(year_partitions.get_partition_keys())
