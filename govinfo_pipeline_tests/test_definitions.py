"""The code location as the UI loads it: definitions, job, partitions, sensor and schedule."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import dagster as dg
import pytest

from govinfo_pipeline.definitions import defs
from govinfo_pipeline.defs.jobs import annual_ingest, new_files
from govinfo_pipeline.defs.resources import SourceFolder
from govinfo_pipeline_tests.conftest import ROOT


def test_every_stage_is_a_group_of_assets():
    graph = defs().resolve_asset_graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    assert groups == {
        "raw": {"raw_files"},
        "normalized": {
            "normalized/reports",
            "normalized/cells",
            "normalized/sections",
            "normalized/prose_numbers",
            "normalized/files",
            "normalized/rejections",
        },
        "facts": {"facts/rule_results", "facts/report_quality"},
        "warehouse": {
            "warehouse/reports",
            "warehouse/report_cells",
            "warehouse/report_sections",
            "warehouse/report_prose_numbers",
            "warehouse/quality_results",
            "warehouse/rejections",
        },
        "review": {"review/corrections", "review/reviewed_results"},
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:  # the reviewers' corrections: an observable source, not partitioned
            continue
        assert node.partitions_def is not None and "2020" in node.partitions_def.get_partition_keys()
        assert node.backfill_policy == dg.BackfillPolicy.single_run()


def test_dagster_definitions_validate(dagster_home):
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "govinfo_pipeline" in proc.stdout + proc.stderr


def test_sensor_requests_a_run_for_new_files_then_skips(sample_dir, dagster_home):
    with dg.DagsterInstance.get() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources={"source": SourceFolder(path=str(sample_dir))})
        result = new_files(ctx)
        assert [r.partition_key for r in result.run_requests] == ["2020"]
        files = result.run_requests[0].run_config["ops"]["raw_files"]["config"]["files"]
        assert files == sorted(p.name for p in sample_dir.glob("*.txt"))
        again = new_files(
            dg.build_sensor_context(
                instance=instance, cursor=result.cursor, resources={"source": SourceFolder(path=str(sample_dir))}
            )
        )
        assert not again.run_requests
        changed_file = sample_dir / "003_cc3b440ac1b55c30.txt"
        changed_file.write_text("杨舍镇2020年度政府信息公开工作年度报告\n", encoding="utf-8")
        changed = new_files(
            dg.build_sensor_context(
                instance=instance, cursor=result.cursor, resources={"source": SourceFolder(path=str(sample_dir))}
            )
        )
        assert [r.run_config["ops"]["raw_files"]["config"]["files"] for r in changed.run_requests] == [
            ["003_cc3b440ac1b55c30.txt"]
        ]


@pytest.mark.parametrize(("when", "year"), [(dt.datetime(2027, 4, 1, 6), "2026"), (dt.datetime(2021, 4, 1, 6), "2020")])
def test_annual_schedule_ingests_the_previous_year(when, year):
    ctx = dg.build_schedule_context(scheduled_execution_time=when)
    request = annual_ingest(ctx)
    assert request.partition_key == year
