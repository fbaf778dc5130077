"""Shared fixtures: the sample reports, their hand-read expectations, a real PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "raw"
EXPECTED = Path(__file__).parent / "expected"
PG_ADMIN_URL = os.environ.get("GOVINFO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Every table a run fills, with the key its rows are sorted by to compare two warehouses.
WAREHOUSE_TABLES = {
    "reports": ["report_id"],
    "report_cells": ["report_id", "section", "row", "col"],
    "report_sections": ["report_id", "section_no"],
    "quality_results": ["report_id", "rule_id", "subject", "operands"],
    "report_prose_numbers": ["report_id", "source_line", "figure", "phrase"],
    "rejections": ["source_path"],
}

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def expected_reports() -> dict[str, dict]:
    """Hand-read expectations, keyed by sample file name."""
    out = {}
    for p in sorted(EXPECTED.glob("*.yaml")):
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        out[doc["file"]] = doc
    return out


@pytest.fixture(scope="session")
def expected() -> dict[str, dict]:
    return expected_reports()


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A private copy of the five sample reports."""
    target = tmp_path / "raw"
    target.mkdir()
    for f in SAMPLES.glob("*.txt"):
        (target / f.name).write_bytes(f.read_bytes())
    return target


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    name = f"govinfo_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:  # CI has PostgreSQL: a missing server is a failure, not a skip
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real, persistent Dagster instance in a temporary DAGSTER_HOME, telemetry off."""
    from govinfo_pipeline import settings

    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    settings.ensure_dagster_home()
    return home
