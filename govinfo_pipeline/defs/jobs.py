"""The ingestion job, its annual schedule and the new-file sensor."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg

from govinfo_pipeline.defs.executors import govinfo_executor
from govinfo_pipeline.defs.partitions import year_partitions
from govinfo_pipeline.defs.resources import SourceFolder
from govinfo_pipeline.parse.sources import discover
from govinfo_pipeline.runner.plan import make_plan

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.all(),
    partitions_def=year_partitions,
    description="Raw files → normalized cells → rule results → warehouse, for the selected years.",
    executor_def=govinfo_executor,
)


def resolved_ingest_job() -> dg.JobDefinition:
    """The ingest job as the code location defines it; ``dg.reconstructable(resolved_ingest_job)`` rebuilds it in the
    processes that run its steps (the multiprocess executor's children, Celery workers)."""
    from govinfo_pipeline.definitions import defs

    return defs().resolve_job_def("ingest")


# Annual reports are due by 31 March (Regulation art. 49); ingest the previous year on 1 April.
@dg.schedule(
    job=ingest_job,
    cron_schedule="0 6 1 4 *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def annual_ingest(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    year = str((context.scheduled_execution_time or dt.datetime.now()).year - 1)
    return dg.RunRequest(run_key=f"annual-{year}", partition_key=year)


MAX_FILES_PER_RUN_REQUEST = 500  # above this, a changed year is re-run whole


@dg.sensor(job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def new_files(context: dg.SensorEvaluationContext, source: SourceFolder):
    """Notice new or changed files (by size and mtime) and ingest them, one run per year."""
    root = Path(source.path)
    if not root.is_dir():
        return dg.SkipReason(f"input folder {root} does not exist")
    seen: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, list] = {}
    changed = []
    for f in discover(root):
        try:
            st = f.path.stat()
        except OSError:
            continue
        current[f.rel] = [st.st_size, st.st_mtime_ns]
        if seen.get(f.rel) != current[f.rel]:
            changed.append(f)
    if not changed:
        return dg.SensorResult(skip_reason="no new or changed files", cursor=json.dumps(current))
    # Planned as `govinfo run --file …` would: each changed file's year read from its head, nothing read whole.
    by_year = make_plan(root, None, files=[f.rel for f in changed]).by_year()
    requests = []
    for year_number, rels in sorted(by_year.items()):
        year = str(year_number)
        files = sorted(rels) if len(rels) <= MAX_FILES_PER_RUN_REQUEST else []
        digest = hashlib.sha256(json.dumps([year, [current[r] for r in sorted(rels)], sorted(rels)]).encode())
        requests.append(
            dg.RunRequest(
                run_key=f"files-{year}-{digest.hexdigest()[:16]}",
                partition_key=year,
                run_config={"ops": {"raw_files": {"config": {"files": files}}}},
                tags={"govinfo/changed_files": str(len(rels))},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current))
