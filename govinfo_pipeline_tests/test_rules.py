"""The consistency rules: on the samples (hand-worked arithmetic) and on constructed tables."""

from __future__ import annotations

import pandas as pd
import pytest

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.batch import normalize
from govinfo_pipeline.parse.sources import discover, read_files
from govinfo_pipeline.quality import rules
from govinfo_pipeline.quality.rules import check
from govinfo_pipeline_tests.conftest import SAMPLES, expected_reports

EXPECTED = expected_reports()


@pytest.fixture(scope="module")
def sample_facts():
    normalized = normalize(read_files(discover(SAMPLES)))
    facts = check(normalized)
    paths = normalized["reports"].set_index("report_id")["source_path"]
    results = facts["results"].assign(file=facts["results"]["report_id"].map(paths))
    status = facts["status"].assign(file=facts["status"]["report_id"].map(paths))
    return results, status


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_failures_match_hand_worked_arithmetic(sample_facts, name):
    """Each known inconsistency of the source is found, on exactly the cells worked out by hand."""
    results, _ = sample_facts
    mine = results[(results["file"] == name) & results["rule_id"].isin(["B1", "B2", "B3", "C1", "C2", "C3"])]
    failed = mine[mine["passed"].eq(False).fillna(False)]
    got = {(r.rule_id, r.subject, r.expected, r.observed) for r in failed.itertuples()}
    want = {
        (f["rule"], f["subject"], float(f["expected"]), float(f["observed"]))
        for f in EXPECTED[name]["arithmetic"]["failures"]
    }
    assert got == want


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_blank_tables_are_flagged_incomplete(sample_facts, name):
    results, _ = sample_facts
    k1 = results[(results["file"] == name) & (results["rule_id"] == "K1") & results["passed"].eq(False)]
    assert set(k1["subject"]) == set(EXPECTED[name]["arithmetic"]["all_blank_tables"])


def test_blank_application_table_is_not_a_clean_pass(sample_facts):
    results, _ = sample_facts
    b = results[(results["file"] == "004_54bad18d043e05e5.txt") & results["rule_id"].isin(["B1", "B2", "B3"])]
    assert set(b["outcome"]) == {"no_data"}
    assert b["passed"].isna().all()


def test_sample_quality_status(sample_facts):
    _, status = sample_facts
    got = dict(zip(status["file"], status["quality_status"], strict=True))
    # 001 breaks B2 and B3 (errors); 004 leaves two tables blank (K1 warnings); the rest are clean.
    assert got == {
        "000_78499890c9608f1e.txt": "passed",
        "001_c3f9dd7fb35767f7.txt": "errors",
        "002_f9624be8a21e35fd.txt": "passed",
        "003_cc3b440ac1b55c30.txt": "passed",
        "004_54bad18d043e05e5.txt": "warnings",
    }


def test_per_column_rules_give_one_result_per_column(sample_facts):
    results, _ = sample_facts
    one = results[results["file"] == "001_c3f9dd7fb35767f7.txt"]
    assert sorted(one[one["rule_id"] == "B1"]["subject"]) == sorted(rules.APPLICANT_COLS + ("total",))
    assert len(one[one["rule_id"] == "B3"]) == len(codebook.rows("2019", "application"))


# ---- constructed tables: the rules hold on consistent ones and fail on perturbed ones ----


def consistent_table(template: str = "2019") -> pd.DataFrame:
    """A table that satisfies every rule: each outcome row gets a different count per column."""
    rows = []
    app_rows = [r.row for r in codebook.rows(template, "application")]
    outcome = [r for r in app_rows if r in rules.OUTCOME_ROWS]
    cols = rules.APPLICANT_COLS
    grid = {(r, c): float((i + 2 * j) % 5) for i, r in enumerate(outcome) for j, c in enumerate(cols)}
    for j, c in enumerate(cols):
        grid[("total_processed", c)] = sum(grid[(r, c)] for r in outcome)
        grid[("carried_forward", c)] = float(j)
        grid[("carried_over", c)] = float(j % 2)
        grid[("new_received", c)] = (
            grid[("total_processed", c)] + grid[("carried_forward", c)] - grid[("carried_over", c)]
        )
    for r in app_rows:
        grid[(r, "total")] = sum(grid[(r, c)] for c in cols)
    for (r, c), v in grid.items():
        rows.append(
            {
                "report_id": "r1",
                "section": "application",
                "row": r,
                "col": c,
                "value": v,
                "cell_status": "number",
                "raw_text": str(int(v)),
                "source_line": 1,
                "unit": None,
            }
        )
    for r, parts in {
        "review": [1, 2, 0, 3],
        "litigation_direct": [0, 0, 1, 0],
        "litigation_after_review": [2, 0, 0, 0],
    }.items():
        for c, v in zip(rules.REVIEW_PARTS + ("total",), parts + [sum(parts)], strict=True):
            rows.append(
                {
                    "report_id": "r1",
                    "section": "review_litigation",
                    "row": r,
                    "col": c,
                    "value": float(v),
                    "cell_status": "number",
                    "raw_text": str(v),
                    "source_line": 1,
                    "unit": None,
                }
            )
    return pd.DataFrame(rows)


REPORT = pd.DataFrame([{"report_id": "r1", "report_year": 2020, "template_version": "2019"}])


def failures(cells: pd.DataFrame) -> set[tuple[str, str]]:
    res = rules.evaluate(REPORT, cells)
    failed = res[res["passed"].eq(False).fillna(False)]
    return set(zip(failed["rule_id"], failed["subject"], strict=True))


def set_cell(cells: pd.DataFrame, row: str, col: str, **changes) -> pd.DataFrame:
    cells = cells.copy()
    hit = (cells["row"] == row) & (cells["col"] == col)
    assert hit.sum() == 1
    for k, v in changes.items():
        cells.loc[hit, k] = v
    return cells


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_consistent_tables_pass(template):
    res = rules.evaluate(
        REPORT.assign(template_version=template, report_year=2022 if template == "2021" else 2020),
        consistent_table(template),
    )
    assert not (res["passed"] == False).any()  # noqa: E712
    sums = res[res["rule_id"].isin(["B1", "B2", "B3", "C1", "C2", "C3"])]
    assert set(sums["outcome"]) == {"pass"}


def test_changing_an_outcome_cell_breaks_b2_and_b3_for_that_column_and_row():
    cells = set_cell(consistent_table(), "granted", "research_institution", value=99.0, raw_text="99")
    assert failures(cells) == {("B2", "research_institution"), ("B3", "granted")}


def test_changing_a_total_cell_breaks_the_column_rules_of_the_total_column():
    cells = set_cell(consistent_table(), "new_received", "total", value=1000.0)
    assert failures(cells) == {("B1", "total"), ("B3", "new_received")}


def test_review_total_mismatch_is_c1():
    cells = set_cell(consistent_table(), "review", "total", value=7.0)
    assert failures(cells) == {("C1", "review")}


def test_negative_and_fractional_counts_break_b4():
    cells = set_cell(consistent_table(), "granted", "natural_person", value=-1.0)
    assert ("B4", "application") in failures(cells)
    cells = set_cell(consistent_table(), "carried_over", "natural_person", value=0.5)
    assert ("B4", "application") in failures(cells)


def test_a_rule_holding_only_through_blanks_says_so():
    cells = consistent_table()
    zero = (cells["section"] == "application") & (cells["value"] == 0)
    cells.loc[zero, ["value", "cell_status", "raw_text"]] = [None, "blank", ""]
    res = rules.evaluate(REPORT, cells)
    b3 = res[res["rule_id"] == "B3"]
    assert "assumed_zero" in set(b3["outcome"])
    assert b3.loc[b3["outcome"] == "assumed_zero", "message"].str.contains("read as 0").all()
    assert b3.loc[b3["outcome"] == "assumed_zero", "passed"].all()


def test_template_year_mismatch_is_t1():
    res = rules.evaluate(REPORT.assign(report_year=2022), consistent_table())
    t1 = res[res["rule_id"] == "T1"]
    assert t1["passed"].tolist() == [False]
    assert t1["level"].tolist() == ["warning"]
