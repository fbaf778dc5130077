"""Launching runs of the ingest job through Dagster: one run per batch of a ``RunPlan``, the executor each run
uses, and the upkeep of the Dagster instance the runs share.

It sits beside the CLI, above both the application layer (``runner``) and the Dagster definitions (``defs``),
which it loads to execute the job; the definitions themselves use only ``runner``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import socket
from pathlib import Path

from govinfo_pipeline import settings
from govinfo_pipeline.progress import TAG
from govinfo_pipeline.runner.plan import RunPlan, plan_run

EXECUTORS = ("auto", "in_process", "multiprocess", "celery")


PRELOAD = (
    "govinfo_pipeline.definitions",
    "govinfo_pipeline.defs.jobs",
    "govinfo_pipeline.defs.warehouse.assets",
    "govinfo_pipeline.defs.facts.assets",
    "govinfo_pipeline.defs.normalized.assets",
    "govinfo_pipeline.defs.raw.assets",
    "great_expectations",
)


def resolve_executor(executor: str, files_to_read: int) -> str:
    """``auto``: a run that reads many files runs each step in a process of its own (the multiprocess
    executor), so that what one stage freed goes back to the system before the next one starts (in one
    process, a 10,000-file batch peaked at 3.6 GB against 2.5 GB); a small run stays in this process, which
    starts faster. The other executors are used as asked."""
    if executor != "auto":
        return executor
    return "multiprocess" if files_to_read >= settings.current().step_processes_from else "in_process"


def executor_config(
    executor: str, broker: str | None = None, backend: str | None = None, queue: str | None = None
) -> dict:
    """The ``execution`` config of the ingest job for ``govinfo run --executor``."""
    if executor == "multiprocess":
        # Step processes fork from a server that has imported the pipeline once (spawning each would
        # import pandas, Dagster and Great Expectations again, for every step).
        return {"multiprocess": {"start_method": {"forkserver": {"preload_modules": list(PRELOAD)}}}}
    if executor != "celery":
        return {executor: {}}
    config: dict = {
        "broker": broker or settings.current().celery_broker,
        "backend": backend or settings.current().celery_backend,
    }
    queue = queue or settings.current().celery_queue
    if queue:
        config["config_source"] = {"task_default_queue": queue}
    return {"celery": config}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_runs(instance) -> list[str]:
    """Mark failed the runs this machine's ``govinfo run`` started whose process is gone (killed), and free
    their pool slots: a run killed in its warehouse step would otherwise hold the warehouse_writer slot for
    ever, and every later run would wait for it."""
    import dagster as dg

    released = []
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED],
            tags={"govinfo/host": socket.gethostname()},
        )
    )
    for run in runs:
        pid = int(run.tags.get("govinfo/pid") or 0)
        if pid and pid != os.getpid() and not _alive(pid):
            instance.report_run_failed(run, f"the process that ran it ({pid}) is gone")
            if instance.event_log_storage.supports_global_concurrency_limits:
                instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            released.append(run.run_id)
    return released


def run_pipeline(
    input_dir: str,
    url: str,
    years: list[int] | None = None,
    files: list[str] | None = None,
    log_level: str = "WARNING",
    executor: dict | None = None,
    plan: RunPlan | None = None,
    progress: str | None = None,
):
    """Materialize the ingest job for ``years`` (one run over their range) with Dagster; its stages count what
    they did into the folder ``progress`` (see ``progress.Display``).

    ``executor`` is the job's ``execution`` config (see ``executor_config``); by default the run executes
    in this process. Other executors run the steps elsewhere (child processes, Celery workers), which
    rebuild the job from its code location.
    """
    import dagster as dg

    from govinfo_pipeline.defs.jobs import resolved_ingest_job

    settings.ensure_dagster_home()
    root = Path(input_dir)
    # Planned here unless the caller planned already; a file given alone (one report re-materialized) runs
    # only its year's partition (a run over every year of the folder would record a materialization of every
    # asset for each of them).
    plan = plan or plan_run(root, url, files, years)
    years = list(plan.batches[0].years)
    batch_dir = settings.current().batch_dir
    saved = plan.save(batch_dir)  # read by raw_files, wherever its step runs; removed once the run is over
    run_config = {
        "resources": {
            "source": {"config": {"path": str(root), "max_file_bytes": settings.current().max_file_bytes}},
            "warehouse": {"config": {"url": url}},
            # Explicit, so that every process running a step (on any machine) uses the same folder.
            "io_manager": {"config": {"base_dir": batch_dir}},
        },
        "ops": {"raw_files": {"config": {"files": list(plan.batches[0].files), "plan": saved}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    tags = {
        "dagster/asset_partition_range_start": str(min(years)),
        "dagster/asset_partition_range_end": str(max(years)),
        "govinfo/launched_by": "cli",
        "govinfo/host": socket.gethostname(),
        "govinfo/pid": str(os.getpid()),
        **({TAG: progress} if progress else {}),
    }
    try:
        with dg.DagsterInstance.get() as instance:
            release_dead_runs(instance)
            if not executor or "in_process" in executor:
                return _ingest_job().execute_in_process(
                    run_config=run_config, instance=instance, tags=tags, raise_on_error=False
                )
            return dg.execute_job(
                dg.reconstructable(resolved_ingest_job),
                instance,
                run_config={**run_config, "execution": {"config": executor}},
                tags=tags,
                raise_on_error=False,
            )
    finally:
        Path(saved).unlink(missing_ok=True)


@functools.cache
def _ingest_job():
    """The ingest job of the code location, built once per process (~0.3 s: a warm server's runs, batches)."""
    from govinfo_pipeline.definitions import defs

    return defs().resolve_job_def("ingest")


def failure_message(result) -> str:
    failure = next((e for e in result.all_events if e.is_step_failure), None)
    if failure:
        return failure.step_failure_data.error.message.strip()
    failure = next((e for e in result.all_events if e.is_failure), None)  # a run-level failure
    return (failure.message or "the run failed").strip() if failure else "the run failed"


def prepare_instance() -> Path:
    """Create DAGSTER_HOME and its (SQLite) storage now: processes that open a new instance at the same time
    (parallel runs, Celery workers starting) would race to create the same tables."""
    import dagster as dg

    home = settings.ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()
        instance.event_log_storage.get_pool_limits()
    return home


def _run_one_year(input_dir: str, url: str, year: int, log_level: str, executor: dict, progress: str | None) -> dict:
    """One year as its own run (in a child process of ``run_years``)."""
    where = str(Path(progress) / str(year)) if progress else None
    return {"year": year, **_batch_outcome(input_dir, url, [year], [], log_level, executor, progress=where)}


def _batch_outcome(
    input_dir: str,
    url: str,
    years: list[int],
    files: list[str],
    log_level: str,
    executor: dict | None,
    plan: RunPlan | None = None,
    progress: str | None = None,
) -> dict:
    """Run the pipeline; its run id, whether it succeeded, and why not."""
    result = run_pipeline(
        input_dir, url, years, files, log_level=log_level, executor=executor, plan=plan, progress=progress
    )
    return {
        "run_id": result.run_id,
        "success": result.success,
        "error": None if result.success else failure_message(result),
    }


def _batch_child(conn, index: int, *args) -> None:
    try:
        with profiled(f".batch{index}"):
            outcome = _batch_outcome(*args)
    except BaseException as exc:  # reported to the parent, which fails the command with it
        outcome = {"run_id": None, "success": False, "error": f"{type(exc).__name__}: {exc}"}
    conn.send(outcome)
    conn.close()


def start_forkserver() -> None:
    """Start the step processes' fork server now, so that it imports ``PRELOAD`` (~7 s) while this process
    sets up the run; Dagster's multiprocess executor would start it at the first step and wait for it. The
    executor then finds it running and forks the steps from it."""
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.set_forkserver_preload(list(PRELOAD))
    forkserver.ensure_running()


def run_batch(
    plan: RunPlan,
    url: str,
    log_level: str = "WARNING",
    executor: dict | None = None,
    index: int = 1,
    fork: bool = True,
    progress: str | None = None,
) -> dict:
    """One batch of a large input as its own run; when its steps would run in this process, in a child
    process forked for it.

    The child's memory goes back to the system when it exits, so a national year read in ten batches
    peaks at one batch's memory instead of growing batch after batch (the allocator keeps what a batch
    freed). The child is forked after the heavy imports, so it starts warm. Where the steps run in
    processes of their own (other executors), where fork is missing, or without ``fork`` (a run of one batch),
    the batch runs from this process."""
    import multiprocessing as mp

    where = str(Path(progress) / f"batch-{index}") if progress else None
    if executor and "multiprocess" in executor:
        start_forkserver()
    batch = plan.batches[0]
    args = (str(plan.root), url, list(batch.years), list(batch.files), log_level, executor, plan, where)
    if not fork or (executor and "in_process" not in executor) or "fork" not in mp.get_all_start_methods():
        return _batch_outcome(*args)
    for module in PRELOAD:  # imported once, before forking: every batch inherits them
        importlib.import_module(module)
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_batch_child, args=(send, index, *args), name=f"govinfo-batch-{index}")
    child.start()
    send.close()
    try:
        outcome = recv.recv()
    except EOFError:  # the child died without a word (killed, out of memory)
        outcome = None
    child.join()
    if outcome is None:
        outcome = {
            "run_id": None,
            "success": False,
            "error": f"the batch's process ended with exit code {child.exitcode} before it reported",
        }
    return outcome


def run_years(
    input_dir: str,
    url: str,
    years: list[int],
    parallel: int,
    log_level: str = "WARNING",
    executor: dict | None = None,
    progress: str | None = None,
) -> list[dict]:
    """Each year as its own run, ``parallel`` runs at once, each in its own process; in year order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    prepare_instance()  # exported to the children, its storage created before they race to create it
    executor = executor or {"in_process": {}}
    with ProcessPoolExecutor(max_workers=parallel, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_one_year, input_dir, url, y, log_level, executor, progress) for y in sorted(years)]
        return [f.result() for f in futures]


@contextlib.contextmanager
def profiled(suffix: str = ""):
    """Profile the block with pyinstrument (a dev dependency) into $GOVINFO_PROFILE (a text file), its name
    given ``suffix`` (each batch process writes its own); nothing when the variable is unset."""
    target = settings.current().profile
    if not target:
        yield
        return
    from pyinstrument import Profiler

    # A forked batch inherits the command's running profiler; async support off lets it start its own.
    profiler = Profiler(interval=0.005, async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        path = Path(target)
        path.with_name(path.stem + suffix + path.suffix).write_text(profiler.output_text(), encoding="utf-8")


STAGES = {"raw_files": "raw", "normalized": "normalized", "facts": "facts", "warehouse_tables": "warehouse"}


def step_windows(run_ids: list[str]) -> list[tuple[str, float, float]]:
    """(stage, start, end) of every step of the runs, epoch seconds, from the instance's event log."""
    import dagster as dg

    settings.ensure_dagster_home()
    out = []
    with dg.DagsterInstance.get() as instance:
        for run_id in run_ids:
            starts: dict[str, float] = {}
            for record in instance.all_logs(run_id):
                event = record.dagster_event
                if event is None or record.step_key not in STAGES:
                    continue
                if event.event_type_value == "STEP_START":
                    starts[record.step_key] = record.timestamp
                elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and record.step_key in starts:
                    out.append((STAGES[record.step_key], starts[record.step_key], record.timestamp))
    return out
