"""The ``govinfo`` command: run the pipeline through Dagster, open the UI, query the warehouse."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from govinfo_pipeline import settings


def _fail(message: str, code: int = 2) -> int:
    print(f"govinfo: error: {message}", file=sys.stderr)
    return code


def _engine(url: str, read_only: bool = False):
    import sqlalchemy as sa

    from govinfo_pipeline.lib import warehouse

    if not read_only:
        return warehouse.connect(url)
    if url.startswith("duckdb:"):
        return sa.create_engine(url, connect_args={"read_only": True})
    return sa.create_engine(url, execution_options={"postgresql_readonly": True}).execution_options(
        postgresql_readonly=True)


def _check_warehouse(url: str) -> str | None:
    """None when the warehouse accepts a connection and its schema; else what went wrong."""
    from govinfo_pipeline.lib import warehouse

    try:
        engine = warehouse.connect(url)
        warehouse.ensure_schema(engine)
        engine.dispose()
    except Exception as exc:
        return f"cannot use the warehouse at {_redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def _redact(url: str) -> str:
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid URL>"


def _years_in(root: Path, max_bytes: int) -> list[int]:
    """The report years found in the input folder (read from each file's title)."""
    from govinfo_pipeline.defs.partitions import valid_year
    from govinfo_pipeline.lib.ingest import discover, read_files, read_manifest

    raw = read_files(discover(root), max_bytes, manifest=read_manifest(root))
    return sorted({int(y) for y in raw["year_hint"].dropna() if valid_year(int(y))})


def run_pipeline(
    input_dir: str, url: str, years: list[int] | None = None, files: list[str] | None = None,
    log_level: str = "WARNING",
):
    """Materialize the ingest job for ``years`` (one run over their range) with Dagster."""
    import dagster as dg

    from govinfo_pipeline.definitions import defs
    from govinfo_pipeline.defs.partitions import year_partitions

    settings.ensure_dagster_home()
    root = Path(input_dir)
    if not years:
        years = _years_in(root, settings.max_file_bytes()) or [int(year_partitions.get_last_partition_key())]
    job = defs().resolve_job_def("ingest")
    run_config = {
        "resources": {
            "source": {"config": {"path": str(root), "max_file_bytes": settings.max_file_bytes()}},
            "warehouse": {"config": {"url": url}},
        },
        "ops": {"raw_files": {"config": {"files": files or []}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    tags = {
        "dagster/asset_partition_range_start": str(min(years)),
        "dagster/asset_partition_range_end": str(max(years)),
        "govinfo/launched_by": "cli",
    }
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(run_config=run_config, instance=instance, tags=tags, raise_on_error=False)


def summary(url: str, run_id: str | None = None) -> str:
    """A short account of what the warehouse holds, and of the run's files."""
    import pandas as pd
    import sqlalchemy as sa

    engine = _engine(url)
    with engine.connect() as conn:
        reps = pd.read_sql("SELECT parse_status, quality_status, COUNT(*) AS n FROM reports "
                           "GROUP BY parse_status, quality_status ORDER BY parse_status, quality_status", conn)
        n_cells = pd.read_sql("SELECT cell_status, COUNT(*) AS n FROM report_cells GROUP BY cell_status "
                              "ORDER BY cell_status", conn)
        outcomes = pd.read_sql("SELECT outcome, COUNT(*) AS n FROM quality_results GROUP BY outcome "
                               "ORDER BY outcome", conn)
        failures = pd.read_sql("SELECT rule_id, level, COUNT(*) AS n FROM quality_results WHERE passed = FALSE "
                               "GROUP BY rule_id, level ORDER BY rule_id", conn)
        rej = pd.read_sql("SELECT reason, COUNT(*) AS n FROM rejections GROUP BY reason ORDER BY reason", conn)
        ledger = pd.read_sql(sa.text("SELECT * FROM run_accounting WHERE run_id = :r"), conn, params={"r": run_id})
    engine.dispose()
    lines = [f"warehouse: {_redact(url)}",
             f"reports loaded: {int(reps['n'].sum())}  "
             + ", ".join(f"{r.parse_status}/{r.quality_status}: {r.n}" for r in reps.itertuples()),
             f"cells: {int(n_cells['n'].sum())}  " + ", ".join(f"{r.cell_status}: {r.n}" for r in n_cells.itertuples()),
             f"rule results: {int(outcomes['n'].sum())}  "
             + ", ".join(f"{r.outcome}: {r.n}" for r in outcomes.itertuples()),
             "failed rules: " + (", ".join(f"{r.rule_id} ({r.level}) ×{r.n}" for r in failures.itertuples()) or "none"),
             f"rejected files: {int(rej['n'].sum())}"
             + ("  " + ", ".join(f"{r.reason}: {r.n}" for r in rej.itertuples()) if len(rej) else "")]
    for r in ledger.itertuples():
        lines.append(f"this run: {r.files_seen} files seen = {r.reports_loaded} reports + {r.rejections} rejections"
                     + (" (balanced)" if r.balanced else "  — DOES NOT BALANCE"))
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    input_dir = args.input or settings.input_dir()
    url = args.warehouse or settings.warehouse_url()
    root = Path(input_dir)
    if not root.is_dir() or not os.access(root, os.R_OK | os.X_OK):
        return _fail(f"input folder {root} does not exist or cannot be read")
    problem = _check_warehouse(url)
    if problem:
        return _fail(problem)
    result = run_pipeline(str(root), url, [args.year] if args.year else None, args.file,
                          log_level="DEBUG" if args.verbose else "WARNING")
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        message = failure.step_failure_data.error.message.strip() if failure else "the run failed"
        return _fail(f"pipeline run {result.run_id} failed: {message}", code=1)
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
        with pd.option_context("display.max_rows", args.max_rows, "display.max_columns", None,
                               "display.width", 200, "display.max_colwidth", 60):
            print(df.to_string(index=False, max_rows=args.max_rows))
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from govinfo_pipeline.lib.scorecard import scorecard

    url = args.warehouse or settings.warehouse_url()
    try:
        engine = _engine(url, read_only=True)
        print(scorecard(engine, args.year, args.top))
        engine.dispose()
    except Exception as exc:
        return _fail(f"cannot read the warehouse at {_redact(url)}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from govinfo_pipeline.lib.gx import build_data_docs
    from govinfo_pipeline.lib.scorecard import docs_frames

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
    from govinfo_pipeline.lib.export import export

    url = args.warehouse or settings.warehouse_url()
    try:
        engine = _engine(url, read_only=True)
        try:
            files = export(engine, Path(args.out), args.format)
        finally:
            engine.dispose()
    except Exception as exc:
        return _fail(f"could not export the warehouse at {_redact(url)}: {type(exc).__name__}: "
                     f"{str(exc).splitlines()[0] if str(exc) else ''}")
    for f in files:
        print(f"{f.path}  ({f.rows} rows)" if f.path.suffix != ".md" else str(f.path))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from govinfo_pipeline.lib.htmlreport import NoReports, write_report

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
        return _fail(f"could not build the report from {_redact(url)}: {type(exc).__name__}: "
                     f"{str(exc).splitlines()[0] if str(exc) else ''}")
    print(page)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from govinfo_pipeline.lib import bench

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    figures = bench.run(args.reports, Path(args.out), formats, args.seed, Path(args.keep) if args.keep else None)
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from govinfo_pipeline.lib import migrate
    from govinfo_pipeline.lib import warehouse as wh

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
        return _fail(f"cannot migrate the warehouse at {_redact(url)}: {type(exc).__name__}: "
                     f"{str(exc).splitlines()[0]}")
    if args.action == "upgrade":
        print(f"warehouse schema: {before or '(empty)'} -> {after}")
    else:
        print(f"warehouse schema: {after or '(empty)'}; latest migration: {head}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    home = settings.ensure_dagster_home()
    root = settings.project_root()
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={home})")
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(root / "workspace.yaml"),
           "-h", args.host, "-p", str(args.port)]
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
    export.add_argument("--format", choices=["csv", "parquet"], default="csv",
                        help="csv: UTF-8 with BOM (opens in Excel); parquet: typed columns")
    export.add_argument("--out", required=True, help="folder to write the files to (created if missing)")
    export.add_argument("--warehouse")
    export.set_defaults(func=cmd_export)
    report = sub.add_parser("report", help="write one self-contained HTML page for a report year")
    report.add_argument("--year", type=int, required=True)
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--input", help="the folder of the source files the page links to (default: data/raw, "
                                        f"or ${settings.ENV_INPUT})")
    report.add_argument("--warehouse")
    report.set_defaults(func=cmd_report)
    bench = sub.add_parser("bench", help="benchmark N synthetic reports through the pipeline; writes JSON")
    bench.add_argument("--reports", type=int, required=True)
    bench.add_argument("--formats", default="txt", help="comma-separated; the generator writes txt")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--out", required=True, help="JSON file for the figures")
    bench.add_argument("--keep", help="work in this folder and keep the corpus and warehouse")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
