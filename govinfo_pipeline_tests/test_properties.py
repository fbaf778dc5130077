"""Property-based tests: any input gives a well-formed result or a clean rejection; rules hold on
consistent tables and fail on perturbed ones."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.decode import decode
from govinfo_pipeline.parse.report import parse_report
from govinfo_pipeline.parse.values import CELL_STATUSES, NUMBER
from govinfo_pipeline.quality import rules
from govinfo_pipeline_tests.conftest import SAMPLES

LABELS = sorted({r.label for t in codebook.TEMPLATES for s in codebook.SECTIONS for r in codebook.rows(t, s)})
FRAGMENTS = LABELS + [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "结果维持",
    "总计",
    "本年新制作数量",
    "本年制发件数",
    "第二十条第（一）项",
    "信息内容",
    "勾稽关系",
    "申请人情况",
    "2020年度",
    "无",
    "\u00a0",
    "+3",
    "1（增）",
    "34（减）",
    "400.4万元",
    "[bookmark: _GoBack]",
    "三",
    "、",
]
SAMPLE_LINES = (SAMPLES / "003_cc3b440ac1b55c30.txt").read_text(encoding="utf-8").split("\n")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

report_like = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS).map(lambda s: "\t" + s),
        st.sampled_from(FRAGMENTS),
        st.sampled_from(SAMPLE_LINES),
        st.integers(-10, 10**7).map(lambda n: f"\t{n}"),
        st.text(max_size=30),
        st.just(""),
    ),
    max_size=400,
).map("\n".join)


def assert_well_formed(text: str) -> None:
    parsed = parse_report(text)
    assert parsed.template_version in ("2019", "2021", "unknown")
    assert parsed.parse_status in ("parsed", "partial", "failed")
    expected = 0 if parsed.template_version == "unknown" else len(codebook.cells(parsed.template_version))
    assert len(parsed.cells) == expected
    keys = {(c["section"], c["row"], c["col"]) for c in parsed.cells}
    assert len(keys) == len(parsed.cells)
    for c in parsed.cells:
        assert c["cell_status"] in CELL_STATUSES
        assert (c["value"] is None) == (c["cell_status"] != NUMBER)
        assert (c["raw_text"] is None) == (c["cell_status"] == "absent")
    assert [s.section_no for s in parsed.sections] == sorted({s.section_no for s in parsed.sections})


@FAST
@given(st.text(max_size=2000))
def test_any_text_parses_to_a_well_formed_result(text):
    assert_well_formed(text)


@FAST
@given(report_like)
def test_report_like_text_parses_to_a_well_formed_result(text):
    assert_well_formed(text)


@FAST
@given(st.lists(st.sampled_from(SAMPLE_LINES), max_size=450).map("\n".join))
def test_shuffled_sample_lines_parse_to_a_well_formed_result(text):
    assert_well_formed(text)


@FAST
@given(st.binary(max_size=5000))
def test_any_bytes_decode_or_are_rejected_with_a_reason(data):
    got = decode(data)
    assert (got.text is None) == (got.reason is not None)
    if got.text is None:
        assert got.reason in ("empty", "undecodable") and got.detail


# ---- rules on generated tables ----

APP_ROWS = [r.row for r in codebook.rows("2019", "application")]
OUTCOMES = [r for r in APP_ROWS if r in rules.OUTCOME_ROWS]
COLS = rules.APPLICANT_COLS


@st.composite
def consistent_tables(draw):
    """A 2019 application and review table that satisfies B1-B4 and C1-C4, from drawn counts."""
    grid = {(r, c): draw(st.integers(0, 50)) for r in OUTCOMES for c in COLS}
    for c in COLS:
        grid[("total_processed", c)] = sum(grid[(r, c)] for r in OUTCOMES)
        grid[("carried_forward", c)] = draw(st.integers(0, 20))
        grid[("carried_over", c)] = draw(st.integers(0, grid[("total_processed", c)] + grid[("carried_forward", c)]))
        grid[("new_received", c)] = (
            grid[("total_processed", c)] + grid[("carried_forward", c)] - grid[("carried_over", c)]
        )
    for r in APP_ROWS:
        grid[(r, "total")] = sum(grid[(r, c)] for c in COLS)
    rows = [("application", r, c, v) for (r, c), v in grid.items()]
    for r in ("review", "litigation_direct", "litigation_after_review"):
        parts = [draw(st.integers(0, 30)) for _ in rules.REVIEW_PARTS]
        rows += [("review_litigation", r, c, v) for c, v in zip(rules.REVIEW_PARTS, parts, strict=True)]
        rows.append(("review_litigation", r, "total", sum(parts)))
    return pd.DataFrame(
        [
            {
                "report_id": "r",
                "section": s,
                "row": r,
                "col": c,
                "value": float(v),
                "cell_status": "number",
                "raw_text": str(v),
                "source_line": 1,
                "unit": None,
            }
            for s, r, c, v in rows
        ]
    )


REPORT = pd.DataFrame([{"report_id": "r", "report_year": 2020, "template_version": "2019"}])


def failed(cells: pd.DataFrame) -> set[tuple[str, str]]:
    res = rules.evaluate(REPORT, cells)
    bad = res[res["passed"].eq(False).fillna(False)]
    return set(zip(bad["rule_id"], bad["subject"], strict=True))


@settings(max_examples=60, deadline=None)
@given(consistent_tables())
def test_rules_hold_on_consistent_tables(cells):
    assert failed(cells) == set()


@settings(max_examples=60, deadline=None)
@given(consistent_tables(), st.data())
def test_rules_fail_on_perturbed_tables(cells, data):
    i = data.draw(st.integers(0, len(cells) - 1))
    delta = data.draw(st.integers(1, 9))
    cells = cells.copy()
    cells.loc[i, "value"] += delta
    section, row, col = cells.loc[i, ["section", "row", "col"]]
    found = failed(cells)
    assert found, (section, row, col)
    if section == "application":
        # the changed cell's row total (B3) or, for the total column, its column rules must fail
        assert ("B3", row) in found or (col == "total" and any(r in found for r in [("B1", col), ("B2", col)]))
    else:
        assert {"review": "C1", "litigation_direct": "C2", "litigation_after_review": "C3"}[row] in {
            r for r, _ in found
        }


# ---- round trip: generate, render, parse, compare ----


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), faulty=st.booleans())
def test_generated_reports_round_trip_exactly(seed, faulty):
    """A report drawn by the synthetic generator parses back to exactly the cells it was built from."""
    from govinfo_pipeline.parse.decode import decode as decode_bytes
    from govinfo_pipeline.synth import generator as synth

    report = next(synth.generate(1, seed=seed, fault_share=1.0 if faulty else 0.0))
    parsed = parse_report(decode_bytes(report.data).text)
    assert parsed.template_version == report.expected_meta["template_version"]
    assert parsed.report_year == report.expected_meta["report_year"]
    got = [
        (c["section"], c["row"], c["col"], c["value"], c["unit"], c["cell_status"], c["raw_text"]) for c in parsed.cells
    ]
    want = [
        (c["section"], c["row"], c["col"], c["value"], c["unit"], c["cell_status"], c["raw_text"])
        for c in report.expected_cells
    ]
    assert got == want
