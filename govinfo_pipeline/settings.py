"""Configuration: every ``GOVINFO_*`` variable, read here and nowhere else, into one ``Settings``.

``current()`` reads the environment once and keeps the result until a ``GOVINFO_*`` variable changes (tests and
the benchmark change them between runs). Command-line flags override what is read here. The README lists every
variable.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

ENV_INPUT = "GOVINFO_INPUT_DIR"
ENV_WAREHOUSE = "GOVINFO_WAREHOUSE_URL"
ENV_PROFILE = "GOVINFO_PROFILE"
ENV_STEP_PROCESSES_FROM = "GOVINFO_STEP_PROCESSES_FROM"

MB = 1024 * 1024
PROGRESS_MODES = ("auto", "bar", "lines", "off")
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class SettingsError(ValueError):
    """A ``GOVINFO_*`` variable holds a value that cannot be used."""


def project_root() -> Path:
    """The checkout holding pyproject.toml; the working directory when installed elsewhere."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


@dataclasses.dataclass(frozen=True)
class Settings:
    """What ``govinfo`` and the Dagster definitions are configured with (defaults in brackets in the README)."""

    input_dir: str
    warehouse_url: str
    dagster_home: Path
    batch_dir: str
    max_file_bytes: int = 200 * MB
    max_unzipped_bytes: int = 100 * MB
    max_zip_ratio: int = 100
    max_pdf_pages: int = 1_000
    max_html_depth: int = 256
    max_line_chars: int = 1_000_000
    ocr_workers: int = 1
    ocr_dpi: int = 200
    ocr_min_confidence: int = 50  # percent
    batch_files: int = 10_000
    step_processes_from: int = 2_000
    workers: int = 1
    write_chunk: int = 2_000
    duckdb_checkpoint: str = "1GB"
    executor: str = "multiprocess"
    celery_broker: str = "pyamqp://guest@localhost:5672//"
    celery_backend: str = "rpc://"
    celery_queue: str | None = None
    profile: str | None = None
    failpoint: str | None = None
    progress: str = "auto"
    progress_every: int = 10
    progress_log_seconds: int = 30
    warm: bool = True  # `govinfo run` forwards to a warm server (`govinfo serve`) when one listens

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Settings from ``env``; a malformed value is a ``SettingsError`` naming the variable."""
        root = project_root()
        home = Path(env.get("DAGSTER_HOME") or root / ".dagster_home")

        def text(name: str, default: str | None = None) -> str | None:
            return env.get(f"GOVINFO_{name}") or default

        def number(name: str, default: int) -> int:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"GOVINFO_{name} must be a whole number, not {raw!r}") from None
            if value < 1:
                raise SettingsError(f"GOVINFO_{name} must be 1 or more, not {value}")
            return value

        checkpoint = text("DUCKDB_CHECKPOINT", "1GB") or "1GB"
        if not _SIZE.match(checkpoint):  # it becomes part of a DuckDB SET statement: only a size is accepted
            raise SettingsError(f"GOVINFO_DUCKDB_CHECKPOINT must be a size such as 1GB or 512MB, not {checkpoint!r}")
        progress = text("PROGRESS", "auto") or "auto"
        if progress not in PROGRESS_MODES:
            raise SettingsError(f"GOVINFO_PROGRESS must be one of {', '.join(PROGRESS_MODES)}, not {progress!r}")
        return cls(
            input_dir=text("INPUT_DIR") or str(root / "data" / "raw"),
            warehouse_url=text("WAREHOUSE_URL") or f"duckdb:///{root / 'data' / 'warehouse.duckdb'}",
            dagster_home=home,
            batch_dir=text("BATCH_DIR") or str(home / "storage" / "batches"),
            max_file_bytes=number("MAX_FILE_BYTES", 200 * MB),
            max_unzipped_bytes=number("MAX_UNZIPPED_BYTES", 100 * MB),
            max_zip_ratio=number("MAX_ZIP_RATIO", 100),
            max_pdf_pages=number("MAX_PDF_PAGES", 1_000),
            max_html_depth=number("MAX_HTML_DEPTH", 256),
            max_line_chars=number("MAX_LINE_CHARS", 1_000_000),
            ocr_workers=number("OCR_WORKERS", os.cpu_count() or 1),
            ocr_dpi=number("OCR_DPI", 200),
            ocr_min_confidence=min(number("OCR_MIN_CONFIDENCE", 50), 100),
            batch_files=number("BATCH_FILES", 10_000),
            step_processes_from=number("STEP_PROCESSES_FROM", 2_000),
            workers=number("WORKERS", os.cpu_count() or 1),
            write_chunk=number("WRITE_CHUNK", 2_000),
            duckdb_checkpoint=checkpoint,
            executor=text("EXECUTOR", "multiprocess") or "multiprocess",
            celery_broker=text("CELERY_BROKER", cls.celery_broker) or cls.celery_broker,
            celery_backend=text("CELERY_BACKEND", cls.celery_backend) or cls.celery_backend,
            celery_queue=text("CELERY_QUEUE"),
            profile=text("PROFILE"),
            failpoint=text("FAILPOINT"),
            progress=progress,
            progress_every=number("PROGRESS_EVERY", 10),
            progress_log_seconds=number("PROGRESS_LOG_SECONDS", 30),
            warm=(text("WARM", "on") or "on").lower() not in ("0", "off", "no", "false"),
        )


_cache: tuple[tuple[tuple[str, str], ...], Settings] | None = None


def current() -> Settings:
    """The settings of this process, read from the environment (again only when a variable changed)."""
    global _cache
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("GOVINFO_") or k == "DAGSTER_HOME"))
    if _cache is None or _cache[0] != key:
        _cache = (key, Settings.from_env(os.environ))
    return _cache[1]


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
    home = current().dagster_home
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
