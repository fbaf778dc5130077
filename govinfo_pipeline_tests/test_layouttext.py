"""PDF layout text (``pdftotext -layout``): small hand-made snippets, each cell worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from govinfo_pipeline.parse.layout import Cell
from govinfo_pipeline.parse.layouttext import looks_like_layout, read_layout_text
from govinfo_pipeline_tests.conftest import SAMPLES

CORPUS = Path(__file__).parent / "corpus"
FIXTURES = sorted(CORPUS.glob("*/*_pdftotext.txt"))


def at(*parts: tuple[int, str]) -> str:
    """A line with each text starting at the given character position."""
    out = ""
    for pos, text in parts:
        assert pos >= len(out) + (2 if out else 0), (pos, text)
        out += " " * (pos - len(out)) + text
    return out


def values(*parts: tuple[int, str]) -> tuple[tuple[int, str], ...]:
    return parts


NOTE = at((0, "（本列数据的勾稽关系为：第一项加第二项之和，"), (40, "申请人情况"))
# Column words at known positions: 自然人 20-22, 商业企业 26-29, 科研机构 32-35, 社会公益组织 38-43,
# 法律服务机构 46-51, 其他 54-55, 总计 58-59.
COLUMNS = at(
    (20, "自然人"),
    (26, "商业企业"),
    (32, "科研机构"),
    (38, "社会公益组织"),
    (46, "法律服务机构"),
    (54, "其他"),
    (58, "总计"),
)
# One value under each column but 科研机构.
SIX = values((21, "7"), (27, "2"), (40, "1"), (48, "0"), (54, "0"), (58, "10"))
SEVEN = values((21, "3"), (27, "1"), (33, "0"), (40, "0"), (48, "0"), (54, "1"), (58, "5"))


def rows_of(text: str) -> dict[str, list[Cell]]:
    """Each row group by its label text (wrapped label lines joined)."""
    return {g[0].text: g for g in read_layout_text(text).groups}


def raws(group: list[Cell]) -> list[str]:
    return [c.raw for c in group[1:]]


def test_an_invisible_blank_column_is_told_by_the_header_positions():
    text = "\n".join([NOTE, COLUMNS, at((0, "一、本年新收政府信息公开申请数量"), *SIX)])
    row = rows_of(text)["一、本年新收政府信息公开申请数量"]
    assert raws(row) == ["7", "2", "", "1", "0", "0", "10"]
    assert [c.line for c in row] == [3] * 8
    assert row[1].offset == 21 and row[7].offset == 58


def test_without_column_words_a_short_row_is_not_placed():
    # Only the note: nothing tells which column is empty, so the six values stay six (read as text later).
    text = "\n".join([NOTE, at((0, "一、本年新收政府信息公开申请数量"), *SIX)])
    assert raws(rows_of(text)["一、本年新收政府信息公开申请数量"]) == ["7", "2", "1", "0", "0", "10"]


def test_a_full_row_takes_its_values_in_order_even_where_they_lean_into_the_next_column():
    crooked = values((21, "3"), (27, "1"), (33, "0"), (44, "0"), (49, "0"), (54, "1"), (58, "5"))
    text = "\n".join([NOTE, COLUMNS, at((0, "二、上年结转政府信息公开申请数量"), *crooked)])
    assert raws(rows_of(text)["二、上年结转政府信息公开申请数量"]) == ["3", "1", "0", "0", "0", "1", "5"]


def test_wrapped_labels_page_numbers_and_form_feeds():
    text = "\n".join(
        [
            NOTE,
            COLUMNS,
            at((0, "（四）无法"), (7, "1.本机关不掌握相关政府"), *SEVEN),
            at((2, "提供"), (13, "信息")),
            "",
            at((26, "—2—")),
            "\f" + at((7, "2.没有现成信息需要另行"), *SEVEN),
            at((13, "制作")),
        ]
    )
    layout = read_layout_text(text)
    rows = {g[0].text: g for g in layout.groups}
    assert rows["1.本机关不掌握相关政府信息"][0].raw == "1.本机关不掌握相关政府\n信息"
    second = rows["2.没有现成信息需要另行制作"]
    assert raws(second) == ["3", "1", "0", "0", "0", "1", "5"]
    assert second[1].line == 7 and second[1].offset == 22  # the form feed counts in the offset
    assert all("—2—" not in c.raw for g in layout.groups for c in g)
    assert all("—2—" not in line for _, line in layout.prose)


def test_a_row_that_prints_only_its_label_is_blank():
    text = "\n".join(
        [
            NOTE,
            COLUMNS,
            at((4, "2.重复申请"), *SEVEN),
            at((4, "3.要求提供公开出版物")),
            at((4, "4.无正当理由大量反复申"), *SEVEN),
            at((10, "请")),
        ]
    )
    rows = rows_of(text)
    assert raws(rows["3.要求提供公开出版物"]) == [""] * 7
    assert raws(rows["4.无正当理由大量反复申请"]) == ["3", "1", "0", "0", "0", "1", "5"]


def test_numbers_printed_above_their_label_go_to_the_row_that_has_none():
    above = values((21, "1"), (27, "0"), (33, "0"), (40, "0"), (48, "0"), (54, "0"), (58, "1"))
    text = "\n".join(
        [
            NOTE,
            COLUMNS,
            at((4, "5.属于三类内部"), *SEVEN),
            at((8, "事务信息")),
            at(*above),
            at((4, "6.属于四类过程")),
            at((8, "性信息")),
            at((4, "7.属于行政执法案卷"), *SEVEN),
        ]
    )
    rows = rows_of(text)
    assert raws(rows["5.属于三类内部事务信息"]) == ["3", "1", "0", "0", "0", "1", "5"]
    sixth = rows["6.属于四类过程性信息"]
    assert raws(sixth) == ["1", "0", "0", "0", "0", "0", "1"]
    assert sixth[0].line == 6 and sixth[1].line == 5
    assert raws(rows["7.属于行政执法案卷"]) == ["3", "1", "0", "0", "0", "1", "5"]


def test_numbers_between_two_rows_that_both_lack_them_are_not_guessed():
    text = "\n".join(
        [
            NOTE,
            COLUMNS,
            at((4, "5.属于三类内部事务信息")),
            at(*SEVEN),
            at((4, "6.属于四类过程性信息")),
            at((4, "7.属于行政执法案卷"), *SEVEN),
        ]
    )
    rows = rows_of(text)
    assert raws(rows["5.属于三类内部事务信息"]) == []  # no cells: read as absent, never as blank
    assert raws(rows["6.属于四类过程性信息"]) == []
    assert raws(rows["7.属于行政执法案卷"]) == ["3", "1", "0", "0", "0", "1", "5"]


def test_the_vertical_group_label_is_left_out_of_the_row_labels():
    text = "\n".join(
        [
            NOTE,
            COLUMNS,
            at((0, "三"), (6, "（一）予以公开"), *SEVEN),
            at((0, "、")),
            at((0, "本"), (6, "（二）部分公开"), *SEVEN),
            at((0, "年")),
        ]
    )
    assert [g[0].text for g in read_layout_text(text).groups[1:]] == ["（一）予以公开", "（二）部分公开"]


def test_a_page_without_header_keeps_the_columns_of_the_page_before_when_the_spacing_agrees():
    # Page 2 is shifted right by two; its double gap (29 -> 41) stands where 科研机构 was empty on page 1.
    page2 = values((23, "4"), (29, "0"), (41, "0"), (47, "1"), (53, "0"), (59, "5"))
    text = "\n".join(
        [
            NOTE,
            COLUMNS,
            at((4, "1.信访举报投诉类申请"), *SIX),
            at((26, "—2—")),
            "\f" + at((4, "2.重复申请"), *page2),
        ]
    )
    assert raws(rows_of(text)["2.重复申请"]) == ["4", "0", "", "0", "1", "0", "5"]


def test_a_page_without_header_whose_spacing_disagrees_is_not_placed():
    # Six evenly spaced values: nothing shows which column is the empty one on this page.
    page2 = values((23, "4"), (29, "0"), (35, "0"), (41, "1"), (47, "0"), (53, "5"))
    text = "\n".join(
        [
            NOTE,
            COLUMNS,
            at((4, "1.信访举报投诉类申请"), *SIX),
            "\f" + at((4, "2.重复申请"), *page2),
        ]
    )
    assert raws(rows_of(text)["2.重复申请"]) == ["4", "0", "0", "1", "0", "5"]


def test_proactive_blocks_blank_cell_and_money_with_its_unit():
    text = "\n".join(
        [
            at((20, "第二十条第（八）项")),
            at((4, "信息内容"), (20, "上一年项目数量"), (40, "本年增/减")),
            at((4, "行政事业性收费"), (23, "6")),
            at((20, "第二十条第（九）项")),
            at((4, "信息内容"), (20, "采购项目数量"), (40, "采购总金额")),
            at((4, "政府集中采购"), (22, "12"), (40, "386.52 万元")),
        ]
    )
    rows = rows_of(text)
    assert raws(rows["行政事业性收费"]) == ["6", ""]
    assert raws(rows["政府集中采购"]) == ["12", "386.52 万元"]
    assert rows["第二十条第（八）项"][0].line == 1


REVIEW_TOP = at((5, "行政复议"), (40, "行政诉讼"))
REVIEW_WORDS = [("结果", "维持"), ("结果", "纠正"), ("其他", "结果"), ("尚未", "审结"), ("总计", None)] * 3


def review_text(data: str) -> str:
    first = at(*[(5 * i, top) for i, (top, _) in enumerate(REVIEW_WORDS)])
    second = at(*[(5 * i, low) for i, (_, low) in enumerate(REVIEW_WORDS) if low])
    return "\n".join(["四、政府信息公开行政复议、行政诉讼情况", REVIEW_TOP, first, second, data])


def test_review_table_header_words_stack_and_values_keep_their_order():
    numbers = [str(i % 4) for i in range(15)]
    layout = read_layout_text(review_text(at(*[(5 * i, v) for i, v in enumerate(numbers)])))
    stacks, data = layout.groups[-2], layout.groups[-1]
    assert [c.raw for c in stacks[:5]] == ["结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总计"]
    assert [c.raw for c in data] == numbers and {c.line for c in data} == {5}
    assert layout.prose == [(1, "四、政府信息公开行政复议、行政诉讼情况")]


def test_review_row_with_an_invisible_blank_is_placed_under_its_header_word():
    numbers = [(5 * i, "1") for i in range(15) if i != 4]  # nothing under the first 总计
    data = read_layout_text(review_text(at(*numbers))).groups[-1]
    assert [c.raw for c in data] == ["1"] * 4 + [""] + ["1"] * 10


def test_review_row_that_cannot_be_placed_is_not_read():
    numbers = [(5 * i + (2 if i == 3 else 0), "1") for i in range(15) if i != 4]  # 尚未审结 drifts right
    layout = read_layout_text(review_text(at(*numbers)))
    assert layout.groups[-1][0].raw == "结果\n维持"  # the header is the last group: the 15 cells stay absent
    assert all(not c.raw.isdigit() for g in layout.groups for c in g)


def test_title_drops_the_spaces_pdftotext_adds_and_prose_keeps_lines():
    text = "\n".join(
        [
            at((12, "青岚市某某局 2022 年政府信息公开工作年")),
            at((24, "度报告")),
            "",
            "   一、总体情况",
            "   2022 年，本局共收到申请 3 件。",
        ]
    )
    layout = read_layout_text(text)
    assert layout.title == "青岚市某某局2022年政府信息公开工作年度报告"
    assert layout.source_format == "text"
    assert [n for n, _ in layout.prose] == [1, 2, 4, 5]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_layout_text_fixtures_are_recognised(path):
    assert looks_like_layout(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.txt")), ids=lambda p: p.name)
def test_word_text_dumps_are_not_layout_text(path):
    assert not looks_like_layout(path.read_text(encoding="utf-8"))


def test_markdown_flat_and_short_texts_are_not_layout_text():
    for path in sorted(CORPUS.glob("*/*.md")) + sorted(CORPUS.glob("*/*_flat.txt")):
        assert not looks_like_layout(path.read_text(encoding="utf-8")), path.name
    dump = "\n".join(["二、主动公开政府信息情况", "\t信息内容", "\t本年新制作数量", "\t规章", "\t0", "\t0", "\t0"])
    assert not looks_like_layout(dump)
    flat = "规章000规范性文件898989行政许可1+3268" * 20
    assert not looks_like_layout(flat)
    assert not looks_like_layout("")
