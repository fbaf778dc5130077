"""Report years: one partition per year, so the UI can (re)materialize a whole year in one run."""

import datetime as dt
import functools

import dagster as dg

FIRST_YEAR = "2008"  # the Regulation took effect on 2008-05-01

year_partitions = dg.TimeWindowPartitionsDefinition(start=FIRST_YEAR, fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1)
# A backfill over several years runs as one run; assets read context.partition_keys.
batch_policy = dg.BackfillPolicy.single_run()


def partition_years(context: dg.AssetExecutionContext) -> set[int]:
    return {int(k) for k in context.partition_keys}


@functools.lru_cache(maxsize=4)
def _partition_keys(today: dt.date) -> frozenset[str]:
    return frozenset(year_partitions.get_partition_keys())


def valid_year(year: int | None) -> bool:
    """A year that has a partition (2008 up to this year). Asked once per file, so the keys are cached."""
    return year is not None and str(year) in _partition_keys(dt.date.today())
