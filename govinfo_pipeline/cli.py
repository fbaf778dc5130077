"""The ``govinfo`` command: run the pipeline through Dagster, open the UI, query the warehouse."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from govinfo_pipeline import settings


def _fail(message: str, code: int = 2) -> int:
    print(f"govinfo: error: {message}", file=sys.stderr)
    return code


def _engine(url: str, read_only: bool = False):
    import sqlalchemy as sa

    from govinfo_pipeline import store as warehouse

    if not read_only:
        return warehouse.connect(url)
    if url.startswith("duckdb:"):
        return sa.create_engine(url, connect_args={"read_only": True})
    return sa.create_engine(url, execution_options={"postgresql_readonly": True}).execution_options(
        postgresql_readonly=True
    )


def _check_warehouse(url: str) -> str | None:
    """None when the warehouse accepts a connection and its schema; else what went wrong."""
    from govinfo_pipeline.store.sessions import open_warehouse

    try:
        with open_warehouse(url):  # takes turns with runs already using the warehouse
            pass
    except Exception as exc:
        return f"cannot use the warehouse at {_redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def _redact(url: str) -> str:
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid URL>"


def _held(url: str, files: list[str] | None = None):
    """What the warehouse holds (reports; of ``files`` only, if given), or None for a warehouse that does not
    exist yet."""
    from govinfo_pipeline import store as wh

    try:
        engine = _engine(url, read_only=True)
        try:
            return wh.existing_fingerprints(engine, paths=files)[0]
        finally:
            engine.dispose()
    except Exception:  # a new warehouse: nothing held yet
        return None


def plan_batches(root: Path, url: str, max_files: int) -> tuple[list[tuple[list[int], list[str]]], int]:
    """(years, files) per run when more than ``max_files`` files must be read: a national year is read in
    runs of about ``max_files`` files each, so memory stays bounded. One batch (all files) otherwise.
    Also returns how many files the runs will read (those the warehouse does not hold unchanged)."""
    from govinfo_pipeline.defs.partitions import valid_year, year_partitions
    from govinfo_pipeline.parse.sources import discover, read_manifest
    from govinfo_pipeline.runner.plan import batches, scan_years, to_read

    files, held = discover(root), _held(url)
    n = to_read(files, held)
    if n <= max_files:
        return [([], [])], n
    manifest = read_manifest(root)
    last = int(year_partitions.get_last_partition_key())
    return [
        (sorted(y for y in scan_years(b, manifest, held) if valid_year(y)) or [last], [f.rel for f in b])
        for b in batches(files, max_files)
    ], n


def _years_in(root: Path, url: str, files: list[str] | None = None) -> list[int]:
    """The report years found in the input folder (or in just ``files`` of it): from each file's title, or
    from the warehouse for a file it holds unchanged (same size and modification time)."""
    from govinfo_pipeline.defs.partitions import valid_year
    from govinfo_pipeline.parse.sources import discover, read_manifest
    from govinfo_pipeline.runner.plan import scan_years

    found = discover(root, only=files or None)
    return sorted(y for y in scan_years(found, read_manifest(root), _held(url, files or None)) if valid_year(y))


EXECUTORS = ("auto", "in_process", "multiprocess", "celery")
DEFAULT_BROKER = "pyamqp://guest@localhost:5672//"
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
    return "multiprocess" if files_to_read >= settings.step_processes_from() else "in_process"


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
        "broker": broker or os.environ.get("GOVINFO_CELERY_BROKER") or DEFAULT_BROKER,
        "backend": backend or os.environ.get("GOVINFO_CELERY_BACKEND") or "rpc://",
    }
    queue = queue or os.environ.get("GOVINFO_CELERY_QUEUE")
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
):
    """Materialize the ingest job for ``years`` (one run over their range) with Dagster.

    ``executor`` is the job's ``execution`` config (see ``executor_config``); by default the run executes
    in this process. Other executors run the steps elsewhere (child processes, Celery workers), which
    rebuild the job from its code location.
    """
    import dagster as dg

    from govinfo_pipeline.definitions import defs
    from govinfo_pipeline.defs.jobs import resolved_ingest_job
    from govinfo_pipeline.defs.partitions import year_partitions
    from govinfo_pipeline.defs.resources import batch_dir

    settings.ensure_dagster_home()
    root = Path(input_dir)
    if not years:
        # One report re-materialized: only its year's partition (a run over every year of the folder would
        # record a materialization of every asset for each of them).
        years = _years_in(root, url, files) or [int(year_partitions.get_last_partition_key())]
    run_config = {
        "resources": {
            "source": {"config": {"path": str(root), "max_file_bytes": settings.max_file_bytes()}},
            "warehouse": {"config": {"url": url}},
            # Explicit, so that every process running a step (on any machine) uses the same folder.
            "io_manager": {"config": {"base_dir": batch_dir()}},
        },
        "ops": {"raw_files": {"config": {"files": files or []}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    tags = {
        "dagster/asset_partition_range_start": str(min(years)),
        "dagster/asset_partition_range_end": str(max(years)),
        "govinfo/launched_by": "cli",
        "govinfo/host": socket.gethostname(),
        "govinfo/pid": str(os.getpid()),
    }
    with dg.DagsterInstance.get() as instance:
        release_dead_runs(instance)
        if not executor or "in_process" in executor:
            job = defs().resolve_job_def("ingest")
            return job.execute_in_process(run_config=run_config, instance=instance, tags=tags, raise_on_error=False)
        return dg.execute_job(
            dg.reconstructable(resolved_ingest_job),
            instance,
            run_config={**run_config, "execution": {"config": executor}},
            tags=tags,
            raise_on_error=False,
        )


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


def _run_one_year(input_dir: str, url: str, year: int, log_level: str, executor: dict) -> dict:
    """One year as its own run (in a child process of ``run_years``)."""
    return {"year": year, **_batch_outcome(input_dir, url, [year], [], log_level, executor)}


def _batch_outcome(
    input_dir: str, url: str, years: list[int], files: list[str], log_level: str, executor: dict | None
) -> dict:
    """Run the pipeline; its run id, whether it succeeded, and why not."""
    result = run_pipeline(input_dir, url, years, files, log_level=log_level, executor=executor)
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


def run_batch(
    input_dir: str,
    url: str,
    years: list[int],
    files: list[str],
    log_level: str = "WARNING",
    executor: dict | None = None,
    index: int = 1,
) -> dict:
    """One batch of a large input as its own run; when its steps would run in this process, in a child
    process forked for it.

    The child's memory goes back to the system when it exits, so a national year read in ten batches
    peaks at one batch's memory instead of growing batch after batch (the allocator keeps what a batch
    freed). The child is forked after the heavy imports, so it starts warm. Where the steps run in
    processes of their own (other executors), or where fork is missing, the batch runs from this process."""
    import multiprocessing as mp

    args = (input_dir, url, years, files, log_level, executor)
    if (executor and "in_process" not in executor) or "fork" not in mp.get_all_start_methods():
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
    input_dir: str, url: str, years: list[int], parallel: int, log_level: str = "WARNING", executor: dict | None = None
) -> list[dict]:
    """Each year as its own run, ``parallel`` runs at once, each in its own process; in year order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    prepare_instance()  # exported to the children, its storage created before they race to create it
    executor = executor or {"in_process": {}}
    with ProcessPoolExecutor(max_workers=parallel, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_one_year, input_dir, url, y, log_level, executor) for y in sorted(years)]
        return [f.result() for f in futures]


def summary(url: str, run_id: str | list[str] | None = None) -> str:
    """A short account of what the warehouse holds, and of the run's (or runs') files."""
    import pandas as pd
    import sqlalchemy as sa

    from govinfo_pipeline.store.sessions import duckdb_lock

    run_ids = [run_id] if isinstance(run_id, str) or run_id is None else run_id
    with duckdb_lock(url):
        engine = _engine(url)
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
        f"warehouse: {_redact(url)}",
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


def cmd_run(args: argparse.Namespace) -> int:
    input_dir = args.input or settings.input_dir()
    url = args.warehouse or settings.warehouse_url()
    root = Path(input_dir)
    if not root.is_dir() or not os.access(root, os.R_OK | os.X_OK):
        return _fail(f"input folder {root} does not exist or cannot be read")
    if args.parallel < 1:
        return _fail("--parallel must be 1 or more")
    problem = _check_warehouse(url)
    if problem:
        return _fail(problem)

    def executor(files_to_read: int) -> dict:
        return executor_config(
            resolve_executor(args.executor, files_to_read), args.broker, args.backend, args.celery_queue
        )

    log_level = "DEBUG" if args.verbose else "WARNING"
    if args.parallel > 1 and not args.file:
        years = [args.year] if args.year else _years_in(root, url)
        if len(years) > 1:  # each year a process of its own already
            outcomes = run_years(str(root), url, years, args.parallel, log_level, executor(0))
            for o in outcomes:
                print(f"dagster run {o['run_id']} ({o['year']}) " + ("succeeded" if o["success"] else "failed"))
            print(summary(url, [o["run_id"] for o in outcomes]))
            failed = [o for o in outcomes if not o["success"]]
            if failed:
                return _fail(
                    "; ".join(f"pipeline run {o['run_id']} ({o['year']}) failed: {o['error']}" for o in failed), code=1
                )
            return 0
    if args.file:
        plan, n = [([args.year] if args.year else [], args.file)], len(args.file)
    elif args.year:
        plan, n = [([args.year], [])], 0  # (a year of a large input: choose --executor multiprocess)
    else:
        plan, n = plan_batches(root, url, args.batch_files or settings.batch_files())
    if len(plan) > 1:
        run_ids = []
        for i, (years, rels) in enumerate(plan, start=1):
            outcome = run_batch(str(root), url, years, rels, log_level, executor(len(rels)), index=i)
            if not outcome["success"]:
                run = f"pipeline run {outcome['run_id']}" if outcome["run_id"] else "the pipeline run"
                return _fail(f"{run} (batch {i} of {len(plan)}) failed: {outcome['error']}", code=1)
            print(f"dagster run {outcome['run_id']} succeeded (batch {i} of {len(plan)}: {len(rels)} files)")
            run_ids.append(outcome["run_id"])
        print(summary(url, run_ids))
        return 0
    result = run_pipeline(
        str(root), url, [args.year] if args.year else None, args.file, log_level=log_level, executor=executor(n)
    )
    if not result.success:
        return _fail(f"pipeline run {result.run_id} failed: {failure_message(result)}", code=1)
    print(f"dagster run {result.run_id} succeeded")
    print(summary(url, result.run_id))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    import pandas as pd
    import sqlalchemy as sa

    url = args.warehouse or settings.warehouse_url()
    try:
        engine = _engine(url, read_only=True)
        with engine.connect() as conn:
            df = pd.read_sql(sa.text(args.sql), conn)
    except Exception as exc:
        return _fail(f"query failed: {type(exc).__name__}: {str(exc).splitlines()[0]}", code=1)
    if args.format == "csv":
        df.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context(
            "display.max_rows",
            args.max_rows,
            "display.max_columns",
            None,
            "display.width",
            200,
            "display.max_colwidth",
            60,
        ):
            print(df.to_string(index=False, max_rows=args.max_rows))
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.scorecard import scorecard

    url = args.warehouse or settings.warehouse_url()
    try:
        engine = _engine(url, read_only=True)
        print(scorecard(engine, args.year, args.top))
        engine.dispose()
    except Exception as exc:
        return _fail(f"cannot read the warehouse at {_redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.scorecard import docs_frames
    from govinfo_pipeline.quality.gx import build_data_docs

    url = args.warehouse or settings.warehouse_url()
    target = Path(args.out) if args.out else settings.project_root() / "data" / "docs"
    index = target / "index.html"
    if not (args.no_build and index.exists()):
        try:
            engine = _engine(url, read_only=True)
            index = build_data_docs(docs_frames(engine), target)
            engine.dispose()
        except Exception as exc:
            return _fail(f"could not build the Data Docs: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    print(index)
    if args.open:
        import webbrowser

        webbrowser.open(index.as_uri())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.export import export

    url = args.warehouse or settings.warehouse_url()
    try:
        engine = _engine(url, read_only=True)
        try:
            files = export(engine, Path(args.out), args.format)
        finally:
            engine.dispose()
    except Exception as exc:
        return _fail(
            f"could not export the warehouse at {_redact(url)}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        )
    for f in files:
        print(f"{f.path}  ({f.rows} rows)" if f.path.suffix != ".md" else str(f.path))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.htmlreport import NoReports, write_report

    url = args.warehouse or settings.warehouse_url()
    input_dir = Path(args.input or settings.input_dir())
    try:
        engine = _engine(url, read_only=True)
        try:
            page = write_report(engine, args.year, Path(args.out), input_dir, warehouse_label=_redact(url))
        finally:
            engine.dispose()
    except NoReports as exc:
        return _fail(str(exc))
    except Exception as exc:
        return _fail(
            f"could not build the report from {_redact(url)}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        )
    print(page)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from govinfo_pipeline import bench

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    figures = bench.run(
        args.reports,
        Path(args.out),
        formats,
        args.seed,
        Path(args.keep) if args.keep else None,
        Path(args.profile) if args.profile else None,
    )
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from govinfo_pipeline import store as wh
    from govinfo_pipeline.store import migrate

    url = args.warehouse or settings.warehouse_url()
    try:
        engine = wh.connect(url)
        before = migrate.current(engine)
        if args.action == "grant-reader":
            for sql in wh.grant_reader(engine, args.role):
                print(sql + ";")
            engine.dispose()
            return 0
        if args.action == "upgrade":
            migrate.upgrade(engine)
            wh.ensure_schema(engine)
        after, head = migrate.current(engine), migrate.head()
        engine.dispose()
    except Exception as exc:
        return _fail(
            f"cannot migrate the warehouse at {_redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        )
    if args.action == "upgrade":
        print(f"warehouse schema: {before or '(empty)'} -> {after}")
    else:
        print(f"warehouse schema: {after or '(empty)'}; latest migration: {head}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    home = settings.ensure_dagster_home()
    root = settings.project_root()
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={home})")
    cmd = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(root / "workspace.yaml"),
        "-h",
        args.host,
        "-p",
        str(args.port),
    ]
    return subprocess.call(cmd, cwd=root)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govinfo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ingest the input folder into the warehouse through Dagster")
    run.add_argument("--input", help=f"folder of raw reports (default: data/raw, or ${settings.ENV_INPUT})")
    run.add_argument("--warehouse", help=f"SQLAlchemy URL (default: DuckDB under data/, or ${settings.ENV_WAREHOUSE})")
    run.add_argument("--year", type=int, help="only the reports of this year")
    run.add_argument("--file", action="append", help="only this file (relative to the input folder); repeatable")
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's step log")
    run.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="auto",
        help="where the steps run: this process, a child process each, or Celery workers "
        "(`dagster-celery worker start -A dagster_celery.app`); auto (default): a child process "
        "each when the run reads $GOVINFO_STEP_PROCESSES_FROM (2000) files or more, else this one",
    )
    run.add_argument(
        "--batch-files",
        type=int,
        metavar="N",
        help="read at most about N files per run; a larger input runs as consecutive runs "
        "(default: $GOVINFO_BATCH_FILES, or 10000)",
    )
    run.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="run each year of the input as its own run, N at once (default 1: one run for all)",
    )
    run.add_argument(
        "--broker", help="celery: the broker URL (default: $GOVINFO_CELERY_BROKER, or RabbitMQ on localhost)"
    )
    run.add_argument("--backend", help="celery: the result backend (default: $GOVINFO_CELERY_BACKEND, or rpc://)")
    run.add_argument(
        "--celery-queue", help="celery: the queue the workers listen on (default: dagster, or $GOVINFO_CELERY_QUEUE)"
    )
    run.set_defaults(func=cmd_run)
    query = sub.add_parser("query", help="run a read-only SQL query on the warehouse")
    query.add_argument("sql")
    query.add_argument("--warehouse")
    query.add_argument("--format", choices=["table", "csv"], default="table")
    query.add_argument("--max-rows", type=int, default=200)
    query.set_defaults(func=cmd_query)
    quality = sub.add_parser("quality", help="print the quality scorecard: statuses, failures by rule, worst reports")
    quality.add_argument("--year", type=int)
    quality.add_argument("--top", type=int, default=5, help="how many of the worst reports to show")
    quality.add_argument("--warehouse")
    quality.set_defaults(func=cmd_quality)
    docs = sub.add_parser("docs", help="build the Great Expectations Data Docs and print their path")
    docs.add_argument("--warehouse")
    docs.add_argument("--out", help="folder for the docs (default: data/docs)")
    docs.add_argument("--open", action="store_true", help="open them in a browser")
    docs.add_argument("--no-build", action="store_true", help="only print the path of the docs already built")
    docs.set_defaults(func=cmd_docs)
    export = sub.add_parser("export", help="write every table and view as CSV or Parquet, with a data dictionary")
    export.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default="csv",
        help="csv: UTF-8 with BOM (opens in Excel); parquet: typed columns",
    )
    export.add_argument("--out", required=True, help="folder to write the files to (created if missing)")
    export.add_argument("--warehouse")
    export.set_defaults(func=cmd_export)
    report = sub.add_parser("report", help="write one self-contained HTML page for a report year")
    report.add_argument("--year", type=int, required=True)
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument(
        "--input",
        help=f"the folder of the source files the page links to (default: data/raw, or ${settings.ENV_INPUT})",
    )
    report.add_argument("--warehouse")
    report.set_defaults(func=cmd_report)
    bench = sub.add_parser("bench", help="benchmark N synthetic reports through the pipeline; writes JSON")
    bench.add_argument("--reports", type=int, required=True)
    bench.add_argument(
        "--formats",
        default="txt",
        help="comma-separated, among txt,html,docx,pdf (round robin over the reports); default txt",
    )
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--out", required=True, help="JSON file for the figures")
    bench.add_argument("--keep", help="work in this folder and keep the corpus and warehouse")
    bench.add_argument(
        "--profile",
        help="profile the pipeline run with pyinstrument (a dev dependency) into "
        "this text file; the run is then slower",
    )
    bench.set_defaults(func=cmd_bench)
    db = sub.add_parser("db", help="warehouse schema migrations (Alembic)")
    db.add_argument("action", choices=["upgrade", "current", "grant-reader"])
    db.add_argument("--warehouse")
    db.add_argument("--role", default="govinfo_reader", help="grant-reader: the analysts' role (PostgreSQL)")
    db.set_defaults(func=cmd_db)
    ui = sub.add_parser("ui", help="start the Dagster UI (webserver and daemon) on workspace.yaml")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


@contextlib.contextmanager
def profiled(suffix: str = ""):
    """Profile the block with pyinstrument (a dev dependency) into $GOVINFO_PROFILE (a text file), its name
    given ``suffix`` (each batch process writes its own); nothing when the variable is unset."""
    target = os.environ.get("GOVINFO_PROFILE")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with profiled():
        return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
