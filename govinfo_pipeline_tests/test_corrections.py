"""Corrections as data: kept apart from what was read, laid over it in the views, the rules evaluated again, kept
through re-runs, stale when the file changes, shared as CSV and YAML. On DuckDB and PostgreSQL.

The figures are those of the sample 保税区（金港镇） (001_…), read by hand: row （六）其他处理 has 自然人 1
(line 321) and 总计 0 (line 327), so B3 fails in that row; the outcomes add to 18 in the 总计 column while
（七）总计 says 19 (line 337), so B2 fails; the prose says 公开9件 where the table grants 7 (X6). Which figure is
wrong the document does not say: the "misread" below is a reviewer's decision acted out by the test (a reviewer
who reads 1 in 总计 on the page), the "source error" marks the 7 that the prose contradicts.
"""

from __future__ import annotations

import pytest

from govinfo_pipeline.quality.review import BadCorrection
from govinfo_pipeline.store import corrections
from govinfo_pipeline.store.sessions import open_warehouse
from govinfo_pipeline_tests.test_cli import govinfo
from govinfo_pipeline_tests.test_pipeline import read

pytestmark = pytest.mark.slow
SAMPLE = "001_c3f9dd7fb35767f7.txt"


def _report_id(url: str) -> str:
    return read(url, "SELECT report_id FROM reports WHERE source_path = :p", p=SAMPLE)["report_id"][0]


def _review(url: str) -> dict[tuple[str, str], tuple[str, str]]:
    rows = read(url, "SELECT rule_id, subject, review, outcome FROM review_results")
    return {(r.rule_id, r.subject): (r.review, r.outcome) for r in rows.itertuples()}


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_corrections_layer_rules_rerun_stale_and_sharing(backend, tmp_path, sample_dir, dagster_home, request):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if backend == "duckdb" else request.getfixturevalue("pg_url")
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    rid = _report_id(url)
    with open_warehouse(url, write=True) as engine:
        with pytest.raises(BadCorrection):
            corrections.save(engine, rid, "application.other.total", "misread", "一些", "ana")
        with pytest.raises(BadCorrection):
            corrections.save(engine, rid, "application.other.total", "guess", "1", "ana")
        saved = corrections.save(engine, rid, "application.other.total", "misread", "1", "ana", "page shows 1")
        corrections.save(engine, rid, "application.granted.total", "source_error", None, "ana", "prose says 9")
        corrections.refresh_results(engine, [rid])
    assert (saved["read_value"], saved["read_status"], saved["value"]) == (0.0, "number", 1.0)

    # report_cells keeps what was read; the views read the reviewed layer and say where the value came from.
    raw = read(url, "SELECT value, raw_text, source_line FROM report_cells WHERE report_id = :r AND section = "
               "'application' AND \"row\" = 'other' AND col = 'total'", r=rid)  # fmt: skip
    assert raw.values.tolist() == [[0.0, "0", 327]]
    cell = read(url, "SELECT value, read_value, value_source, review_kind, reviewer, raw_text FROM v_cells "
                "WHERE report_id = :r AND \"row\" = 'other' AND col = 'total'", r=rid)  # fmt: skip
    assert cell.values.tolist() == [[1.0, 0.0, "reviewer", "misread", "ana", "0"]]
    granted = read(url, "SELECT value, value_source, review_kind FROM v_cells WHERE report_id = :r "
                   "AND \"row\" = 'granted' AND col = 'total'", r=rid)  # fmt: skip
    assert granted.values.tolist() == [[7.0, "reader", "source_error"]]  # a source error keeps what is written
    wide = read(url, "SELECT total, reviewed_cells FROM v_applications_wide WHERE report_id = :r AND \"row\" = 'other'",
                r=rid)  # fmt: skip
    assert wide.values.tolist() == [[1.0, 1]]
    assert read(url, "SELECT reviewed_cells FROM v_agency_year WHERE report_id = :r", r=rid)["reviewed_cells"][0] == 1

    # The rules on the reviewed cells: 1 in 总计 mends B3 (1 = 1) and B2 (outcomes 19 = 19); X6 still fails.
    review = _review(url)
    assert review[("B3", "other")] == ("resolved", "pass")
    assert review[("B2", "total")] == ("resolved", "pass")
    assert review[("X6", "granted")] == ("source_error", "fail")
    failures = read(url, "SELECT rule_id, cell_code, value, value_source, review FROM v_rule_failures "
                    "WHERE report_id = :r AND cell_code = 'application.other.total'", r=rid)  # fmt: skip
    assert sorted(failures.values.tolist()) == [
        ["B2", "application.other.total", 1.0, "reviewer", "resolved"],
        ["B3", "application.other.total", 1.0, "reviewer", "resolved"],
    ]

    # Shared as YAML and CSV; importing what is held adds nothing.
    with open_warehouse(url) as engine:
        assert corrections.export(engine, tmp_path / "c.yaml") == 2
        assert corrections.export(engine, tmp_path / "c.csv") == 2
    out = govinfo("corrections", "import", str(tmp_path / "c.csv"), "--warehouse", url, home=dagster_home)
    assert out.returncode == 0 and "0 corrections added, 2 already held" in out.stdout, out.stderr

    # A re-run keeps them, and the reviewed results.
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    assert read(url, "SELECT COUNT(*) AS n FROM corrections")["n"][0] == 2
    assert _review(url)[("B3", "other")] == ("resolved", "pass")

    # Another version of the file: its corrections are stale, kept and shown, never applied.
    path = sample_dir / SAMPLE
    path.write_bytes(path.read_bytes() + b"\n")
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    new_id = _report_id(url)
    assert new_id != rid
    with open_warehouse(url) as engine:
        assert set(corrections.with_state(engine)["state"]) == {"stale"}
    cell = read(url, "SELECT value, value_source FROM v_cells WHERE report_id = :r AND \"row\" = 'other' "
                "AND col = 'total'", r=new_id)  # fmt: skip
    assert cell.values.tolist() == [[0.0, "reader"]]
    assert read(url, "SELECT COUNT(*) AS n FROM review_results WHERE report_id = :r", r=new_id)["n"][0] == 0

    # Importing into a fresh warehouse: held before the report arrives, applied once it does (same bytes).
    fresh = f"duckdb:///{tmp_path / 'fresh.duckdb'}"
    path.write_bytes(path.read_bytes()[:-1])
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", fresh, home=dagster_home).returncode == 0
    out = govinfo("corrections", "import", str(tmp_path / "c.yaml"), "--warehouse", fresh, home=dagster_home)
    assert out.returncode == 0 and "2 corrections added" in out.stdout, out.stderr
    assert _review(fresh)[("B3", "other")] == ("resolved", "pass")


def test_the_latest_correction_of_a_cell_is_in_force(tmp_path, sample_dir, dagster_home):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert govinfo("run", "--input", str(sample_dir), "--warehouse", url, home=dagster_home).returncode == 0
    rid = _report_id(url)
    with open_warehouse(url, write=True) as engine:
        corrections.save(engine, rid, "application.other.total", "misread", "1", "ana")
        corrections.save(engine, rid, "application.other.total", "confirmed", None, "bo", "0 is what it says")
        states = corrections.with_state(engine)
    assert sorted(states["state"]) == ["applied", "superseded"]
    cell = read(url, "SELECT value, value_source, review_kind, reviewer FROM v_cells WHERE report_id = :r "
                "AND \"row\" = 'other' AND col = 'total'", r=rid)  # fmt: skip
    assert cell.values.tolist() == [[0.0, "reader", "confirmed", "bo"]]
    # blank is not 0: a reviewer who finds the cell empty makes it blank, and the figure NULL
    with open_warehouse(url, write=True) as engine:
        corrections.save(engine, rid, "application.other.total", "misread", "", "ana")
    cell = read(url, "SELECT value, cell_status, value_or_zero FROM v_cells WHERE report_id = :r "
                "AND \"row\" = 'other' AND col = 'total'", r=rid)  # fmt: skip
    assert cell["cell_status"][0] == "blank" and cell["value"].isna().all() and cell["value_or_zero"][0] == 0
