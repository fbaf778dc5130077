"""Pages flattened onto one line with glued table cells: the four flat fixtures against their hand-written
expectations (split flags, offsets, raw text), and the cutting of glued runs on small hand-made strings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from govinfo_pipeline.parse import codebook, flattext, readers
from govinfo_pipeline.parse.flattext import review_totals_hold, row_total_holds, token_splits
from govinfo_pipeline.parse.report import parse_layout

CORPUS = Path(__file__).parent / "corpus"
FLAT = (
    "2019/shibu_2020_flat",
    "2021/xikou_2021_flat",
    "2019/liutang_2019_glued_totals",
    "2021/qinglan_wjw_2023_glued_ambiguous",
)
NBSP = "\u00a0"


def _parse(text: str):
    return parse_layout(readers.read_text(text), text)


def _by_code(report) -> dict[str, dict]:
    return {f"{c['section']}.{c['row']}.{c['col']}": c for c in report.cells}


@pytest.fixture(scope="module", params=FLAT, ids=[f.split("/")[1] for f in FLAT])
def fixture(request):
    doc = yaml.safe_load((CORPUS / f"{request.param}.expected.yaml").read_text(encoding="utf-8"))
    text = (CORPUS / f"{request.param}.txt").read_text(encoding="utf-8")
    return doc, text, _parse(text)


def test_fixture_is_told_flat(fixture):
    _, text, _ = fixture
    assert flattext.looks_flat(text)


def test_metadata(fixture):
    doc, _, report = fixture
    assert (report.title, report.agency_name, report.report_year, report.template_version, report.parse_status) == (
        doc["title"],
        doc["agency_name"],
        doc["report_year"],
        doc["template_version"],
        doc["parse_status"],
    )
    assert [s.section_no for s in report.sections] == [1, 2, 3, 4, 5, 6]
    for s in report.sections:
        assert doc["sections"][s.section_no]["heading"] in s.heading
        assert s.source_line == doc["sections"][s.section_no]["line"]


def test_split_flags_per_cell(fixture):
    doc, _, report = fixture
    flags = doc.get("flags") or {}
    inferred, unsplittable = set(flags.get("inferred_split") or ()), set(flags.get("unsplittable") or ())
    cells = _by_code(report)
    assert len(cells) == len(codebook.cells(doc["template_version"]))
    for code, cell in cells.items():
        want = "inferred_split" if code in inferred else "unsplittable" if code in unsplittable else None
        assert cell["cell_flag"] == want, code
        if want == "unsplittable":
            assert cell["cell_status"] == "text", code


def test_offsets_and_raw_text(fixture):
    doc, _, report = fixture
    cells = _by_code(report)
    for code, where in doc["provenance"].items():
        assert (cells[code]["source_line"], cells[code]["source_offset"]) == (where["line"], where["offset"]), code
    for code, raw in (doc.get("raw_text") or {}).items():
        assert cells[code]["raw_text"] == raw, code
    for code, token in _unsplittable_tokens(doc).items():
        assert cells[code]["raw_text"] == token, code


def _unsplittable_tokens(doc: dict) -> dict[str, str]:
    """{text: run} cells of the expected file, by code."""
    app_cols = [c["col"] for c in codebook.load()["application_cols"]]
    out = {}
    for row, cols in (doc["cells"].get("proactive") or {}).items():
        out |= {f"proactive.{row}.{c}": t["text"] for c, t in cols.items() if isinstance(t, dict)}
    for row, values in (doc["cells"].get("application") or {}).items():
        out |= {
            f"application.{row}.{c}": t["text"] for c, t in zip(app_cols, values, strict=True) if isinstance(t, dict)
        }
    return out


def test_unsplittable_cells_keep_the_run_start_and_notes_say_why():
    text = (CORPUS / "2021/qinglan_wjw_2023_glued_ambiguous.txt").read_text(encoding="utf-8")
    report = _parse(text)
    cells = _by_code(report)
    run_start = text.index("行政规范性文件2114") + len("行政规范性文件")
    for col in ("issued", "repealed", "in_force"):
        assert cells[f"proactive.normative_document.{col}"]["source_offset"] == run_start
    assert any("normative_document" in n and "2114" in n for n in report.notes)


# ---- cutting one run (expected cuts worked out by hand) ----

COUNT3 = ("count", "count", "count")
CHANGE_ROW = ("count", "signed_count", "count")


@pytest.mark.parametrize(
    "run,kinds,expected",
    [
        ("225", COUNT3, [("2", "2", "5")]),
        ("000", COUNT3, [("0", "0", "0")]),
        ("1005", COUNT3, [("10", "0", "5")]),  # 1|0|05 and 1|00|5 have a leading zero
        ("61（增）86", CHANGE_ROW, [("6", "1（增）", "86")]),  # （增） ends the change cell
        ("11（减）3", CHANGE_ROW, [("1", "1（减）", "3")]),
        ("2+35", CHANGE_ROW, [("2", "+3", "5")]),
        ("13.2万元", ("count", "money"), [("1", "3.2万元")]),
        ("28.6万元", ("count", "money"), [("2", "8.6万元")]),  # 28|.6万元: a cell cannot start with "."
        ("3.5", ("count", "count"), []),  # no count holds a decimal point
        ("3.6", ("money",), [("3.6",)]),
        ("无无无", COUNT3, [("无", "无", "无")]),
        ("5/1", COUNT3, [("5", "/", "1")]),
        (f"51{NBSP}{NBSP}{NBSP}{NBSP}6", ("count",) * 7, [("5", "1", NBSP, NBSP, NBSP, NBSP, "6")]),
        ("2114", COUNT3, [("2", "1", "14"), ("2", "11", "4"), ("21", "1", "4")]),
        ("12", COUNT3, []),  # too short for three cells
    ],
)
def test_token_splits(run, kinds, expected):
    assert sorted(token_splits(run, kinds)) == sorted(expected)


def test_token_splits_counts_and_cap():
    # "182001021" (liutang new_received): 12 cuts, as the expected file's comment works out.
    assert len(token_splits("182001021", ("count",) * 7)) == 12
    # Twenty 1s into seven counts: C(19, 6) = 27132 cuts, above a cap of 100.
    assert token_splits("1" * 20, ("count",) * 7, cap=100) is None


def test_row_total_picks_the_only_consistent_cut():
    # "81001010": four cuts (the one two-digit cell is 81, 10, 10 or 10); only 8|1|0|0|1|0|10 adds up.
    cuts = token_splits("81001010", ("count",) * 7)
    assert len(cuts) == 4
    assert [c for c in cuts if row_total_holds(c)] == [("8", "1", "0", "0", "1", "0", "10")]


def test_review_totals():
    assert review_totals_hold(tuple("010010000000000"))
    assert not review_totals_hold(tuple("010000000000000"))


# ---- small hand-made pages ----


def _page(template: str, runs: dict[str, str]) -> str:
    """A one-line 2019/2021 page: the template's labels, each followed by its run (zeros by default)."""
    head19 = "第二十条第（一）项信息内容本年新制作数量本年新公开数量对外公开总数量"
    head21 = "第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数"
    parts = [
        "某某镇人民政府2020年政府信息公开工作年度报告发布日期：2021-01-10一、总体情况全年收到申请若干件。",
        "二、主动公开政府信息情况",
        head19 if template == "2019" else head21,
    ]
    if template == "2019":
        parts.append("第二十条第（五）项信息内容上一年项目数量本年增/减处理决定数量")
    for spec in codebook.rows(template, "proactive"):
        parts.append(spec.label + runs.get(spec.row, "0" * len(spec.cols)))
    parts.append(
        "三、收到和处理政府信息公开申请情况申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他"
    )
    for spec in codebook.rows(template, "application"):
        parts.append(spec.label + runs.get(spec.row, "0" * 7))
    parts.append(
        "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计未经复议直接起诉"
        "复议后起诉结果维持结果纠正其他结果尚未审结总计结果维持结果纠正其他结果尚未审结总计"
    )
    parts.append(runs.get("review", "0" * 15))
    parts.append("五、存在的主要问题及改进情况无。六、其他需要报告的事项无。")
    return "".join(parts)


def _row(cells: dict[str, dict], row: str) -> tuple[list, set]:
    cols = [c["col"] for c in codebook.load()["application_cols"]]
    got = [cells[f"application.{row}.{c}"] for c in cols]
    return [c["value"] if c["cell_status"] == "number" else c["raw_text"] for c in got], {c["cell_flag"] for c in got}


def test_hand_made_page_all_zeros_reads_certain():
    text = _page("2019", {})
    assert flattext.looks_flat(text)
    report = _parse(text)
    assert report.template_version == "2019" and report.parse_status == "parsed"
    assert all(c["value"] == 0 and c["cell_flag"] is None for c in report.cells)  # "…00000002.其他…" too
    assert report.title == "某某镇人民政府2020年政府信息公开工作年度报告"


def test_hand_made_page_column_rules_settle_the_totals():
    # granted "91000010" adds up only as 9|1|0|0|0|0|10; with partially_granted 2|0|…|2, B2 makes total_processed
    # 11|1|0|0|0|0|12 (one of its three cuts with total = sum), and B1 (nothing carried) makes new_received the same.
    text = _page(
        "2019",
        {
            "new_received": "111000012",
            "granted": "91000010",
            "partially_granted": "2000002",
            "total_processed": "111000012",
        },
    )
    report = _parse(text)
    cells = _by_code(report)
    assert _row(cells, "new_received") == ([11, 1, 0, 0, 0, 0, 12], {"inferred_split"})
    assert _row(cells, "total_processed") == ([11, 1, 0, 0, 0, 0, 12], {"inferred_split"})
    assert _row(cells, "granted") == ([9, 1, 0, 0, 0, 0, 10], {"inferred_split"})
    assert _row(cells, "partially_granted") == ([2, 0, 0, 0, 0, 0, 2], {None})
    assert report.parse_status == "parsed"


def test_hand_made_page_stays_unsplittable_when_the_rules_allow_several_cuts():
    # new_received = total_processed = granted = "111000012": B1 and B2 only say the three rows are cut alike,
    # and 11|1|…, 1|11|… and 1|1|10|… all do that. Nothing may be guessed.
    text = _page(
        "2021",
        {
            "new_received": "111000012",
            "granted": "111000012",
            "total_processed": "111000012",
            "normative_document": "2114",
        },
    )
    report = _parse(text)
    cells = _by_code(report)
    for row in ("new_received", "granted", "total_processed"):
        assert _row(cells, row) == (["111000012"] * 7, {"unsplittable"})
    assert {cells[f"proactive.normative_document.{c}"]["raw_text"] for c in ("issued", "repealed", "in_force")} == {
        "2114"
    }
    assert report.parse_status == "partial"


def test_review_run_cut_by_its_totals():
    # Sixteen digits "5500" "10" + ten 0s for fifteen cells: one cell takes two digits, and it cannot start with 0,
    # so it is "55" (55+0+0+1 = 56 vs total 0), "50" (5+50+0+1 = 56 vs 0) or "10" (5+5+0+0 = 10): C1 keeps the last.
    text = _page("2019", {"review": "5500" + "10" + "0" * 10})
    cells = _by_code(_parse(text))
    review = [cells[f"review_litigation.review.{c}"] for c in ("upheld", "corrected", "other", "pending", "total")]
    assert [c["value"] for c in review] == [5, 5, 0, 0, 10]
    assert {c["cell_flag"] for c in review} == {"inferred_split"}
    assert cells["review_litigation.litigation_after_review.total"]["value"] == 0


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).parents[1] / "data" / "raw").glob("*.txt"))
    + sorted(CORPUS.glob("*/*_pdftotext.txt"))
    + sorted(CORPUS.glob("*/*.md")),
    ids=lambda p: p.name,
)
def test_other_text_is_not_flat(path):
    assert not flattext.looks_flat(path.read_text(encoding="utf-8", errors="replace"))
