"""The ``govinfo`` command line: its subcommands and flags (the commands themselves are in ``cli``)."""

from __future__ import annotations

import argparse
from types import ModuleType

from govinfo_pipeline import settings

RUN_FLAGS: list[tuple[str, dict]] = [
    ("--input", {"help": f"folder of raw reports (default: data/raw, or ${settings.ENV_INPUT})"}),
    ("--warehouse", {"help": f"SQLAlchemy URL (default: DuckDB under data/, or ${settings.ENV_WAREHOUSE})"}),
    ("--year", {"type": int, "help": "only the reports of this year"}),
    ("--file", {"action": "append", "help": "only this file (relative to the input folder); repeatable"}),
    (
        "--plan",
        {"action": "store_true", "help": "print what the run would read (files per year, batches); run nothing"},
    ),
    (
        "--executor",
        {
            "choices": ("auto", "in_process", "multiprocess", "celery"),
            "default": "auto",
            "help": "where the steps run: this process, a child process each, or Celery workers; auto "
            "(default): a child process each from $GOVINFO_STEP_PROCESSES_FROM (2000) files to read",
        },
    ),
    (
        "--batch-files",
        {
            "type": int,
            "metavar": "N",
            "help": "read about N files per run at most; more run as "
            "consecutive runs (default: $GOVINFO_BATCH_FILES, or 10000)",
        },
    ),
    (
        "--parallel",
        {
            "type": int,
            "default": 1,
            "metavar": "N",
            "help": "run each year of the input as its own run, N at once (default 1: one run for all)",
        },
    ),
    ("--broker", {"help": "celery: the broker URL (default: $GOVINFO_CELERY_BROKER, or RabbitMQ on localhost)"}),
    ("--backend", {"help": "celery: the result backend (default: $GOVINFO_CELERY_BACKEND, or rpc://)"}),
    ("--celery-queue", {"help": "celery: the workers' queue (default: dagster, or $GOVINFO_CELERY_QUEUE)"}),
    ("--step-times", {"metavar": "FILE", "help": "write each step's stage, start and end (JSON) to FILE"}),
]


def build_parser(commands: ModuleType) -> argparse.ArgumentParser:
    """The parser; each subcommand calls ``commands.cmd_<name>``."""
    parser = argparse.ArgumentParser(
        prog="govinfo", description="政府信息公开工作年度报告 → checked cells → SQL warehouse"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func, help: str, *flags: tuple[str, dict]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        for flag, kwargs in flags:
            p.add_argument(flag, **kwargs)
        p.set_defaults(func=func)
        return p

    wh = ("--warehouse", {"help": "SQLAlchemy URL of the warehouse (default: $GOVINFO_WAREHOUSE_URL, or DuckDB)"})
    run = command("run", commands.cmd_run, "ingest the input folder into the warehouse through Dagster", *RUN_FLAGS)
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster's step log")
    run.add_argument(
        "--cold",
        action="store_true",
        help="run in this process even when a warm server (govinfo serve) listens; also $GOVINFO_WARM=off",
    )
    command(
        "query",
        commands.cmd_query,
        "run a read-only SQL query on the warehouse",
        ("sql", {}),
        wh,
        ("--format", {"choices": ["table", "csv"], "default": "table"}),
        ("--max-rows", {"type": int, "default": 200, "help": "print at most N rows (default 200; 0: all)"}),
        ("--timeout", {"type": float, "default": 60.0, "help": "stop the query after SECONDS (default 60; 0: none)"}),
    )
    command(
        "quality",
        commands.cmd_quality,
        "print the quality scorecard: statuses, failures by rule, worst reports",
        ("--year", {"type": int}),
        ("--top", {"type": int, "default": 5, "help": "how many worst reports"}),
        wh,
    )
    command(
        "docs",
        commands.cmd_docs,
        "build the Great Expectations Data Docs and print their path",
        wh,
        ("--out", {"help": "folder for the docs (default: data/docs)"}),
        ("--open", {"action": "store_true", "help": "open them in a browser"}),
        ("--no-build", {"action": "store_true", "help": "only print the path of the docs already built"}),
    )
    command(
        "export",
        commands.cmd_export,
        "write every table and view as CSV or Parquet, with a data dictionary",
        (
            "--format",
            {
                "choices": ["csv", "parquet"],
                "default": "csv",
                "help": "csv: UTF-8 with BOM (opens in Excel); parquet: typed columns",
            },
        ),
        ("--out", {"required": True, "help": "folder to write the files to (created if missing)"}),
        wh,
    )
    command(
        "report",
        commands.cmd_report,
        "write one self-contained HTML page for a report year",
        ("--year", {"type": int, "required": True}),
        ("--out", {"required": True, "help": "the HTML file"}),
        ("--input", {"help": f"the folder the page links to (default: data/raw, or ${settings.ENV_INPUT})"}),
        wh,
    )
    command(
        "bench",
        commands.cmd_bench,
        "benchmark N synthetic reports through the pipeline; writes JSON",
        ("--reports", {"type": int, "help": "reports to generate (per format with --per-format)"}),
        (
            "--formats",
            {
                "default": "txt",
                "help": "comma-separated, among txt,html,docx,pdf,pdf-scan; default txt. With --per-format a "
                "format may name its own size: txt,pdf:200,pdf-scan:4",
            },
        ),
        ("--per-format", {"action": "store_true", "help": "one run per format, one JSON with each format's figures"}),
        (
            "--markdown",
            {
                "action": "store_true",
                "help": "print the speed table (Markdown); alone: of --out's JSON (or JSONs, comma-separated)",
            },
        ),
        ("--seed", {"type": int, "default": 0}),
        ("--out", {"required": True, "help": "JSON file for the figures"}),
        ("--keep", {"help": "work in this folder and keep the corpus and warehouse"}),
        ("--profile", {"help": "profile the pipeline run with pyinstrument into this text file"}),
    )
    command(
        "db",
        commands.cmd_db,
        "warehouse schema migrations (Alembic)",
        ("action", {"choices": ["upgrade", "current", "grant-reader"]}),
        wh,
        ("--role", {"default": "govinfo_reader", "help": "grant-reader: the analysts' role (PostgreSQL)"}),
    )
    inp = ("--input", {"help": f"the folder of the source files (default: data/raw, or ${settings.ENV_INPUT})"})
    command(
        "corrections",
        commands.cmd_corrections,
        "export or import the reviewers' corrections (CSV or YAML, by the file's suffix)",
        ("action", {"choices": ["export", "import"]}),
        ("file", {"help": "a .csv, .yaml or .yml file"}),
        wh,
    )
    command(
        "review",
        commands.cmd_review,
        "start the review desk: confirm or correct flagged cells in the browser, with the page in view",
        ("--host", {"default": "127.0.0.1"}),
        ("--port", {"type": int, "default": 8765}),
        ("--reviewer", {"help": "the name written with each correction (default: the OS user)"}),
        inp,
        wh,
    )
    command(
        "evidence",
        commands.cmd_evidence,
        "write the crop of the page a cell was read from (PDF), or its source lines, as PNG",
        ("report_id", {}),
        ("cell_code", {"help": "section.row.col, e.g. application.other.total"}),
        ("--out", {"required": True, "help": "the PNG file"}),
        inp,
        wh,
    )
    command(
        "serve",
        commands.cmd_serve,
        "keep a warm process (Dagster, GX imported, one report run through) that later `govinfo run`s fork"
        " from: one report in about a second instead of several; stops on Ctrl-C or SIGTERM",
    )
    command(
        "ui",
        commands.cmd_ui,
        "start the Dagster UI (webserver and daemon) on workspace.yaml",
        ("--host", {"default": "127.0.0.1"}),
        ("--port", {"type": int, "default": 3000}),
    )
    return parser
