"""``govinfo bench`` end to end: a small mixed-format corpus through the real pipeline (Dagster, DuckDB)."""

from __future__ import annotations

import json

import pytest

from govinfo_pipeline import bench

KEYS = (
    "reports",
    "pipeline_seconds",
    "read_floor_seconds",
    "peak_rss_mb",
    "oracle_cells_expected",
    "oracle_cells_correct",
    "oracle_rule_failures_expected",
    "oracle_rule_failures_found",
    "stages",
)


@pytest.mark.slow
def test_bench_writes_its_figures_and_the_oracle_holds_in_every_format(tmp_path):
    out = tmp_path / "bench.json"
    bench.run(8, out, formats=("txt", "html", "docx", "pdf"), seed=11, keep=tmp_path / "work")
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert all(k in figures for k in KEYS)
    assert figures["reports"] == 8
    assert figures["corpus"]["by_format"] == {"docx": 2, "html": 2, "pdf": 2, "txt": 2}
    # 8 reports of 198 or 200 cells each, every one read right
    assert 8 * 198 <= figures["oracle_cells_expected"] <= 8 * 200
    assert figures["oracle_cells_correct"] == figures["oracle_cells_expected"]
    assert figures["oracle_rule_failures_found"] == figures["oracle_rule_failures_expected"] > 0
    assert figures["oracle_unexpected_failures"] == 0
    assert set(figures["stages"]) == {"raw", "normalized", "facts", "warehouse"}
    assert figures["rerun_ok"] and figures["one_report_ok"] and figures["one_report_warm_ok"]
    assert figures["pipeline_seconds"] > 0 and figures["peak_rss_mb"] > 0


def test_tree_memory_sums_a_process_and_its_descendants():
    """A process holding 100 MB whose child holds 200 MB more: the tree's peak is at least 300 MB, more than
    either process alone."""
    import subprocess
    import sys

    child = "import time; b = bytearray(200 * 2**20); time.sleep(3)"
    parent = (
        f"import subprocess, sys, time; b = bytearray(100 * 2**20); "
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}]); p.wait()"
    )
    proc = subprocess.Popen([sys.executable, "-c", parent])
    sampler = bench.TreeMemory(proc.pid, interval=0.05)
    proc.wait()
    sampler.stop()
    if not sampler.available:
        pytest.skip("no /proc/*/smaps_rollup on this system")
    assert sampler.peak_rss_kb >= 300 * 1024
    assert sampler.peak_pss_kb >= 300 * 1024


def test_stage_figures_sum_each_stage_and_take_the_peak_inside_its_windows():
    windows = [("raw", 10.0, 12.0), ("normalized", 12.0, 20.0), ("raw", 30.0, 31.5)]
    samples = [(9.0, 9_000_000), (11.0, 1024), (15.0, 4096), (19.9, 8192), (25.0, 9_000_000), (31.0, 2048)]
    seconds, peaks = bench.stage_figures(windows, samples)
    assert seconds == {"raw": 3.5, "normalized": 8.0}
    assert peaks == {"raw": 2.0, "normalized": 8.0}  # samples outside every window (9 and 25 s) count nowhere


def test_markdown_table_has_one_line_per_format_from_the_per_format_json():
    row = {
        "reports": 500,
        "pipeline_seconds": 50.0,
        "reports_per_second": 10.0,
        "normalized_seconds": 20.0,
        "read_floor_seconds": 0.5,
        "pipeline_to_floor_ratio": 100.0,
        "one_report_seconds": 12.0,
        "peak_rss_mb": 900.0,
        "oracle_exact": True,
    }
    table = bench.markdown_table({"per_format": {"txt": row, "docx": {**row, "oracle_exact": False}}})
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| txt | 500 | 10.0 | 50.0 | 20.0 | 0.5 | 100.0× | exact |")
    assert lines[3].endswith("| NOT exact |")


def test_a_format_may_name_its_own_size():
    assert bench.format_sizes(("txt", "pdf:200", "pdf-scan:4"), 1000) == [("txt", 1000), ("pdf", 200), ("pdf-scan", 4)]


def test_the_year_estimate_is_amdahl_over_the_measured_rates():
    """Every format at 10 reports/s: 140,000 reports take 14,000 s (3.9 h) on one machine. With all of a run in
    the parse (normalized = pipeline) N machines take 1/N of it; with none of it there, N machines do not help."""

    def rates(share_in_parse: float) -> dict:
        row = {"reports_per_second": 10.0, "pipeline_seconds": 100.0, "normalized_seconds": 100.0 * share_in_parse}
        return {fmt: row for fmt in bench.YEAR_MIX}

    assert sum(bench.YEAR_MIX.values()) == pytest.approx(1.0)
    parallel = bench.year_estimate(rates(1.0), workers=(1, 4))
    assert parallel is not None and parallel["hours"] == {"1": 3.9, "4": 1.0}
    serial = bench.year_estimate(rates(0.0), workers=(1, 4))
    assert serial is not None and serial["hours"] == {"1": 3.9, "4": 3.9}
    assert bench.year_estimate({"txt": rates(1.0)["txt"]}) is None  # a format of the mix not measured


def test_per_format_results_of_separate_runs_join_into_one_table_and_year():
    """Text formats measured in one run and PDFs in another: joined, every format of the mix is there, so the
    year is estimated (at 10 reports/s each, all of it in the parse: 14,000 s = 3.9 h on one machine)."""
    row = {"reports": 10, "reports_per_second": 10.0, "pipeline_seconds": 100.0, "normalized_seconds": 100.0}
    text = {"per_format": {f: row for f in ("txt", "html", "docx")}}
    pdfs = {"per_format": {f: row for f in ("pdf", "pdf-scan")}}
    assert bench.year_estimate(text["per_format"]) is None
    joined = bench.joined([text, pdfs])
    assert list(joined["per_format"]) == ["txt", "html", "docx", "pdf", "pdf-scan"]
    assert joined["year_estimate"]["hours"]["1"] == 3.9
