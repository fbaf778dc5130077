"""The ``govinfo`` command: run the pipeline through Dagster, open the UI, query the warehouse.

A thin shell: what a run reads is planned in ``runner.plan``, runs are launched by ``launch``, and the
outputs come from ``outputs``. Exit status 2 means the input or the warehouse cannot be used, 1 a failed run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from govinfo_pipeline import progress, settings


def _fail(message: str, code: int = 2) -> int:
    print(f"govinfo: error: {message}", file=sys.stderr)
    return code


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def cmd_run(args: argparse.Namespace) -> int:
    from govinfo_pipeline import launch
    from govinfo_pipeline.runner.plan import PlanError, plan_run
    from govinfo_pipeline.store.sessions import WarehouseUnavailable

    conf = settings.current()
    root, url = Path(args.input or conf.input_dir), args.warehouse or conf.warehouse_url
    if not root.is_dir() or not os.access(root, os.R_OK | os.X_OK):
        return _fail(f"input folder {root} does not exist or cannot be read")
    if args.parallel < 1:
        return _fail("--parallel must be 1 or more")
    try:
        plan = plan_run(root, url, args.file, [args.year] if args.year else None, args.batch_files or conf.batch_files)
    except (WarehouseUnavailable, PlanError) as exc:
        return _fail(str(exc))
    if args.plan:
        print(json.dumps(plan.describe(), ensure_ascii=False, indent=2))
        return 0

    def executor(files_to_read: int) -> dict:
        name = launch.resolve_executor(args.executor, files_to_read)
        return launch.executor_config(name, args.broker, args.backend, args.celery_queue)

    log_level = "DEBUG" if args.verbose else "WARNING"
    with progress.shown() as folder:
        outcomes, errors = _launch(args, plan, url, log_level, executor, folder)
    run_ids = [o["run_id"] for o in outcomes if o["run_id"]]
    if args.step_times:
        Path(args.step_times).write_text(json.dumps(launch.step_windows(run_ids)), encoding="utf-8")
    if errors:
        return _fail("; ".join(errors), code=1)
    from govinfo_pipeline.outputs.summary import summary

    print(summary(url, run_ids))
    return 0


def _launch(args: argparse.Namespace, plan, url: str, log_level: str, executor, folder: str | None):
    """The plan's runs (a batch at a time, or each year a process of its own): their outcomes and errors."""
    from govinfo_pipeline import launch

    years, errors = plan.report_years(), []
    if args.parallel > 1 and not args.file and not args.year and len(years) > 1:  # each year a process of its own
        outcomes = launch.run_years(str(plan.root), url, years, args.parallel, log_level, executor(0), folder)
        for o in outcomes:
            print(f"dagster run {o['run_id']} ({o['year']}) " + ("succeeded" if o["success"] else "failed"))
            if not o["success"]:
                errors.append(f"pipeline run {o['run_id']} ({o['year']}) failed: {o['error']}")
    else:
        outcomes, n = [], len(plan.batches)
        for i, batch in enumerate(plan.batches, start=1):
            part = plan.part(batch) if n > 1 else plan
            o = launch.run_batch(part, url, log_level, executor(part.to_read), index=i, fork=n > 1, progress=folder)
            outcomes.append(o)
            where = f" (batch {i} of {n})" if n > 1 else ""
            if not o["success"]:
                errors.append(
                    f"pipeline run {o['run_id'] or ''}{where} failed: {o['error']}".replace("run  (", "run (")
                )
                break
            print(
                f"dagster run {o['run_id']} succeeded"
                + (f" (batch {i} of {n}: {len(part.files)} files)" if n > 1 else "")
            )
    return outcomes, errors


def _reading(what: str, args: argparse.Namespace, work, expected: tuple[type[Exception], ...] = ()) -> int:
    """Run ``work(engine, url)`` on a read-only engine on the warehouse; a failure is one line and exit 2 (a
    failed query exit 1); an ``expected`` error is shown as it is."""
    from govinfo_pipeline.store.sessions import read_only_engine, redact

    url = args.warehouse or settings.current().warehouse_url
    try:
        engine = read_only_engine(url)
        try:
            return work(engine, url) or 0
        finally:
            engine.dispose()
    except expected as exc:
        return _fail(str(exc))
    except Exception as exc:
        return _fail(f"{what} {redact(url)}: {_first_line(exc)}", code=1 if args.command == "query" else 2)


def cmd_query(args: argparse.Namespace) -> int:
    import pandas as pd

    from govinfo_pipeline.store import query
    from govinfo_pipeline.store.sessions import redact

    url = args.warehouse or settings.current().warehouse_url
    try:
        got = query.run(url, args.sql, max_rows=args.max_rows, timeout=args.timeout or None)
    except query.QueryRefused as exc:
        return _fail(str(exc))
    except TimeoutError as exc:
        return _fail(str(exc), code=1)
    except Exception as exc:
        return _fail(f"query failed on {redact(url)}: {_first_line(exc)}", code=1)
    df = pd.DataFrame.from_records(got.rows, columns=got.columns)
    if args.format == "csv":
        df.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_columns", None, "display.width", 200, "display.max_colwidth", 60):
            print(df.to_string(index=False))
    if got.more:
        print(f"govinfo: only the first {args.max_rows} rows are shown (--max-rows N, 0 for all)", file=sys.stderr)
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.scorecard import scorecard

    return _reading("cannot read the warehouse at", args, lambda e, _u: print(scorecard(e, args.year, args.top)))


def cmd_docs(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.scorecard import docs_frames
    from govinfo_pipeline.quality.gx import build_data_docs

    target = Path(args.out) if args.out else settings.project_root() / "data" / "docs"
    index = target / "index.html"
    if not (args.no_build and index.exists()):
        code = _reading(
            "could not build the Data Docs from", args, lambda e, _u: build_data_docs(docs_frames(e), target) and 0
        )
        if code:
            return code
    print(index)
    if args.open:
        import webbrowser

        webbrowser.open(index.as_uri())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.export import export

    def shown(f) -> None:
        print(f"{f.path}  ({f.rows} rows)" if f.path.suffix != ".md" else str(f.path), flush=True)

    def work(engine, _url) -> None:
        export(engine, Path(args.out), args.format, on_written=shown)

    return _reading("could not export the warehouse at", args, work)


def cmd_report(args: argparse.Namespace) -> int:
    from govinfo_pipeline.outputs.htmlreport import NoReports, write_report
    from govinfo_pipeline.store.sessions import redact

    input_dir = Path(args.input or settings.current().input_dir)

    def work(engine, url) -> None:
        print(write_report(engine, args.year, Path(args.out), input_dir, warehouse_label=redact(url)))

    return _reading("could not build the report from", args, work, expected=(NoReports,))


def cmd_bench(args: argparse.Namespace) -> int:
    from govinfo_pipeline import bench

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    keep, profile = (Path(args.keep) if args.keep else None), (Path(args.profile) if args.profile else None)
    if args.markdown and not args.reports:  # several JSONs (comma-separated) make one table
        results = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.out.split(",")]
        print(bench.markdown_table(bench.joined(results) if len(results) > 1 else results[0]))
        return 0
    if not args.reports:
        raise SystemExit("govinfo bench: --reports N is needed (or --markdown alone, to print a JSON's table)")
    run = bench.run_per_format if args.per_format else bench.run
    figures = run(args.reports, Path(args.out), formats, args.seed, keep, profile)
    print(bench.markdown_table(figures) if args.markdown else json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from govinfo_pipeline.store import migrate, reader, sessions

    url = args.warehouse or settings.current().warehouse_url
    try:
        engine = sessions.connect(url)
        before = migrate.current(engine)
        if args.action == "grant-reader":
            for sql in reader.grant_reader(engine, args.role):
                print(sql + ";")
            engine.dispose()
            return 0
        if args.action == "upgrade":
            migrate.upgrade(engine)
            sessions.ensure_schema(engine)
        after, head = migrate.current(engine), migrate.head()
        engine.dispose()
    except Exception as exc:
        return _fail(f"cannot migrate the warehouse at {sessions.redact(url)}: {_first_line(exc)}")
    if args.action == "upgrade":
        print(f"warehouse schema: {before or '(empty)'} -> {after}")
    else:
        print(f"warehouse schema: {after or '(empty)'}; latest migration: {head}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    home, root = settings.ensure_dagster_home(), settings.project_root()
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={home})")
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(root / "workspace.yaml"), "-h", args.host]
    return subprocess.call([*cmd, "-p", str(args.port)], cwd=root)


def cmd_corrections(args: argparse.Namespace) -> int:
    from govinfo_pipeline.review import commands

    return commands.corrections(args)


def cmd_review(args: argparse.Namespace) -> int:
    from govinfo_pipeline.review import commands

    return commands.review(args)


def cmd_evidence(args: argparse.Namespace) -> int:
    from govinfo_pipeline.review import commands

    return commands.evidence(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from govinfo_pipeline import warm

    return warm.serve(warm.socket_path(), lambda line: print(f"govinfo serve: {line}", file=sys.stderr, flush=True))


def main(argv: list[str] | None = None) -> int:
    from govinfo_pipeline.cli_args import build_parser
    from govinfo_pipeline.launch import profiled

    try:
        args = build_parser(sys.modules[__name__]).parse_args(argv)
        settings.current()
    except settings.SettingsError as exc:
        return _fail(str(exc))
    if args.command == "run" and not args.cold:
        from govinfo_pipeline import warm

        code = warm.forward(sys.argv[1:] if argv is None else list(argv))
        if code is not None:
            return code
    with profiled():
        return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
