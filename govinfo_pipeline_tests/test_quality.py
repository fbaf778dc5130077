"""Quality rules on the samples against hand-worked arithmetic, and on corrupted copies of a sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import codebook, sources
from govinfo_pipeline.quality import rules
from govinfo_pipeline.quality.results import RESULT_COLUMNS
from govinfo_pipeline_tests.conftest import SAMPLES, expected_reports
from govinfo_pipeline_tests.test_samples import expected_cells

EXPECTED = expected_reports()
APP_ROWS = [r.row for r in codebook.rows("2019", "application")]
OUTCOMES = [r for r in APP_ROWS if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
ORGS = ["commercial_enterprise", "research_institution", "social_welfare_org", "legal_service_org", "other_org"]


def run_rules(folder: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    normalized = parse_batch.normalize(sources.read_files(sources.discover(folder)))
    facts = rules.check(normalized)
    paths = dict(zip(normalized["reports"]["report_id"], normalized["reports"]["source_path"], strict=True))
    status = dict(zip(facts["status"]["report_id"].map(paths), facts["status"]["quality_status"], strict=True))
    return facts["results"].assign(file=facts["results"]["report_id"].map(paths)), status


@pytest.fixture(scope="module")
def sample_results() -> pd.DataFrame:
    return run_rules(SAMPLES)[0]


def hand_sums(doc: dict) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(rule, subject) -> (expected, observed, blank operands), worked from the hand-read cells."""
    cells = expected_cells(doc)

    def v(section, row, col):
        return cells[(section, row, col)][0] or 0.0

    def blanks(codes):
        return sum(cells[c][2] != "number" for c in codes)

    out = {}
    for c in [*["natural_person"], *ORGS, "total"]:
        lhs = [("application", r, c) for r in ("new_received", "carried_over")]
        rhs = [("application", r, c) for r in ("total_processed", "carried_forward")]
        out[("B1", c)] = (sum(v(*x) for x in lhs), sum(v(*x) for x in rhs), blanks(lhs + rhs))
        parts = [("application", r, c) for r in OUTCOMES]
        tot = [("application", "total_processed", c)]
        out[("B2", c)] = (sum(v(*x) for x in parts), v(*tot[0]), blanks(parts + tot))
    for r in APP_ROWS:
        parts = [("application", r, c) for c in ["natural_person", *ORGS]]
        tot = [("application", r, "total")]
        out[("B3", r)] = (sum(v(*x) for x in parts), v(*tot[0]), blanks(parts + tot))
    for rule, r in (("C1", "review"), ("C2", "litigation_direct"), ("C3", "litigation_after_review")):
        parts = [("review_litigation", r, c) for c in ("upheld", "corrected", "other", "pending")]
        tot = [("review_litigation", r, "total")]
        out[(rule, r)] = (sum(v(*x) for x in parts), v(*tot[0]), blanks(parts + tot))
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sum_rule_result_matches_hand_arithmetic(sample_results, name):
    got = sample_results[
        (sample_results["file"] == name) & sample_results["rule_id"].isin(["B1", "B2", "B3", "C1", "C2", "C3"])
    ]
    want = hand_sums(EXPECTED[name])
    assert len(got) == len(want)
    for r in got.itertuples():
        expected, observed, n_blank = want[(r.rule_id, r.subject)]
        assert (r.expected, r.observed) == (expected, observed), (r.rule_id, r.subject)
        n_operands = len(r.cells.split(","))
        if n_blank == n_operands:
            assert r.outcome == "no_data" and pd.isna(r.passed)
        elif expected != observed:
            assert r.outcome == "fail" and r.passed == False  # noqa: E712
        else:
            assert r.outcome == ("assumed_zero" if n_blank else "pass"), (r.rule_id, r.subject)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_prose_numbers_match_the_hand_reading(sample_results, name):
    """Every X6 result agrees with a figure read by hand from the same prose line."""
    x6 = sample_results[(sample_results["file"] == name) & (sample_results["rule_id"] == "X6")]
    hand = EXPECTED[name].get("prose_numbers") or []
    for r in x6.itertuples():
        line = int(r.operands.split(":")[0].removeprefix("prose line "))
        match = [
            h for h in hand if h["line"] == line and float(h["prose"]) == r.expected and float(h["table"]) == r.observed
        ]
        assert match, (r.subject, r.expected, r.observed)
        assert bool(r.passed) == all(h["agrees"] for h in match)
    disagreements = {(r.subject, r.expected, r.observed) for r in x6.itertuples() if r.outcome == "fail"}
    # 001 says "公开9件" where its table grants 7; every other figure the samples quote agrees.
    assert disagreements == ({("granted", 9.0, 7.0)} if name.startswith("001") else set())


def test_domain_template_money_and_no_application_rules(sample_results):
    failed = sample_results[sample_results["passed"].eq(False).fillna(False)]
    assert set(zip(failed["file"], failed["rule_id"], failed["subject"], strict=True)) == {
        ("001_c3f9dd7fb35767f7.txt", "B2", "total"),
        ("001_c3f9dd7fb35767f7.txt", "B3", "other"),
        ("001_c3f9dd7fb35767f7.txt", "X6", "granted"),
        ("004_54bad18d043e05e5.txt", "K1", "application"),
        ("004_54bad18d043e05e5.txt", "K1", "review_litigation"),
        # 685389 in 采购总金额 with no unit in the cell, and none in the 2019 header
        ("004_54bad18d043e05e5.txt", "X7", "proactive.centralized_procurement.procurement_amount"),
    }
    x9 = sample_results[sample_results["rule_id"] == "X9"]
    # 004 says it received no application (line 9), and its table counts none.
    assert list(zip(x9["file"], x9["outcome"], strict=True)) == [("004_54bad18d043e05e5.txt", "pass")]
    t1 = sample_results[sample_results["rule_id"] == "T1"]
    assert set(t1["outcome"]) == {"pass"} and len(t1) == 5


# ---- corrupted copies of a sample: each caught by the rule one would expect ----

YANG = "003_cc3b440ac1b55c30.txt"


def corrupted(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    lines = (SAMPLES / YANG).read_text(encoding="utf-8").split("\n")
    (folder / YANG).write_text("\n".join(edit(lines)), encoding="utf-8")
    return folder


def failures_of(folder: Path) -> set[tuple[str, str]]:
    results, _ = run_rules(folder)
    failed = results[results["passed"].eq(False).fillna(False)]
    return set(zip(failed["rule_id"], failed["subject"], strict=True))


def test_clean_copy_has_no_failure(tmp_path):
    assert failures_of(corrupted(tmp_path, lambda lines: lines)) == set()


def test_changing_one_cell(tmp_path):
    def edit(lines):
        assert lines[125] == "\t9"  # line 126: （一）予以公开, 自然人
        lines[125] = "\t10"
        return lines

    # The 自然人 column no longer adds up (B2), nor does the row (B3); the prose's 予以公开9件 still
    # matches the 总计 cell, which was not changed.
    assert failures_of(corrupted(tmp_path, edit)) == {("B2", "natural_person"), ("B3", "granted")}


def test_dropping_a_row(tmp_path):
    def edit(lines):
        assert lines[233] == "\t1.本机关不掌握相关政府信息"  # line 234, then its seven cells
        return lines[:232] + lines[241:]

    # Its cells are absent (K2); the outcome sum and the prose's 无法提供9件 lose its 8 cases.
    assert failures_of(corrupted(tmp_path, edit)) == {
        ("K2", "application"),
        ("B2", "natural_person"),
        ("B2", "total"),
        ("X6", "unable"),
    }


def test_blanking_a_table(tmp_path):
    def edit(lines):
        start, end = 377, 392  # lines 378-392: the fifteen review/litigation cells
        assert lines[start:end] == ["\t1"] + ["\t0"] * 3 + ["\t1"] + ["\t0"] * 10
        lines[start:end] = ["\t"] * 15
        return lines

    # The table is incomplete (K1); the prose's 行政复议有1件 no longer matches; C1-C3 have no data.
    found = failures_of(corrupted(tmp_path, edit))
    assert found == {("K1", "review_litigation"), ("X6", "review")}
    results, status = run_rules(Path(tmp_path / "raw"))
    c = results[results["rule_id"].isin(["C1", "C2", "C3"])]
    assert set(c["outcome"]) == {"no_data"}
    assert status[YANG] == "warnings"


def test_rule_ids_are_in_the_codebook(sample_results):
    assert set(sample_results["rule_id"]) <= set(codebook.rules()) | {"K0", "K1", "K2"}
    assert set(RESULT_COLUMNS) <= set(sample_results.columns)


def test_prose_line_is_a_whole_number_beside_a_pdf(tmp_path):
    """A batch with a PDF (its prose has no line numbers) beside a text dump: X6 still names the dump's line as
    written (``prose line 12``, not ``prose line 12.0``), and the PDF's claims as ``prose``."""
    sample = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("001"))[0]
    (tmp_path / sample.name).write_bytes(sample.read_bytes())
    pdf = Path(__file__).parent / "corpus" / "2019" / "tongchuan_zrzy_2020_print.pdf"
    (tmp_path / pdf.name).write_bytes(pdf.read_bytes())
    out = parse_batch.normalize(sources.read_files(sources.discover(tmp_path)), workers=1)
    results = rules.evaluate(out["reports"], out["cells"], out["claims"])
    ops = results.loc[results["rule_id"] == "X6", "operands"]
    assert len(ops) and all(o.startswith(("prose: ", "prose line ")) and ".0:" not in o for o in ops)
    assert any(o.startswith("prose line ") for o in ops)
