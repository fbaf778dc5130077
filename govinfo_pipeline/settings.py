"""Where things live: input folder, warehouse URL, Dagster home. Flags and env vars override."""

from __future__ import annotations

import os
from pathlib import Path

ENV_INPUT = "GOVINFO_INPUT_DIR"
ENV_WAREHOUSE = "GOVINFO_WAREHOUSE_URL"
ENV_MAX_BYTES = "GOVINFO_MAX_FILE_BYTES"


def project_root() -> Path:
    """The checkout holding pyproject.toml; the working directory when installed elsewhere."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def input_dir() -> str:
    return os.environ.get(ENV_INPUT) or str(project_root() / "data" / "raw")


def warehouse_url() -> str:
    return os.environ.get(ENV_WAREHOUSE) or f"duckdb:///{project_root() / 'data' / 'warehouse.duckdb'}"


def max_file_bytes() -> int:
    return int(os.environ.get(ENV_MAX_BYTES) or 200 * 1024 * 1024)


def batch_files() -> int:
    """Files to read per run when `govinfo run` has more (GOVINFO_BATCH_FILES, default 10,000)."""
    return int(os.environ.get("GOVINFO_BATCH_FILES") or 10_000)


def step_processes_from() -> int:
    """From how many files to read `govinfo run --executor auto` runs each step in a process of its own
    (GOVINFO_STEP_PROCESSES_FROM, default 2,000)."""
    return int(os.environ.get("GOVINFO_STEP_PROCESSES_FROM") or 2_000)


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or project_root() / ".dagster_home")


DAGSTER_YAML = """\
# Written by govinfo. Telemetry is off: the pipeline runs offline.
telemetry:
  enabled: false
storage:
  sqlite:
    base_dir: {home}/storage
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: 2
  pools:
    # Steps claim their pool's slots as they start. The only pool is warehouse_writer (the warehouse
    # step): one at a time, so that runs of several years queue for the warehouse instead of colliding.
    granularity: op
    default_limit: 1
"""


def ensure_dagster_home() -> Path:
    """Create DAGSTER_HOME with a dagster.yaml that turns telemetry off, and export it."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    # Written anew when missing, or when an earlier govinfo wrote it without the pool settings.
    if not cfg.exists() or (
        cfg.read_text(encoding="utf-8").startswith("# Written by govinfo")
        and "concurrency:" not in cfg.read_text(encoding="utf-8")
    ):
        cfg.write_text(DAGSTER_YAML.format(home=home), encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    return home
