"""The layout the code promises: stage layers, one place that plans a run, one place that reads settings, the
real asset graph end to end, and errors about the warehouse that are not swallowed."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from govinfo_pipeline import settings, store
from govinfo_pipeline.definitions import defs
from govinfo_pipeline.defs.jobs import new_files
from govinfo_pipeline.defs.raw.assets import raw_files
from govinfo_pipeline.defs.resources import BatchIOManager, SourceFolder, Warehouse
from govinfo_pipeline_tests.conftest import ROOT
from govinfo_pipeline_tests.test_pipeline import read

PACKAGE = ROOT / "govinfo_pipeline"
# Each stage may use the stages before it, never one after: parse <- quality <- store <- outputs <- runner <-
# CLI and Dagster. settings is below every stage; synth (the generator) is used by the benchmark and tests only.
LAYERS = {
    "__init__": 0,
    "settings": 0,
    "progress": 0,
    "parse": 1,
    "quality": 2,
    "store": 3,
    "outputs": 4,
    "synth": 4,
    "review": 4,
    "runner": 5,
    "defs": 6,
    "definitions": 6,
    "launch": 7,
    "bench": 7,
    "cli": 7,
    "cli_args": 7,
    "warm": 7,
}


def _imports(path: Path) -> set[str]:
    """Every govinfo_pipeline module ``path`` imports, at the top or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("govinfo_pipeline"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("govinfo_pipeline"))
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 and parts[0] == "govinfo_pipeline" else None


def test_no_module_imports_from_a_later_stage():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        here = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = _layer(here)
        assert own is not None, f"{here} is in no layer: add its folder to LAYERS"
        wrong += [f"{here} -> {m}" for m in _imports(path) if (_layer(m) or 0) > own]
    assert not wrong


def test_no_module_outside_synth_is_over_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if "synth" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not long
    assert len((PACKAGE / "cli.py").read_text(encoding="utf-8").splitlines()) <= 300


def test_pure_stages_and_the_benchmark_do_not_import_dagster():
    for path in [*PACKAGE.glob("parse/*.py"), *PACKAGE.glob("quality/*.py"), *PACKAGE.glob("store/*.py"),
                 *PACKAGE.glob("outputs/*.py"), *PACKAGE.glob("runner/*.py"), PACKAGE / "bench.py"]:  # fmt: skip
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {n for n in names if n.split(".")[0] == "dagster"}, path


def test_settings_are_read_in_one_place_and_every_variable_is_documented():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # os.environ.get("GOVINFO_…"), os.getenv("GOVINFO_…"), os.environ["GOVINFO_…"] read outside settings
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv"):
                if node.args and "GOVINFO_" in ast.unparse(node.args[0]):
                    readers.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                if isinstance(node.ctx, ast.Load) and "GOVINFO_" in ast.unparse(node.slice):
                    readers.append(f"{path.name}:{node.lineno}")
    assert not readers
    fields = {f.name for f in settings.Settings.__dataclass_fields__.values()} - {"dagster_home"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = {m.group(1) for m in re.finditer(r"^\| `(GOVINFO_[A-Z_]+)`", readme, re.M)}
    assert {f"GOVINFO_{f.upper()}" for f in fields} <= table
    in_code = set(re.findall(r"GOVINFO_[A-Z_]+", (PACKAGE / "settings.py").read_text(encoding="utf-8")))
    assert in_code - {"GOVINFO_"} <= table | {"GOVINFO_TEST_PG_URL"}


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("GOVINFO_BATCH_FILES", "many", "GOVINFO_BATCH_FILES must be a whole number"),
        ("GOVINFO_WORKERS", "0", "GOVINFO_WORKERS must be 1 or more"),
        ("GOVINFO_DUCKDB_CHECKPOINT", "1GB'; DROP TABLE reports; --", "GOVINFO_DUCKDB_CHECKPOINT must be a size"),
    ],
)
def test_a_malformed_setting_is_a_clear_error(name, value, says, sample_dir, tmp_path):
    env = {**os.environ, name: value, "DAGSTER_HOME": str(tmp_path / "home")}
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    cmd = [sys.executable, "-m", "govinfo_pipeline.cli", "run", "--input", str(sample_dir), "--warehouse", url]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert not (tmp_path / "wh.duckdb").exists()  # nothing was run


def _year_copy(folder: Path) -> str:
    """A sample re-titled as a 2021 report (the same body's next report, say): another year partition."""
    text = (folder / "000_78499890c9608f1e.txt").read_text(encoding="utf-8")
    (folder / "next_year.txt").write_text(text.replace("2020年度政府信息公开", "2021年度政府信息公开", 1), "utf-8")
    return "next_year.txt"


def test_the_cli_the_sensor_and_the_asset_plan_a_folder_alike(sample_dir, dagster_home, tmp_path):
    copy = _year_copy(sample_dir)
    samples = sorted(p.name for p in sample_dir.glob("0*.txt"))
    expected = {"2020": samples, "2021": [copy]}  # the title lines say so
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    cmd = [
        sys.executable,
        "-m",
        "govinfo_pipeline.cli",
        "run",
        "--plan",
        "--input",
        str(sample_dir),
        "--warehouse",
        url,
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["years"] == expected
    with dg.DagsterInstance.get() as instance:
        source = SourceFolder(path=str(sample_dir))
        requests = new_files(dg.build_sensor_context(instance=instance, resources={"source": source})).run_requests
        assert {r.partition_key: r.run_config["ops"]["raw_files"]["config"]["files"] for r in requests} == expected
        resources = {"source": source, "warehouse": Warehouse(url=url), "io_manager": dg.mem_io_manager}
        for year, files in expected.items():
            result = dg.materialize([raw_files], partition_key=year, resources=resources, instance=instance)
            assert sorted(result.output_for_node("raw_files")["source_path"]) == files


def test_the_asset_graph_materializes_the_samples(sample_dir, dagster_home, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    resources = {
        "source": SourceFolder(path=str(sample_dir)),
        "warehouse": Warehouse(url=url),
        "io_manager": BatchIOManager(base_dir=str(tmp_path / "batches")),
    }
    assets = list(defs().assets or [])
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(assets, partition_key="2020", resources=resources, instance=instance)
    assert result.success
    reports = read(url, "SELECT report_id, template_version FROM reports")
    assert len(reports) == 5 and set(reports["template_version"]) == {"2019"}
    # Every report holds every cell of its template: 198 on the 2019 format.
    assert read(url, "SELECT COUNT(*) AS n FROM report_cells")["n"][0] == 5 * 198
    assert read(url, "SELECT COUNT(*) AS n FROM rejections")["n"][0] == 0
    ledger = read(url, "SELECT files_seen, reports_loaded, rejections, balanced FROM run_accounting")
    assert ledger.to_dict("records") == [{"files_seen": 5, "reports_loaded": 5, "rejections": 0, "balanced": True}]
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) == 7  # one per suite; a failed check may only be a warning (a report breaking a rule)
    assert all(c.passed or c.severity == dg.AssetCheckSeverity.WARN for c in checks)


def test_a_warehouse_locked_by_another_process_is_exit_2_naming_it(sample_dir, tmp_path):
    path = tmp_path / "wh.duckdb"
    engine = store.connect(f"duckdb:///{path}")
    store.ensure_schema(engine)
    engine.dispose()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}, read_only=True); "
         "print('ready', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
        cmd = [sys.executable, "-m", "govinfo_pipeline.cli", "run", "--input", str(sample_dir)]
        started = time.monotonic()
        proc = subprocess.run([*cmd, "--warehouse", f"duckdb:///{path}"], env=env, capture_output=True, text=True)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "is locked by" in lines[0] and f"(PID {holder.pid})" in lines[0], proc.stderr
        assert "close that process's connection" in lines[0]
        assert time.monotonic() - started < 60  # it says so at once, instead of planning as if nothing were held
    finally:
        holder.kill()
        holder.wait()
    with duckdb.connect(str(path), read_only=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reports").fetchone() == (0,)


def test_an_unreachable_postgresql_is_exit_2_and_one_line(sample_dir, tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens on port 1
    cmd = [sys.executable, "-m", "govinfo_pipeline.cli", "run", "--input", str(sample_dir), "--warehouse", url]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "cannot reach the warehouse at postgresql+psycopg://nobody@127.0.0.1:1/none" in proc.stderr


def test_each_batch_frame_is_its_warehouse_table_but_the_write_time():
    from govinfo_pipeline.parse import batch as parse_batch
    from govinfo_pipeline.quality.results import RESULT_COLUMNS

    frames = {
        "reports": parse_batch.REPORT_COLUMNS,
        "cells": parse_batch.CELL_COLUMNS,
        "sections": parse_batch.SECTION_COLUMNS,
        "claims": parse_batch.CLAIM_COLUMNS,
        "results": RESULT_COLUMNS,
        "rejections": parse_batch.REJECTION_COLUMNS,
    }
    assert set(frames) == set(store.BATCH_TABLES)
    for name, columns in frames.items():
        table = {c.name for c in store.BATCH_TABLES[name].columns}
        assert set(columns) <= table, name
        assert table - set(columns) <= {"loaded_at", "checked_at", "rejected_at"}, name


def test_a_run_walks_the_folder_once_and_asks_the_warehouse_little(sample_dir, dagster_home, tmp_path, monkeypatch):
    import collections

    from govinfo_pipeline import launch
    from govinfo_pipeline.runner import plan as run_plan
    from govinfo_pipeline.store import sessions, writes

    calls: collections.Counter[str] = collections.Counter()

    def counted(module, name):
        original = getattr(module, name)

        def call(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, call)

    counted(run_plan, "discover")
    counted(run_plan, "existing_fingerprints")
    counted(writes, "existing_fingerprints")
    counted(sessions, "ensure_schema")
    assert launch.run_pipeline(str(sample_dir), f"duckdb:///{tmp_path / 'wh.duckdb'}").success
    assert calls["discover"] == 1  # the plan's walk; raw_files reads the plan
    assert calls["existing_fingerprints"] == 2  # the plan, and the write (what the batch's files meet)
    assert calls["ensure_schema"] <= 4  # the plan, then once per step at most, not once per session
