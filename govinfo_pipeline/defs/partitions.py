"""Report years: one partition per year, so the UI can (re)materialize a whole year in one run."""

import warnings

import dagster as dg

from govinfo_pipeline.runner.plan import FIRST_YEAR

# Every asset takes a backfill policy (a whole year, or several, in one run); Dagster warns at each definition
# that the parameter is in beta, which a large run's step processes would print to the terminal each time.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

year_partitions = dg.TimeWindowPartitionsDefinition(
    start=str(FIRST_YEAR), fmt="%Y", cron_schedule="0 0 1 1 *", end_offset=1
)
# A backfill over several years runs as one run; assets read context.partition_keys.
batch_policy = dg.BackfillPolicy.single_run()


def partition_years(context: dg.AssetExecutionContext) -> set[int]:
    return {int(k) for k in context.partition_keys}
