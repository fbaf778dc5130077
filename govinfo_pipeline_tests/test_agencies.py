"""Agencies across years: stable ids across spellings, the cross-year rule X1, year-over-year view."""

from __future__ import annotations

from govinfo_pipeline.parse.agencies import agency_id, level
from govinfo_pipeline_tests.conftest import SAMPLES
from govinfo_pipeline_tests.test_pipeline import ingest, read

YANG = (SAMPLES / "003_cc3b440ac1b55c30.txt").read_text(encoding="utf-8")
XIU = (SAMPLES / "004_54bad18d043e05e5.txt").read_text(encoding="utf-8")


def test_one_body_one_id_whatever_the_spelling():
    assert agency_id("秀洲高新区") == agency_id("秀洲国家高新区")
    assert agency_id("溪口镇人民政府") == agency_id("溪口镇")
    assert agency_id("保税区（金港镇）") == agency_id("保税区(金港镇)") == agency_id("金港镇")  # the last by alias
    assert agency_id("杨舍镇") != agency_id("塘桥镇")
    assert agency_id(None) is None
    assert (level("杨舍镇"), level("秀洲高新区"), level("青岚市卫生健康委员会")) == ("乡镇街道", "开发区", "部门")


def yang_2019() -> str:
    """杨舍镇's report, relabelled 2019, carrying forward 1 (自然人) and 3 (总计) into 2020."""
    lines = YANG.replace("杨舍镇2020年度", "杨舍镇2019年度", 1).split("\n")
    assert lines[339] == "\t四、结转下年度继续办理" and lines[340] == "\t2" and lines[346] == "\t2"
    lines[340], lines[346] = "\t1", "\t3"
    return "\n".join(lines)


def test_x1_and_year_over_year_in_either_order(tmp_path, dagster_home):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "yang_2020.txt").write_text(YANG, encoding="utf-8")
    (folder / "xiu_2020.txt").write_text(XIU, encoding="utf-8")
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    ingest(folder, url)
    assert read(url, "SELECT COUNT(*) AS n FROM quality_results WHERE rule_id = 'X1'")["n"][0] == 0  # no 2019 yet
    # The previous year arrives later, under another spelling for 秀洲.
    (folder / "yang_2019.txt").write_text(yang_2019(), encoding="utf-8")
    (folder / "xiu_2019.txt").write_text(
        XIU.replace("秀洲高新区2020年度", "秀洲国家高新区2019年度", 1), encoding="utf-8"
    )
    ingest(folder, url)
    x1 = read(
        url,
        "SELECT r.source_path, q.subject, q.expected, q.observed, q.outcome FROM quality_results q "
        "JOIN reports r ON r.report_id = q.report_id WHERE q.rule_id = 'X1'",
    )
    yang = x1[x1["source_path"] == "yang_2020.txt"].set_index("subject")
    # Hand-worked: 2020 carried over 1 (自然人) and 1 (总计); 2019 carried forward 1 and 3.
    assert (yang.loc["natural_person", "expected"], yang.loc["natural_person", "observed"]) == (1, 1)
    assert yang.loc["natural_person", "outcome"] == "pass"
    total = yang.loc["total"]
    assert (total["expected"], total["observed"], total["outcome"]) == (3, 1, "fail")
    assert set(yang.drop(index=["natural_person", "total"])["outcome"]) == {"no_data"}  # blank in both years
    xiu = x1[x1["source_path"] == "xiu_2020.txt"]
    assert len(xiu) == 7 and set(xiu["outcome"]) == {"no_data"}  # same body, both years blank
    status = read(url, "SELECT quality_status FROM reports WHERE source_path = 'yang_2020.txt'")["quality_status"][0]
    assert status == "warnings"  # X1 is a warning
    yoy = read(url, "SELECT * FROM v_year_over_year WHERE report_year = 2020").set_index("agency_name")
    assert yoy.loc["杨舍镇", "carried_over"] == 1 and yoy.loc["杨舍镇", "carried_forward_prev"] == 3
    assert yoy.loc["杨舍镇", "applications_received_change"] == 0
    assert yoy.loc["秀洲高新区", "prev_report_id"] is not None
    assert len(read(url, "SELECT * FROM agencies")) == 2
    assert set(read(url, "SELECT alias FROM agency_aliases")["alias"]) == {"杨舍镇", "秀洲高新区", "秀洲国家高新区"}


def test_agency_rows_never_orphaned(tmp_path, dagster_home, sample_dir):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    ingest(sample_dir, url)
    orphans = read(
        url,
        "SELECT COUNT(*) AS n FROM reports r LEFT JOIN agencies a ON a.agency_id = r.agency_id "
        "WHERE r.agency_id IS NOT NULL AND a.agency_id IS NULL",
    )["n"][0]
    assert orphans == 0


def test_the_registry_says_which_text_each_name_came_from(tmp_path, dagster_home, sample_dir):
    """Read by hand: 杨舍镇 and 秀洲高新区 head their titles; 靖江园区's title names no body ("2020年政府信息公开
    工作年度报告"), its first sentence does ("2020年，靖江园区在市委、市政府的坚强领导下…")."""
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    ingest(sample_dir, url)
    reps = read(url, "SELECT source_path, report_id, agency_name, agency_name_source FROM reports")
    by_name = reps.set_index("agency_name")
    assert by_name.loc["杨舍镇", "agency_name_source"] == "title"
    assert by_name.loc["秀洲高新区", "agency_name_source"] == "title"
    assert by_name.loc["靖江园区", "agency_name_source"] == "opening_prose"
    aliases = read(url, "SELECT alias, name_source, first_report_id FROM agency_aliases").set_index("alias")
    assert aliases.loc["靖江园区", "name_source"] == "opening_prose"
    assert aliases.loc["杨舍镇", "first_report_id"] == by_name.loc["杨舍镇", "report_id"]


def test_copy_paste_reports_are_flagged(tmp_path, dagster_home):
    """A report that repeats last year's prose, and one that repeats another body's, are S1 warnings; the
    five samples (different bodies, different prose) are not."""
    folder = tmp_path / "raw"
    folder.mkdir()
    for f in SAMPLES.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "yang_2019.txt").write_text(yang_2019(), encoding="utf-8")
    (folder / "tangqiao_2020.txt").write_text(YANG.replace("杨舍镇", "塘桥镇"), encoding="utf-8")
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    ingest(folder, url)
    s1 = read(
        url,
        "SELECT r.source_path, q.subject, q.observed, q.passed FROM quality_results q JOIN reports r "
        "ON r.report_id = q.report_id WHERE q.rule_id = 'S1'",
    ).set_index("source_path")
    # 杨舍镇 2020 repeats its 2019 report (previous_year) and 塘桥镇 repeats 杨舍镇 (same_year).
    assert not s1.loc["003_cc3b440ac1b55c30.txt", "passed"] and s1.loc["003_cc3b440ac1b55c30.txt", "observed"] >= 0.9
    assert not s1.loc["tangqiao_2020.txt", "passed"] and s1.loc["tangqiao_2020.txt", "subject"] == "same_year"
    others = [f"00{i}_" for i in (0, 1, 2, 4)]
    flagged = {p for p in s1.index[~s1["passed"].astype(bool)]}
    assert not any(p.startswith(tuple(others)) for p in flagged)
    pairs = read(url, "SELECT scope, score FROM report_similarity")
    assert set(pairs["scope"]) == {"previous_year", "same_year"} and (pairs["score"] <= 1).all()


def test_a_portals_source_label_glued_before_the_title_is_not_part_of_the_name():
    from govinfo_pipeline.parse.report import find_agency_and_source

    title = "本站塘桃市昌江区农业农村局2021年政府信息公开工作年度报告"  # …来源：本站 + the title, on one line
    assert find_agency_and_source(title, "", []) == ("塘桃市昌江区农业农村局", "title")
    twice = "白永市城市管理局白永市城市管理局2021年政府信息公开工作年度报告"  # 来源：白永市城市管理局 + the title
    assert find_agency_and_source(twice, "", []) == ("白永市城市管理局", "title")
    bare = "本站2021年政府信息公开工作年度报告"  # the title names no body: the opening sentence does
    opening = "2021年，白永市城市管理局认真贯彻落实《中华人民共和国政府信息公开条例》"
    assert find_agency_and_source(bare, opening, []) == ("白永市城市管理局", "opening_prose")
