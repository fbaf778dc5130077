"""The corrections in Dagster: an observable source whose data version moves with each correction, a sensor that
notices new corrections and asks for a run of just their reports, and the job that evaluates their rules again."""

from __future__ import annotations

import dagster as dg
import pytest

from govinfo_pipeline.definitions import defs
from govinfo_pipeline.defs.resources import BatchIOManager, SourceFolder, Warehouse
from govinfo_pipeline.defs.review.assets import corrections_saved
from govinfo_pipeline.store import corrections
from govinfo_pipeline.store.sessions import open_warehouse
from govinfo_pipeline_tests.test_cli import govinfo
from govinfo_pipeline_tests.test_pipeline import read

pytestmark = pytest.mark.slow


def test_sensor_rematerializes_just_the_corrected_reports(tmp_path, sample_dir, dagster_home):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    rid = read(url, "SELECT report_id FROM reports WHERE source_path LIKE '001%'")["report_id"][0]
    warehouse = Warehouse(url=url)
    with dg.DagsterInstance.get() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse})
        assert corrections_saved(context).skip_reason is not None  # nothing saved yet
        with open_warehouse(url, write=True) as engine:  # saved without the desk: nothing evaluated yet
            corrections.save(engine, rid, "application.other.total", "source_error", None, "ana")
            version = corrections.fingerprint(engine)
        assert read(url, "SELECT COUNT(*) AS n FROM review_results")["n"][0] == 0
        result = corrections_saved(context)
        assert [r.partition_key for r in result.run_requests] == ["2020"]
        request = result.run_requests[0]
        assert request.run_config == {"ops": {"review__reviewed_results": {"config": {"report_ids": [rid]}}}}
        assert [e.tags["dagster/data_version"] for e in result.asset_events] == [version]
        context.update_cursor(result.cursor)
        assert corrections_saved(context).skip_reason is not None  # seen: no second request

        job = defs().resolve_job_def("apply_corrections")
        resources = {
            "warehouse": warehouse,
            "source": SourceFolder(path=str(sample_dir)),
            "io_manager": BatchIOManager(base_dir=str(tmp_path / "b")),
        }
        run = job.execute_in_process(
            partition_key="2020", run_config=request.run_config, instance=instance, resources=resources
        )
        assert run.success
    got = read(url, "SELECT rule_id, subject, review FROM review_results WHERE report_id = :r ORDER BY rule_id", r=rid)
    # B2 and B3 both read other.total; X6 fails on cells nobody has looked at yet
    assert got.values.tolist() == [
        ["B2", "total", "source_error"],
        ["B3", "other", "source_error"],
        ["X6", "granted", "still_fails"],
    ]
