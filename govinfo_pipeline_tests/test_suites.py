"""The Great Expectations suites: each loads whole, passes on the samples, fails on garbage."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest

from govinfo_pipeline.definitions import defs
from govinfo_pipeline.defs import gx_checks
from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import codebook, sources
from govinfo_pipeline.quality import checkframes, gx, rules
from govinfo_pipeline_tests.conftest import SAMPLES

SUITES = gx.suite_names()


def test_there_is_a_suite_per_stage():
    assert {
        "raw_files",
        "raw_duplicates",
        "normalized_reports",
        "normalized_cells",
        "normalized_cell_counts",
        "facts_rule_results",
        "warehouse_audit",
    } == set(SUITES)


@pytest.mark.parametrize("name", SUITES)
def test_every_expectation_loads(name):
    raw = gx.read_suite_json(name)
    suite = gx.load_suite(name)
    assert len(suite.expectations) == len(raw["expectations"]) > 0


def test_an_unknown_expectation_is_an_error_not_a_log_line(tmp_path, monkeypatch):
    bad = {
        "name": "bad",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
            {"type": "expect_column_values_to_be_wonderful", "kwargs": {"column": "a"}},
        ],
    }
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    monkeypatch.setattr(gx, "expectations_dir", lambda: tmp_path)
    gx.load_suite.cache_clear()
    try:
        with pytest.raises(gx.SuiteError, match="expect_column_values_to_be_wonderful"):
            gx.load_suite("bad")
    finally:
        gx.load_suite.cache_clear()


def test_suite_value_sets_follow_the_codebook():
    cells = gx.read_suite_json("normalized_cells")
    codes = next(e["kwargs"]["value_set"] for e in cells["expectations"] if e["kwargs"].get("column") == "code")
    assert set(codes) == {f"{s}.{r}.{c}" for s, r, c in codebook.cell_codes()}
    facts = gx.read_suite_json("facts_rule_results")
    ids = next(e["kwargs"]["value_set"] for e in facts["expectations"] if e["kwargs"].get("column") == "rule_id")
    assert set(ids) == set(codebook.rules()) | {"K0", "K1", "K2", "S1"}


@pytest.fixture(scope="module")
def stages():
    raw = sources.read_files(sources.discover(SAMPLES))
    normalized = parse_batch.normalize(raw)
    return raw, normalized, rules.check(normalized)


def frames(stages) -> dict[str, tuple[pd.DataFrame, dict | None]]:
    raw, n, f = stages
    return {
        "raw_files": (checkframes.raw_view(raw), {"max_file_bytes": 10_000_000}),
        "raw_duplicates": (checkframes.duplicate_accounting(raw, n["reports"], n["rejections"]), None),
        "normalized_reports": (checkframes.reports_view(n["reports"]), None),
        "normalized_cells": (checkframes.cells_view(n["cells"], n["reports"]), None),
        "normalized_cell_counts": (checkframes.cell_counts(n["cells"], n["reports"]), None),
        "facts_rule_results": (checkframes.results_view(f["results"]), None),
    }


@pytest.mark.parametrize("name", [s for s in SUITES if s != "warehouse_audit"])
def test_no_critical_failure_on_the_samples(stages, name):
    df, params = frames(stages)[name]
    result = gx.validate(df, name, params)
    assert not result.critical_failed, result.failures


def test_the_facts_suite_warns_about_each_broken_rule(stages):
    df, _ = frames(stages)["facts_rule_results"]
    result = gx.validate(df, "facts_rule_results")
    assert not result.success and not result.critical_failed
    broken = {f["notes"].split(":")[0] for f in result.failures}
    assert broken == {"B2", "B3", "K1", "X6", "X7"}


def corrupt_cells(stages, how: str) -> pd.DataFrame:
    _, n, _ = stages
    view = checkframes.cells_view(n["cells"], n["reports"])
    view = view.astype({c: object for c in view.select_dtypes("category").columns})  # to write odd values in
    if how == "duplicate_row":
        return pd.concat([view, view.head(1)], ignore_index=True)
    if how == "value_on_blank":
        view.loc[view["cell_status"] == "blank", "value"] = 0.0
    if how == "unknown_code":
        view.loc[0, "code"] = "application.made_up_row.total"
    if how == "bad_status":
        view.loc[0, "cell_status"] = "zero"
    if how == "raw_text_lost":
        view.loc[view["cell_status"] == "number", "raw_text"] = None
    return view


@pytest.mark.parametrize("how", ["duplicate_row", "value_on_blank", "unknown_code", "bad_status", "raw_text_lost"])
def test_garbage_cells_fail_critically(stages, how):
    result = gx.validate(corrupt_cells(stages, how), "normalized_cells")
    assert result.critical_failed


def test_wrong_cell_count_fails(stages):
    _, n, _ = stages
    counts = checkframes.cell_counts(n["cells"].iloc[1:], n["reports"])
    assert gx.validate(counts, "normalized_cell_counts").critical_failed


def test_raw_record_with_text_and_reason_fails(stages):
    raw, _, _ = stages
    view = checkframes.raw_view(raw)
    view.loc[0, "reason"] = "empty"
    assert gx.validate(view, "raw_files", {"max_file_bytes": 10_000_000}).critical_failed
    too_small_limit = gx.validate(checkframes.raw_view(raw), "raw_files", {"max_file_bytes": 100})
    assert too_small_limit.critical_failed


def test_unaccounted_duplicate_fails():
    dup = pd.DataFrame({"source_sha256": ["a" * 64], "files": [2], "accounted": [1]})
    assert gx.validate(dup, "raw_duplicates").critical_failed


def test_schema_checks_are_blocking_and_the_audit_is_not():
    specs = {spec.name: spec for a in defs().assets for spec in getattr(a, "check_specs", ())}  # source assets: none
    assert {n for n, s in specs.items() if s.blocking} == {
        "raw_files_suite",
        "normalized_reports_suite",
        "normalized_cells_suite",
        "normalized_cell_counts_suite",
        "raw_duplicates_suite",
        "facts_rule_results_suite",
    }
    assert specs["warehouse_audit_suite"].blocking is False


def test_a_critical_failure_is_an_error_check_result(stages):
    ctx = dg.build_asset_context()
    result = gx_checks.run_suite(
        ctx, corrupt_cells(stages, "duplicate_row"), "normalized_cells", ["normalized", "cells"]
    )
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["unsuccessful"].value >= 1


def _cells_frame(stages) -> pd.DataFrame:
    _, normalized, _ = stages
    return checkframes.cells_view(normalized["cells"], normalized["reports"])


CELL_DAMAGE = ("number without a value", "a duplicated cell", "line 0", "a unit on a blank", "absent with raw text")


def _damage(view: pd.DataFrame, kind: str) -> pd.DataFrame:
    v = view.astype({"cell_status": object, "unit": object})
    if kind == "number without a value":
        v.loc[v.index[v["cell_status"].eq("number").to_numpy()][7], "value"] = None
    elif kind == "a duplicated cell":
        v = pd.concat([v, v.iloc[[40]]], ignore_index=True)
    elif kind == "line 0":
        v.loc[v.index[v["source_line"].notna().to_numpy()][3], "source_line"] = 0
    elif kind == "a unit on a blank":
        v.loc[v.index[v["cell_status"].eq("blank").to_numpy()][2], "unit"] = "万元"
    elif kind == "absent with raw text":
        v.loc[v.index[v["cell_status"].eq("number").to_numpy()][11], "cell_status"] = "absent"
    return v


@pytest.mark.parametrize("kind", [None, *CELL_DAMAGE])
def test_the_deciding_rows_give_the_whole_frames_verdict(stages, kind):
    """GX runs on one row per distinct case (plus extremes and duplicates): the same expectations must fail as
    on every row, for clean cells and for each kind of damage."""
    view = _cells_frame(stages) if kind is None else _damage(_cells_frame(stages), kind)
    deciding = checkframes.distinct_rows(view, "normalized_cells")
    assert len(deciding) < len(view)
    whole, small = gx.validate(view, "normalized_cells"), gx.validate(deciding, "normalized_cells")
    assert whole.success == small.success == (kind is None)
    key = [(f["expectation"], f["kwargs"].get("column"), str(f["kwargs"].get("row_condition"))) for f in whole.failures]
    assert key == [
        (f["expectation"], f["kwargs"].get("column"), str(f["kwargs"].get("row_condition"))) for f in small.failures
    ]


def test_the_deciding_rows_of_rule_results_keep_every_failure(stages):
    _, _, facts = stages
    view = checkframes.results_view(facts["results"])
    broken = view.astype({"rule_id": object})
    broken.loc[broken.index[0], "message"] = None
    broken.loc[broken.index[1], "rule_id"] = "Z9"
    for frame in (view, broken):
        whole = gx.validate(frame, "facts_rule_results")
        small = gx.validate(checkframes.distinct_rows(frame, "facts_rule_results"), "facts_rule_results")
        assert (whole.success, whole.critical_failed) == (small.success, small.critical_failed)
        assert [f["expectation"] for f in whole.failures] == [f["expectation"] for f in small.failures]
