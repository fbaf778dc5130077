#!/usr/bin/env python3
"""Write the fixture documents of the parser test corpus (govinfo_pipeline_tests/corpus/).

Every fixture is written from the content defined in this file (report prose + table cells as
the report writes them), so the corpus can be rebuilt. The ``*.expected.yaml`` files next to the
fixtures are NOT written by this script: they were transcribed by hand from the documents.

Needs, outside the repository (nothing here is a dependency of govinfo_pipeline):
  * Python packages: python-docx (tested with 1.2.0; it pulls in lxml, used for the flat texts too); PyYAML
    is needed only by check_corpus.py,
    e.g. ``python3 -m venv /tmp/corpus-venv && /tmp/corpus-venv/bin/pip install python-docx pyyaml``
  * Debian packages: libreoffice-writer (``soffice``, docx -> pdf), poppler-utils (``pdftotext``),
    fonts-noto-cjk (the CJK faces the PDFs embed), e.g.
    ``apt-get update && apt-get install -y libreoffice-writer poppler-utils fonts-noto-cjk``

Run from anywhere:
  /tmp/corpus-venv/bin/python govinfo_pipeline_tests/corpus/make_corpus.py          # write everything
  /tmp/corpus-venv/bin/python govinfo_pipeline_tests/corpus/make_corpus.py --only qinglan_wjw_2023   # one group

Determinism: every file is byte-identical on every run on the same machine (docx zip dates, PDF
CreationDate/ID are fixed). The PDFs (and the pdftotext/Markdown files whose line numbers follow them)
depend on the LibreOffice (7.4) and Noto CJK versions: their page breaks were checked by hand for the
expected files (see README.md), so a PDF rebuilt elsewhere must be re-checked with check_corpus.py.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------
# Template labels, verbatim (kept here, not read from the codebook, so that a codebook typo does not
# leak into the fixtures).
# ---------------------------------------------------------------------------------------------
NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
APPLICANT_SUBCOLS = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
APP_COLS = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
    "total",
]
REVIEW_ROWS = ["review", "litigation_direct", "litigation_after_review"]
REVIEW_COLS = ["upheld", "corrected", "other", "pending", "total"]
OUTCOMES = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]

P19 = [
    (
        "第二十条第（一）项",
        ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
        [("regulation", "规章"), ("normative_document", "规范性文件")],
        ["new_made", "new_published", "total_published"],
    ),
    (
        "第二十条第（五）项",
        ["上一年项目数量", "本年增/减", "处理决定数量"],
        [("administrative_license", "行政许可"), ("other_management_service", "其他对外管理服务事项")],
        ["prev_year_items", "change", "decisions"],
    ),
    (
        "第二十条第（六）项",
        ["上一年项目数量", "本年增/减", "处理决定数量"],
        [("administrative_penalty", "行政处罚"), ("administrative_coercion", "行政强制")],
        ["prev_year_items", "change", "decisions"],
    ),
    (
        "第二十条第（八）项",
        ["上一年项目数量", "本年增/减"],
        [("administrative_fee", "行政事业性收费")],
        ["prev_year_items", "change"],
    ),
    (
        "第二十条第（九）项",
        ["采购项目数量", "采购总金额"],
        [("centralized_procurement", "政府集中采购")],
        ["procurement_items", "procurement_amount"],
    ),
]
P21 = [
    (
        "第二十条第（一）项",
        ["本年制发件数", "本年废止件数", "现行有效件数"],
        [("regulation", "规章"), ("normative_document", "行政规范性文件")],
        ["issued", "repealed", "in_force"],
    ),
    ("第二十条第（五）项", ["本年处理决定数量"], [("administrative_license", "行政许可")], ["decisions"]),
    (
        "第二十条第（六）项",
        ["本年处理决定数量"],
        [("administrative_penalty", "行政处罚"), ("administrative_coercion", "行政强制")],
        ["decisions"],
    ),
    ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("administrative_fee", "行政事业性收费")], ["fee_amount"]),
]

APP_TOP = [("new_received", "一、本年新收政府信息公开申请数量"), ("carried_over", "二、上年结转政府信息公开申请数量")]
RESULT_GROUP = "三、本年度办理结果"
_DENIED = [
    ("denied_state_secret", "1.属于国家秘密"),
    ("denied_prohibited_by_law", "2.其他法律行政法规禁止公开"),
    ("denied_three_securities", "3.危及“三安全一稳定”"),
    ("denied_third_party", "4.保护第三方合法权益"),
    ("denied_internal_affairs", "5.属于三类内部事务信息"),
    ("denied_process_info", "6.属于四类过程性信息"),
    ("denied_enforcement_file", "7.属于行政执法案卷"),
    ("denied_query_matter", "8.属于行政查询事项"),
]
_UNABLE = [
    ("unable_not_held", "1.本机关不掌握相关政府信息"),
    ("unable_needs_creation", "2.没有现成信息需要另行制作"),
    ("unable_unclear", "3.补正后申请内容仍不明确"),
]
_NOTPROC = [
    ("not_processed_petition", "1.信访举报投诉类申请"),
    ("not_processed_repeat", "2.重复申请"),
    ("not_processed_publication", "3.要求提供公开出版物"),
    ("not_processed_mass_repeat", "4.无正当理由大量反复申请"),
    ("not_processed_confirmation", "5.要求行政机关确认或重新出具已获取信息"),
]
_OTHER21 = [
    ("other_no_supplement", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_misc", "3.其他"),
]


def result_rows(template: str) -> list[tuple[str | None, str, str]]:
    """(group label or None, row code, label) for the rows under 三、本年度办理结果."""
    rows: list[tuple[str | None, str, str]] = [
        (None, "granted", "（一）予以公开"),
        (None, "partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ]
    rows += [("（三）不予公开", c, lab) for c, lab in _DENIED]
    rows += [("（四）无法提供", c, lab) for c, lab in _UNABLE]
    rows += [("（五）不予处理", c, lab) for c, lab in _NOTPROC]
    if template == "2019":
        rows.append((None, "other", "（六）其他处理"))
    else:
        rows += [("（六）其他处理", c, lab) for c, lab in _OTHER21]
    rows.append((None, "total_processed", "（七）总计"))
    return rows


def app_row_codes(template: str) -> list[str]:
    return [c for c, _ in APP_TOP] + [c for _, c, _ in result_rows(template)] + ["carried_forward"]


# ---------------------------------------------------------------------------------------------
# Report content
# ---------------------------------------------------------------------------------------------
@dataclass
class Section:
    num: str  # 一 … 六 as written, e.g. "一、"
    heading: str
    paras: list[str] = field(default_factory=list)


@dataclass
class Report:
    key: str
    template: str
    year: int
    title_lines: list[str]  # the title as laid out (docx/pdf: one paragraph per entry)
    preface: list[str]
    sections: list[Section]
    proactive: dict[str, list[str]]  # row -> cells as written ("" = blank)
    application: dict[str, list[str]]  # row -> 7 cells as written
    review: list[str]  # 15 cells as written
    omit_blocks: tuple[str, ...] = ()  # proactive clauses left out of the report altogether
    signature: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return "".join(self.title_lines)


def _rows(text: str) -> dict[str, list[str]]:
    """'code: a b c' lines -> {code: [a, b, c]}; '_' stands for a blank cell."""
    out = {}
    for line in text.strip().splitlines():
        code, cells = line.split(":", 1)
        out[code.strip()] = ["" if c == "_" else c.replace("␠", "\u00a0") for c in cells.split()]
    return out


def _app(text: str, template: str) -> dict[str, list[str]]:
    rows = _rows(text)
    assert list(rows) == app_row_codes(template), (list(rows), template)
    assert all(len(v) == 7 for v in rows.values())
    return rows


# 桐川县自然资源和规划局, 2020 report, 2019 template. Clean; used for docx, pdf, pdftotext, html, md.
TONGCHUAN_ZRZY_2020 = Report(
    key="tongchuan_zrzy_2020",
    template="2019",
    year=2020,
    title_lines=["桐川县自然资源和规划局", "2020年政府信息公开工作年度报告"],
    preface=[
        "本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《国务院办公厅政府信息与政务公开办公室"
        "关于政府信息公开工作年度报告有关事项的通知》（国办公开办函〔2019〕60号）要求编制。报告所列数据统计期限自"
        "2020年1月1日起至2020年12月31日止。如对本报告有疑问，请与桐川县自然资源和规划局办公室联系（地址：桐川县"
        "城南大道88号；电话：0571-5550 2178）。"
    ],
    sections=[
        Section(
            "一、",
            "总体情况",
            [
                "2020年，桐川县自然资源和规划局坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《条例》和县委、县政府"
                "关于政务公开工作的部署，围绕自然资源管理和国土空间规划中心工作，不断提升政府信息公开的质量和实效。",
                "（一）主动公开。全年通过县政府门户网站、局政务微信公众号等渠道主动公开政府信息326条，其中机构职能、规划计划"
                "类信息41条，土地征收、出让类信息96条，行政许可、行政处罚等执法信息152条，其他信息37条。",
                "（二）依申请公开。2020年，我局共收到政府信息公开申请41件，上年结转2件。全年办结40件，其中予以公开17件，部分"
                "公开5件，不予公开3件，无法提供13件，不予处理1件，其他处理1件；结转下年度继续办理3件。",
                "（三）政府信息管理。严格执行政府信息公开保密审查制度，坚持“先审查、后公开”和“一事一审”，全年未发生泄密事件。",
                "（四）平台建设。进一步规范县政府门户网站自然资源专栏，新增“国土空间规划”“征地信息公开”两个子栏目。",
                "（五）监督保障。将政务公开工作纳入年度目标责任制考核，组织专题培训2次，全年未发生因政府信息公开工作被责任追究"
                "的情况。",
            ],
        ),
        Section("二、", "主动公开政府信息情况"),
        Section("三、", "收到和处理政府信息公开申请情况"),
        Section("四、", "政府信息公开行政复议、行政诉讼情况"),
        Section(
            "五、",
            "存在的主要问题及改进情况",
            [
                "一是公开内容的及时性有待提高，个别规划批后公布信息更新不够及时；二是依申请公开答复的规范性仍需加强。下一步，"
                "我局将建立主动公开信息更新台账，加强依申请公开答复文书的法制审核。",
            ],
        ),
        Section("六、", "其他需要报告的事项", ["本年度未收取信息处理费。"]),
    ],
    proactive={
        "regulation": ["无", "无", "无"],
        "normative_document": ["3", "3", "17"],
        "administrative_license": ["42", "+3", "268"],
        "other_management_service": ["15", "-2", "37"],
        "administrative_penalty": ["56", "4（减）", "23"],
        "administrative_coercion": ["8", "0", "2"],
        "administrative_fee": ["6", ""],
        "centralized_procurement": ["12", "386.52万元"],
    },
    application=_app(
        """
new_received: 36 3 _ 1 1 0 41
carried_over: 2 0 _ 0 0 0 2
granted: 15 1 _ 0 1 0 17
partially_granted: 4 1 _ 0 0 0 5
denied_state_secret: 0 0 _ 0 0 0 0
denied_prohibited_by_law: 0 0 _ 0 0 0 0
denied_three_securities: 0 0 _ 0 0 0 0
denied_third_party: 1 0 _ 0 0 0 1
denied_internal_affairs: 0 0 _ 0 0 0 0
denied_process_info: 2 0 _ 0 0 0 2
denied_enforcement_file: 0 0 _ 0 0 0 0
denied_query_matter: 0 0 _ 0 0 0 0
unable_not_held: 9 1 _ 1 0 0 11
unable_needs_creation: 1 0 _ 0 0 0 1
unable_unclear: 1 0 _ 0 0 0 1
not_processed_petition: 1 0 _ 0 0 0 1
not_processed_repeat: 0 0 _ 0 0 0 0
not_processed_publication: _ _ _ _ _ _ _
not_processed_mass_repeat: 0 0 _ 0 0 0 0
not_processed_confirmation: 0 0 _ 0 0 0 0
other: 1 0 _ 0 0 0 1
total_processed: 35 3 _ 1 1 0 40
carried_forward: 3 0 _ 0 0 0 3
""",
        "2019",
    ),
    review="1 0 0 1 2 0 1 0 0 1 0 0 0 0 0".split(),
    signature=["桐川县自然资源和规划局", "2021年1月25日"],
)

# 青岚市市场监督管理局, 2022 report, 2021 template. Clean; docx, pdf, pdftotext, html (manifest), md.
QINGLAN_SCJ_2022 = Report(
    key="qinglan_scj_2022",
    template="2021",
    year=2022,
    title_lines=["青岚市市场监督管理局2022年政府信息公开工作年度报告"],
    preface=[
        "本报告依据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》"
        "（国办公开办函〔2021〕30号）编制，内容包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
        "政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。本报告中所列数据的统计期限"
        "自2022年1月1日起至2022年12月31日止。"
    ],
    sections=[
        Section(
            "一、",
            "总体情况",
            [
                "2022年，青岚市市场监管局深入贯彻落实党中央、国务院关于全面推进政务公开的决策部署，紧紧围绕优化营商环境、"
                "守牢安全底线等重点工作，扎实做好政府信息公开工作。",
                "（一）主动公开。全年在市政府门户网站本局信息公开专栏主动公开政府信息1862条，在“青岚市场监管”政务新媒体"
                "发布信息703条；公开行政许可决定18562件、行政处罚决定1247件。",
                "（二）依申请公开。全年新收政府信息公开申请148件，上年结转6件，办结150件，其中予以公开60件，部分公开14件，"
                "结转下年度继续办理4件。",
                "（三）政府信息管理。动态调整主动公开基本目录，全年新制发行政规范性文件4件，废止2件，现行有效31件，均在"
                "政策文件库集中公开。",
                "（四）平台建设。完成政府信息公开专栏适老化和无障碍改造，上线“企业开办一件事”政策问答库。",
                "（五）监督保障。将政务公开纳入局年度绩效考核，开展专题培训3期，全年未发生责任追究情况。",
            ],
        ),
        Section("二、", "主动公开政府信息情况"),
        Section("三、", "收到和处理政府信息公开申请情况"),
        Section("四、", "政府信息公开行政复议、行政诉讼情况"),
        Section(
            "五、",
            "存在的主要问题及改进情况",
            [
                "一是部分基层所政府信息公开意识仍需增强；二是依申请公开答复说理不够充分。2023年，我局将开展依申请公开"
                "答复质量评查，组织基层所政务公开业务培训。",
            ],
        ),
        Section(
            "六、",
            "其他需要报告的事项",
            [
                "依据《政府信息公开信息处理费管理办法》，本年度向1名申请人发出收费通知，申请人逾期未缴纳，未实际收取"
                "信息处理费。本年度办理人大代表建议21件、政协提案17件，已全部办结并按要求公开答复。",
            ],
        ),
    ],
    proactive={
        "regulation": ["/", "/", "/"],
        "normative_document": ["4", "2", "31"],
        "administrative_license": ["18562"],
        "administrative_penalty": ["1247"],
        "administrative_coercion": ["36"],
        "administrative_fee": ["12.35"],
    },
    application=_app(
        """
new_received: 128 14 0 2 3 1 148
carried_over: 5 1 0 0 0 0 6
granted: 52 6 0 1 1 0 60
partially_granted: 11 2 0 0 1 0 14
denied_state_secret: _ _ _ _ _ _ _
denied_prohibited_by_law: 1 0 0 0 0 0 1
denied_three_securities: _ _ _ _ _ _ _
denied_third_party: 4 1 0 0 0 0 5
denied_internal_affairs: 2 0 0 0 0 0 2
denied_process_info: 3 0 0 0 0 0 3
denied_enforcement_file: 2 1 0 0 0 0 3
denied_query_matter: 1 0 0 0 0 0 1
unable_not_held: 27 3 0 1 0 1 32
unable_needs_creation: 5 0 0 0 0 0 5
unable_unclear: 3 0 0 0 0 0 3
not_processed_petition: 6 0 0 0 0 0 6
not_processed_repeat: 4 1 0 0 0 0 5
not_processed_publication: 1 0 0 0 0 0 1
not_processed_mass_repeat: 2 0 0 0 0 0 2
not_processed_confirmation: _ _ _ _ _ _ _
other_no_supplement: 3 0 0 0 0 0 3
other_unpaid_fee: 1 0 0 0 0 0 1
other_misc: 2 0 0 0 1 0 3
total_processed: 130 14 0 2 3 1 150
carried_forward: 3 1 0 0 0 0 4
""",
        "2021",
    ),
    review="3 1 0 1 5 1 0 0 1 2 1 0 0 0 1".split(),
    signature=["青岚市市场监督管理局", "2023年1月18日"],
)

# 青岚市卫生健康委员会, 2023 report, 2021 template. Damaged PDF (+ its pdftotext), script-embedded HTML,
# and the flat text whose glued digits cannot all be split (granted / unable_not_held swap).
QINGLAN_WJW_2023 = Report(
    key="qinglan_wjw_2023",
    template="2021",
    year=2023,
    title_lines=["青岚市卫生健康委员会", "2023年政府信息公开工作年度报告"],
    preface=[
        "根据《中华人民共和国政府信息公开条例》规定，现公布青岚市卫生健康委员会2023年政府信息公开工作年度报告。"
        "本报告所列数据统计期限为2023年1月1日至2023年12月31日。"
    ],
    sections=[
        Section(
            "一、",
            "总体情况",
            [
                "2023年，市卫生健康委认真贯彻落实《中华人民共和国政府信息公开条例》，围绕医疗卫生服务、公共卫生安全等群众"
                "关切，持续深化政务公开，全年工作平稳有序。",
                "（一）主动公开。全年主动公开政府信息958条，其中医疗机构执业登记、医师执业注册等行政许可信息3215件（次），"
                "行政处罚信息412件。",
                "（二）依申请公开。全年新收政府信息公开申请40件，上年结转1件，办结36件，结转下年度继续办理5件。",
                "（三）政府信息管理。开展现行有效行政规范性文件清理，废止1件，现行有效14件。",
                "（四）平台建设。优化市卫生健康委门户网站信息公开专栏，按季度发布医疗机构服务价格公示。",
                "（五）监督保障。组织全系统政务公开业务培训2次，将信息公开纳入委属单位年度考核。",
            ],
        ),
        Section("二、", "主动公开政府信息情况"),
        Section("三、", "收到和处理政府信息公开申请情况"),
        Section("四、", "政府信息公开行政复议、行政诉讼情况"),
        Section(
            "五、",
            "存在的主要问题及改进举措",
            [
                "信息公开的主动性和解读回应的针对性还有差距。下一步将加强政策解读，提高依申请公开答复质量。",
            ],
        ),
        Section("六、", "其他事项", ["本年度未收取信息处理费。"]),
    ],
    proactive={
        "regulation": ["无", "无", "无"],
        "normative_document": ["2", "1", "14"],
        "administrative_license": ["3215"],
        "administrative_penalty": ["412"],
        "administrative_coercion": ["0"],
        "administrative_fee": ["3.6"],
    },
    application=_app(
        """
new_received: 25 13 1 0 1 0 40
carried_over: 1 0 0 0 0 0 1
granted: 11 1 0 0 0 0 12
partially_granted: 2 0 0 0 0 0 2
denied_state_secret: 0 0 0 0 0 0 0
denied_prohibited_by_law: 0 0 0 0 0 0 0
denied_three_securities: 0 0 0 0 0 0 0
denied_third_party: 1 0 0 0 0 0 1
denied_internal_affairs: 0 0 0 0 0 0 0
denied_process_info: 1 0 0 0 0 0 1
denied_enforcement_file: 0 0 0 0 0 0 0
denied_query_matter: 0 0 0 0 0 0 0
unable_not_held: 1 11 0 0 0 0 12
unable_needs_creation: 1 0 1 0 0 0 2
unable_unclear: 0 0 0 0 0 0 0
not_processed_petition: 3 0 0 0 0 0 3
not_processed_repeat: 1 0 0 0 0 0 1
not_processed_publication: 0 0 0 0 0 0 0
not_processed_mass_repeat: 0 0 0 0 0 0 0
not_processed_confirmation: 0 0 0 0 0 0 0
other_no_supplement: 1 0 0 0 0 0 1
other_unpaid_fee: 0 0 0 0 0 0 0
other_misc: 0 0 0 0 1 0 1
total_processed: 22 12 1 0 1 0 36
carried_forward: 4 1 0 0 0 0 5
""",
        "2021",
    ),
    review="2 0 0 1 3 1 0 0 0 1 0 0 0 0 0".split(),
    signature=["青岚市卫生健康委员会", "2024年1月22日"],
)

# 柳塘镇人民政府, 2019 report, 2019 template. Damaged docx (split + merged cells), HTML with a missing
# <td>, and the flat text whose glued digits split only with the row/column totals.
LIUTANG_2019 = Report(
    key="liutang_2019",
    template="2019",
    year=2019,
    title_lines=["柳塘镇人民政府2019年政府信息公开工作年度报告"],
    preface=[
        "本报告根据《中华人民共和国政府信息公开条例》要求，由柳塘镇人民政府编制。报告中所列数据的统计期限自"
        "2019年1月1日起至2019年12月31日止。"
    ],
    sections=[
        Section(
            "一、",
            "总体情况",
            [
                "2019年，柳塘镇认真贯彻落实新修订的《中华人民共和国政府信息公开条例》，进一步健全政务公开工作机制。全年"
                "主动公开政府信息184条；收到政府信息公开申请21件，上年结转1件，全部按期办结。",
            ],
        ),
        Section("二、", "行政机关主动公开政府信息情况"),
        Section("三、", "收到和处理政府信息公开申请情况"),
        Section("四、", "政府信息公开行政复议、行政诉讼情况"),
        Section(
            "五、",
            "存在的主要问题和改进情况",
            [
                "主要问题是村级公开栏更新不及时。下一步将落实专人定期更新，提高公开时效。",
            ],
        ),
        Section("六、", "其他需要报告的事项", ["无。"]),
    ],
    proactive={
        "regulation": ["0", "0", "0"],
        "normative_document": ["2", "2", "5"],
        "administrative_license": ["6", "1（增）", "86"],
        "other_management_service": ["3", "0", "0"],
        "administrative_penalty": ["4", "2（减）", "15"],
        "administrative_coercion": ["0", "0", "0"],
        "administrative_fee": ["0", "0"],
        "centralized_procurement": ["2", "8.6万元"],
    },
    application=_app(
        """
new_received: 18 2 0 0 1 0 21
carried_over: 1 0 0 0 0 0 1
granted: 8 1 0 0 1 0 10
partially_granted: 2 0 0 0 0 0 2
denied_state_secret: 0 0 0 0 0 0 0
denied_prohibited_by_law: 0 0 0 0 0 0 0
denied_three_securities: 0 0 0 0 0 0 0
denied_third_party: 0 0 0 0 0 0 0
denied_internal_affairs: 1 0 0 0 0 0 1
denied_process_info: 0 0 0 0 0 0 0
denied_enforcement_file: 0 0 0 0 0 0 0
denied_query_matter: 0 0 0 0 0 0 0
unable_not_held: 4 1 0 0 0 0 5
unable_needs_creation: 0 0 0 0 0 0 0
unable_unclear: 1 0 0 0 0 0 1
not_processed_petition: 2 无 无 无 无 无 2
not_processed_repeat: 1 无 无 无 无 无 1
not_processed_publication: 0 无 无 无 无 无 0
not_processed_mass_repeat: 0 无 无 无 无 无 0
not_processed_confirmation: 0 无 无 无 无 无 0
other: 0 0 0 0 0 0 0
total_processed: 19 2 0 0 1 0 22
carried_forward: 0 0 0 0 0 0 0
""",
        "2019",
    ),
    review="0 1 0 0 1 0 0 0 0 0 0 0 0 0 0".split(),
    signature=["柳塘镇人民政府", "2020年1月20日"],
)

# 桐川县农业农村局, 2022 report still on the 2019 template (T1), without the 第二十条第（九）项 block, and with a
# typo in （七）总计's 总计 (9 where the outcomes add to 8): breaks B1, B2 and B3 on purpose.
TONGCHUAN_NYNC_2022 = Report(
    key="tongchuan_nync_2022",
    template="2019",
    year=2022,
    title_lines=["桐川县农业农村局2022年度政府信息公开工作年度报告"],
    preface=[
        "根据《中华人民共和国政府信息公开条例》和上级有关要求，现将桐川县农业农村局2022年度政府信息公开工作情况"
        "报告如下。统计期限为2022年1月1日至2022年12月31日。"
    ],
    sections=[
        Section(
            "一、",
            "总体情况",
            [
                "2022年，县农业农村局围绕乡村振兴重点工作，及时公开强农惠农政策、农业执法等信息，全年主动公开政府信息"
                "211条。全年收到政府信息公开申请8件，均已按期答复。",
            ],
        ),
        Section("二、", "主动公开政府信息情况"),
        Section("三、", "收到和处理政府信息公开申请情况"),
        Section("四、", "因政府信息公开工作被申请行政复议和提起行政诉讼情况"),
        Section("五、", "存在的主要问题及改进情况", ["政策解读形式较为单一。下一步将增加图解、视频等解读形式。"]),
        Section("六、", "其他需要报告的事项", ["无。"]),
    ],
    proactive={
        "regulation": ["0", "0", "0"],
        "normative_document": ["1", "1", "6"],
        "administrative_license": ["23", "+2", "131"],
        "other_management_service": ["4", "0", "12"],
        "administrative_penalty": ["31", "-3", "18"],
        "administrative_coercion": ["2", "0", "0"],
        "administrative_fee": ["0", "0"],
    },
    omit_blocks=("第二十条第（九）项",),
    application=_app(
        """
new_received: 7 1 0 0 0 0 8
carried_over: 0 0 0 0 0 0 0
granted: 3 1 0 0 0 0 4
partially_granted: 1 0 0 0 0 0 1
denied_state_secret: 0 0 0 0 0 0 0
denied_prohibited_by_law: 0 0 0 0 0 0 0
denied_three_securities: 0 0 0 0 0 0 0
denied_third_party: 0 0 0 0 0 0 0
denied_internal_affairs: 0 0 0 0 0 0 0
denied_process_info: 0 0 0 0 0 0 0
denied_enforcement_file: 0 0 0 0 0 0 0
denied_query_matter: 0 0 0 0 0 0 0
unable_not_held: 2 0 0 0 0 0 2
unable_needs_creation: 0 0 0 0 0 0 0
unable_unclear: 0 0 0 0 0 0 0
not_processed_petition: 0 0 0 0 0 0 0
not_processed_repeat: 1 0 0 0 0 0 1
not_processed_publication: 0 0 0 0 0 0 0
not_processed_mass_repeat: 0 0 0 0 0 0 0
not_processed_confirmation: 0 0 0 0 0 0 0
other: 0 0 0 0 0 0 0
total_processed: 7 1 0 0 0 0 9
carried_forward: 0 0 0 0 0 0 0
""",
        "2019",
    ),
    review=["0"] * 15,
    signature=["桐川县农业农村局", "2023年1月30日"],
)

# 石埠乡人民政府, 2020 report, 2019 template: flat text, every glued run splits by its digit count alone.
SHIBU_2020 = Report(
    key="shibu_2020",
    template="2019",
    year=2020,
    title_lines=["石埠乡人民政府2020年政府信息公开工作年度报告"],
    preface=[],
    sections=[
        Section("一、", "总体情况", ["2020年，石埠乡主动公开政府信息97条，收到政府信息公开申请6件，已全部办结。"]),
        Section("二、", "主动公开政府信息情况"),
        Section("三、", "收到和处理政府信息公开申请情况"),
        Section("四、", "政府信息公开行政复议、行政诉讼情况"),
        Section("五、", "存在的主要问题及改进情况", ["公开栏目更新频率有待提高，将于2021年落实专人维护。"]),
        Section("六、", "其他需要报告的事项", ["无。"]),
    ],
    proactive={
        "regulation": ["0", "0", "0"],
        "normative_document": ["1", "1", "3"],
        "administrative_license": ["2", "0", "5"],
        "other_management_service": ["0", "0", "0"],
        "administrative_penalty": ["1", "1（减）", "3"],
        "administrative_coercion": ["0", "0", "0"],
        "administrative_fee": ["0", "0"],
        "centralized_procurement": ["1", "3.2万元"],
    },
    application=_app(
        """
new_received: 5 1 ␠ ␠ ␠ ␠ 6
carried_over: 0 0 ␠ ␠ ␠ ␠ 0
granted: 3 1 ␠ ␠ ␠ ␠ 4
partially_granted: 0 0 ␠ ␠ ␠ ␠ 0
denied_state_secret: 0 0 ␠ ␠ ␠ ␠ 0
denied_prohibited_by_law: 0 0 ␠ ␠ ␠ ␠ 0
denied_three_securities: 0 0 ␠ ␠ ␠ ␠ 0
denied_third_party: 0 0 ␠ ␠ ␠ ␠ 0
denied_internal_affairs: 0 0 ␠ ␠ ␠ ␠ 0
denied_process_info: 0 0 ␠ ␠ ␠ ␠ 0
denied_enforcement_file: 0 0 ␠ ␠ ␠ ␠ 0
denied_query_matter: 0 0 ␠ ␠ ␠ ␠ 0
unable_not_held: 1 0 ␠ ␠ ␠ ␠ 1
unable_needs_creation: 0 0 ␠ ␠ ␠ ␠ 0
unable_unclear: 0 0 ␠ ␠ ␠ ␠ 0
not_processed_petition: 0 0 ␠ ␠ ␠ ␠ 0
not_processed_repeat: 1 0 ␠ ␠ ␠ ␠ 1
not_processed_publication: 0 0 ␠ ␠ ␠ ␠ 0
not_processed_mass_repeat: 0 0 ␠ ␠ ␠ ␠ 0
not_processed_confirmation: 0 0 ␠ ␠ ␠ ␠ 0
other: 0 0 ␠ ␠ ␠ ␠ 0
total_processed: 5 1 ␠ ␠ ␠ ␠ 6
carried_forward: 0 0 ␠ ␠ ␠ ␠ 0
""",
        "2019",
    ),
    review=["0"] * 15,
    signature=["石埠乡人民政府", "2021年1月15日"],
)

# 溪口镇人民政府, 2021 report, 2021 template: flat text, every glued run splits by its digit count alone.
XIKOU_2021 = Report(
    key="xikou_2021",
    template="2021",
    year=2021,
    title_lines=["溪口镇人民政府2021年政府信息公开工作年度报告"],
    preface=[],
    sections=[
        Section(
            "一、", "总体情况", ["2021年，溪口镇主动公开政府信息132条；收到政府信息公开申请8件，上年结转1件，办结9件。"]
        ),
        Section("二、", "主动公开政府信息情况"),
        Section("三、", "收到和处理政府信息公开申请情况"),
        Section("四、", "政府信息公开行政复议、行政诉讼情况"),
        Section("五、", "存在的主要问题及改进情况", ["政策解读不够深入，将加强图文解读。"]),
        Section("六、", "其他需要报告的事项", ["无。"]),
    ],
    proactive={
        "regulation": ["无", "无", "无"],
        "normative_document": ["0", "0", "2"],
        "administrative_license": ["37"],
        "administrative_penalty": ["5"],
        "administrative_coercion": ["0"],
        "administrative_fee": ["0"],
    },
    application=_app(
        """
new_received: 6 2 0 0 0 0 8
carried_over: 1 0 0 0 0 0 1
granted: 4 1 0 0 0 0 5
partially_granted: 1 0 0 0 0 0 1
denied_state_secret: 0 0 0 0 0 0 0
denied_prohibited_by_law: 0 0 0 0 0 0 0
denied_three_securities: 0 0 0 0 0 0 0
denied_third_party: 0 0 0 0 0 0 0
denied_internal_affairs: 0 0 0 0 0 0 0
denied_process_info: 0 0 0 0 0 0 0
denied_enforcement_file: 0 0 0 0 0 0 0
denied_query_matter: 0 0 0 0 0 0 0
unable_not_held: 1 1 0 0 0 0 2
unable_needs_creation: 0 0 0 0 0 0 0
unable_unclear: 0 0 0 0 0 0 0
not_processed_petition: 0 0 0 0 0 0 0
not_processed_repeat: 0 0 0 0 0 0 0
not_processed_publication: 0 0 0 0 0 0 0
not_processed_mass_repeat: 0 0 0 0 0 0 0
not_processed_confirmation: 0 0 0 0 0 0 0
other_no_supplement: 1 0 0 0 0 0 1
other_unpaid_fee: 0 0 0 0 0 0 0
other_misc: 0 0 0 0 0 0 0
total_processed: 7 2 0 0 0 0 9
carried_forward: 0 0 0 0 0 0 0
""",
        "2021",
    ),
    review="1 0 0 0 1 0 0 0 0 0 0 0 0 0 0".split(),
    signature=["溪口镇人民政府", "2022年1月14日"],
)

REPORTS = {
    r.key: r
    for r in [
        TONGCHUAN_ZRZY_2020,
        QINGLAN_SCJ_2022,
        QINGLAN_WJW_2023,
        LIUTANG_2019,
        TONGCHUAN_NYNC_2022,
        SHIBU_2020,
        XIKOU_2021,
    ]
}

# A pre-2019 report: no national tables, a locally designed statistics table.
PRE2019_TITLE = "桐川县人民政府办公室2017年政府信息公开工作年度报告"
PRE2019_SECTIONS = [
    (
        "一、概述",
        [
            "2017年，县政府办公室按照《中华人民共和国政府信息公开条例》和省、市政府信息公开工作要求，进一步完善政府信息"
            "公开工作机制，推进政府信息公开工作规范化。本报告统计期限为2017年1月1日至2017年12月31日。"
        ],
    ),
    (
        "二、主动公开政府信息情况",
        ["全年通过县政府门户网站主动公开政府信息2134条，其中政府文件68件，人事信息41条，财政预决算信息23条。"],
    ),
    (
        "三、依申请公开政府信息情况",
        [
            "全年共受理政府信息公开申请15件，均已按期答复。其中同意公开9件，同意部分公开2件，信息不存在3件，"
            "非本机关掌握1件。申请方式统计如下表："
        ],
    ),
    ("四、政府信息公开的收费及减免情况", ["全年未收取任何费用。"]),
    (
        "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
        ["全年未发生因政府信息公开申请行政复议、提起行政诉讼的情况。"],
    ),
    (
        "六、政府信息公开工作存在的主要问题及改进措施",
        ["主要问题是部分单位对政府信息公开工作重视不够。2018年将加强培训和督查。"],
    ),
]


# ---------------------------------------------------------------------------------------------
# A table as HTML-like rows of origin cells (rowspan/colspan), shared by every renderer.
# ---------------------------------------------------------------------------------------------
@dataclass
class Cell:
    text: str
    rs: int = 1
    cs: int = 1
    kind: str = "label"  # header | label | value
    code: str | None = None  # "section.row.col" for value cells
    vertical: bool = False  # a row-group label laid out vertically


def proactive_model(rep: Report) -> list[list[Cell]]:
    blocks = P19 if rep.template == "2019" else P21
    rows: list[list[Cell]] = []
    for clause, heads, block_rows, cols in blocks:
        if clause in rep.omit_blocks:
            continue
        spans = [1] * (len(heads) - 1) + [4 - len(heads)]
        rows.append([Cell(clause, cs=4, kind="header")])
        rows.append(
            [Cell("信息内容", kind="header")]
            + [Cell(h, cs=s, kind="header") for h, s in zip(heads, spans, strict=True)]
        )
        for code, label in block_rows:
            vals = rep.proactive[code]
            rows.append(
                [Cell(label)]
                + [
                    Cell(v, cs=s, kind="value", code=f"proactive.{code}.{c}")
                    for v, s, c in zip(vals, spans, cols, strict=True)
                ]
            )
    return rows


def application_model(rep: Report) -> list[list[Cell]]:
    rows: list[list[Cell]] = [
        [Cell(NOTE, rs=3, cs=3, kind="header"), Cell("申请人情况", cs=7, kind="header")],
        [
            Cell("自然人", rs=2, kind="header"),
            Cell("法人或其他组织", cs=5, kind="header"),
            Cell("总计", rs=2, kind="header"),
        ],
        [Cell(x, kind="header") for x in APPLICANT_SUBCOLS],
    ]

    def values(code: str) -> list[Cell]:
        return [
            Cell(v, kind="value", code=f"application.{code}.{c}")
            for v, c in zip(rep.application[code], APP_COLS, strict=True)
        ]

    for code, label in APP_TOP:
        rows.append([Cell(label, cs=3)] + values(code))
    results = result_rows(rep.template)
    group_sizes: dict[str, int] = {}
    for group, _, _ in results:
        if group:
            group_sizes[group] = group_sizes.get(group, 0) + 1
    seen: set[str] = set()
    for i, (group, code, label) in enumerate(results):
        row: list[Cell] = []
        if i == 0:
            row.append(Cell(RESULT_GROUP, rs=len(results), vertical=True))
        if group is None:
            row.append(Cell(label, cs=2))
        else:
            if group not in seen:
                seen.add(group)
                row.append(Cell(group, rs=group_sizes[group]))
            row.append(Cell(label))
        rows.append(row + values(code))
    rows.append([Cell("四、结转下年度继续办理", cs=3)] + values("carried_forward"))
    return rows


def review_model(rep: Report) -> list[list[Cell]]:
    rows = [
        [Cell("行政复议", cs=5, kind="header"), Cell("行政诉讼", cs=10, kind="header")],
        [Cell(x, rs=2, kind="header") for x in OUTCOMES]
        + [Cell("未经复议直接起诉", cs=5, kind="header"), Cell("复议后起诉", cs=5, kind="header")],
        [Cell(x, kind="header") for x in OUTCOMES * 2],
    ]
    codes = [f"review_litigation.{r}.{c}" for r in REVIEW_ROWS for c in REVIEW_COLS]
    rows.append([Cell(v, kind="value", code=k) for v, k in zip(rep.review, codes, strict=True)])
    return rows


def layout(model: list[list[Cell]]) -> tuple[list[tuple[int, int, Cell]], int]:
    """Grid positions (row, col) of every origin cell, as a browser lays out rowspan/colspan."""
    taken: set[tuple[int, int]] = set()
    out = []
    ncols = 0
    for r, row in enumerate(model):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            out.append((r, c, cell))
            for dr in range(cell.rs):
                for dc in range(cell.cs):
                    taken.add((r + dr, c + dc))
            c += cell.cs
            ncols = max(ncols, c)
    return out, ncols


def grid(model: list[list[Cell]]) -> list[list[str]]:
    """The expanded grid: origin text in its top-left slot, '' in the slots a merge covers."""
    pos, ncols = layout(model)
    g = [[""] * ncols for _ in model]
    for r, c, cell in pos:
        g[r][c] = cell.text
    return g


# ---------------------------------------------------------------------------------------------
# DOCX (python-docx) and PDF (LibreOffice)
# ---------------------------------------------------------------------------------------------
FONT_BODY, FONT_HEAD, FONT_TITLE = "仿宋_GB2312", "黑体", "方正小标宋简体"


@dataclass
class DocxOptions:
    widths_app: tuple[float, ...] = (1.0, 2.0, 4.0) + (1.28,) * 7
    vertical: str = "chars"  # chars: one character per line; rotate: w:textDirection tbRlV
    cant_split: bool = True  # rows may not break across pages
    repeat_header: bool = False  # table 三 header rows repeat on each page
    split_np_in: str | None = None  # damage: split this row's natural_person cell into two
    merge_none_rows: tuple[str, ...] = ()  # damage: merge the 法人 cells of these rows into one 无 cell
    pad_before_app: tuple[str, ...] = ()  # extra prose before table 三 (moves the page break)
    body_pt: float = 14
    table_pt: float = 9


def _docx():
    import docx  # noqa: F401  (imported lazily so that --help works without python-docx)

    return docx


def _set_fonts(run, east_asia: str, size_pt: float | None = None, bold: bool = False):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = "Times New Roman"
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)
    if size_pt:
        run.font.size = Pt(size_pt)
    run.font.bold = bold


def _para(doc_or_cell, text: str, *, font=FONT_BODY, size=None, bold=False, align=None, indent=True, first=False):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc_or_cell.paragraphs[0] if first else doc_or_cell.add_paragraph()
    if align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    pf = p.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if indent:
        pf.first_line_indent = Pt((size or 14) * 2)
    parts = text.split("\n")
    run = p.add_run(parts[0])
    _set_fonts(run, font, size, bold)
    for part in parts[1:]:
        run.add_break()
        run = p.add_run(part)
        _set_fonts(run, font, size, bold)
    return p


def _page_number_footer(section):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = p.add_run("— ")
    _set_fonts(r, FONT_BODY, 12)
    run = p.add_run()
    _set_fonts(run, FONT_BODY, 12)
    for kind, extra in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        if kind == "instr":
            el = run._element.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = extra
        elif kind == "text":
            el = run._element.makeelement(qn("w:t"), {})
            el.text = extra
        else:
            el = run._element.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
        run._element.append(el)
    r = p.add_run(" —")
    _set_fonts(r, FONT_BODY, 12)


def new_document(opts: DocxOptions):
    docx = _docx()
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = docx.Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(3.2), Cm(3.0)
    sec.left_margin, sec.right_margin = Cm(2.5), Cm(2.5)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(opts.body_pt)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT_BODY)
    _page_number_footer(sec)
    import datetime as dt

    cp = doc.core_properties
    cp.author = cp.last_modified_by = "办公室"
    cp.created = cp.modified = cp.last_printed = dt.datetime(2021, 1, 20, 9, 0, 0)
    cp.revision = 1
    return doc


def add_table(
    doc,
    model: list[list[Cell]],
    widths: tuple[float, ...],
    opts: DocxOptions,
    *,
    header_rows: int = 0,
    vertical: str = "chars",
):
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml.ns import qn
    from docx.shared import Cm

    pos, ncols = layout(model)
    assert ncols == len(widths), (ncols, widths)
    table = doc.add_table(rows=len(model), cols=ncols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, w in enumerate(widths):
        table.columns[i].width = Cm(w)
    for r, c, cell in pos:
        if cell.rs > 1 or cell.cs > 1:
            table.cell(r, c).merge(table.cell(r + cell.rs - 1, c + cell.cs - 1))
    for r, c, cell in pos:
        target = table.cell(r, c)
        text = cell.text
        if cell.vertical and vertical == "chars":
            text = "\n".join(text)
        _para(
            target,
            text,
            size=opts.table_pt,
            align="center",
            indent=False,
            first=True,
            bold=cell.kind == "header" and r == 0,
        )
        if cell.vertical and vertical == "rotate":
            tcpr = target._tc.get_or_add_tcPr()
            td = tcpr.makeelement(qn("w:textDirection"), {qn("w:val"): "tbRlV"})
            tcpr.append(td)
    # cell widths (w:tcW) = the sum of the grid columns each cell spans; LibreOffice reads these
    for tr in table._tbl.tr_lst:
        c = 0
        for tc in tr.tc_lst:
            span = tc.grid_span
            tc.width = Cm(sum(widths[c : c + span]))
            c += span
        trpr = tr.get_or_add_trPr()
        if opts.cant_split:
            trpr.append(trpr.makeelement(qn("w:cantSplit"), {}))
    for i in range(header_rows):
        trpr = table._tbl.tr_lst[i].get_or_add_trPr()
        trpr.append(trpr.makeelement(qn("w:tblHeader"), {}))
    return table


def damage_model(model: list[list[Cell]], opts: DocxOptions) -> list[list[Cell]]:
    """The odd merges and splits of the damaged docx, applied to table 三's model."""
    if opts.merge_none_rows:
        first = opts.merge_none_rows[0]
        for row in model:
            vals = [c for c in row if c.kind == "value"]
            if not vals:
                continue
            rowcode = vals[0].code.split(".")[1]
            if rowcode in opts.merge_none_rows:
                org = vals[1:6]
                assert all(c.text == "无" for c in org), rowcode
                i = row.index(org[0])
                del row[i : i + 5]
                if rowcode == first:
                    row.insert(
                        i,
                        Cell(
                            "无",
                            rs=len(opts.merge_none_rows),
                            cs=5,
                            kind="value",
                            code=f"application.{rowcode}.commercial_enterprise+",
                        ),
                    )
    if opts.split_np_in:
        # Word's "split cell" on one cell adds a grid column: every other row's cell over it widens.
        pos, _ = layout(model)
        for r, c, cell in pos:
            covers = c <= 3 < c + cell.cs
            if not covers:
                continue
            if cell.code == f"application.{opts.split_np_in}.natural_person":
                i = model[r].index(cell)
                model[r].insert(i + 1, Cell("", kind="value", code="(split half)"))
            else:
                cell.cs += 1
    return model


def build_docx(rep: Report, path: Path, opts: DocxOptions) -> None:
    doc = new_document(opts)
    for line in rep.title_lines:
        _para(doc, line, font=FONT_TITLE, size=20, align="center", indent=False)
    _para(doc, "", indent=False)
    for p in rep.preface:
        _para(doc, p)
    app_widths = opts.widths_app
    if opts.split_np_in:
        app_widths = app_widths[:3] + (app_widths[3] * 0.55, app_widths[3] * 0.45) + app_widths[4:]
    for sec in rep.sections:
        _para(doc, sec.num + sec.heading, font=FONT_HEAD, bold=False)
        if sec.heading.endswith("主动公开政府信息情况"):
            add_table(doc, proactive_model(rep), (4.6, 3.8, 3.8, 3.8), opts)
        elif sec.heading.startswith("收到和处理"):
            for line in opts.pad_before_app:
                _para(doc, line)
            model = damage_model(application_model(rep), opts)
            add_table(doc, model, app_widths, opts, header_rows=3 if opts.repeat_header else 0, vertical=opts.vertical)
        elif "行政复议" in sec.heading:
            add_table(doc, review_model(rep), (16.0 / 15,) * 15, opts)
        for p in sec.paras:
            _para(doc, p)
    _para(doc, "", indent=False)
    for line in rep.signature:
        _para(doc, line, align="right", indent=False)
    doc.save(path)
    normalize_zip(path)


def build_pre2019_docx(path: Path) -> None:
    opts = DocxOptions()
    doc = new_document(opts)
    _para(doc, PRE2019_TITLE, font=FONT_TITLE, size=20, align="center", indent=False)
    _para(doc, "", indent=False)
    for heading, paras in PRE2019_SECTIONS:
        _para(doc, heading, font=FONT_HEAD)
        for p in paras:
            _para(doc, p)
        if heading.startswith("三、"):
            model = [
                [Cell("申请方式", kind="header"), Cell("件数", kind="header"), Cell("占比", kind="header")],
                [Cell("当面申请"), Cell("3"), Cell("20%")],
                [Cell("网络申请"), Cell("10"), Cell("66.7%")],
                [Cell("信函申请"), Cell("2"), Cell("13.3%")],
                [Cell("合计"), Cell("15"), Cell("100%")],
            ]
            add_table(doc, model, (5.0, 4.0, 4.0), opts)
    _para(doc, "", indent=False)
    _para(doc, "桐川县人民政府办公室", align="right", indent=False)
    _para(doc, "2018年3月20日", align="right", indent=False)
    doc.save(path)
    normalize_zip(path)


def normalize_zip(path: Path) -> None:
    """Rewrite a .docx with fixed entry dates so the same content gives the same bytes."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2021, 1, 20, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <alias binding="same"><family>仿宋_GB2312</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>方正小标宋简体</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>黑体</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>
</fontconfig>
"""


def docx_to_pdf(src: Path, dest: Path) -> None:
    """LibreOffice headless conversion; the document's Chinese font names map onto Noto CJK."""
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        (tmpd / "fonts.conf").write_text(FONTS_CONF, encoding="utf-8")
        env = dict(os.environ, FONTCONFIG_FILE=str(tmpd / "fonts.conf"), HOME=str(tmpd))
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{tmpd}/profile",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(tmpd),
                str(src),
            ],
            check=True,
            env=env,
            capture_output=True,
            timeout=300,
        )
        shutil.copyfile(tmpd / (src.stem + ".pdf"), dest)
    normalize_pdf(dest)


def normalize_pdf(path: Path) -> None:
    """Fix the creation date and the document ID (same byte lengths, so the xref table stays valid)."""
    import hashlib

    data = path.read_bytes()
    data = re.sub(rb"/CreationDate\(D:\d{14}", b"/CreationDate(D:20240101090000", data)
    ident = hashlib.md5(path.name.encode()).hexdigest().upper().encode()
    data = re.sub(
        rb"/ID \[ <[0-9A-F]{32}>(\s)<[0-9A-F]{32}> \]",
        lambda m: b"/ID [ <" + ident + b">" + m.group(1) + b"<" + ident + b"> ]",
        data,
    )
    data = re.sub(rb"/DocChecksum /[0-9A-F]{32}", b"/DocChecksum /" + ident, data)
    path.write_bytes(data)


def pdf_to_layout_text(src: Path, dest: Path) -> None:
    subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(src), str(dest)], check=True)


# ---------------------------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------------------------
@dataclass
class Site:
    name: str
    host: str
    nav: list[str]
    footer: list[str]
    color: str
    meta_table: bool = False  # an 索引号/发布机构 metadata <table> above the article


SITE_TONGCHUAN = Site(
    name="桐川县人民政府",
    host="www.tongchuan-county.example",
    nav=["首页", "政务动态", "政府信息公开", "政务服务", "互动交流", "走进桐川"],
    footer=[
        "主办单位：桐川县人民政府办公室　承办单位：桐川县大数据发展中心",
        "网站标识码：3300000017　ICP备案号：浙ICP备00000000号-1",
        "联系电话：0571-55501234",
    ],
    color="#b5121b",
)
SITE_QINGLAN = Site(
    name="青岚市人民政府",
    host="www.qinglan.example",
    nav=["首页", "要闻动态", "政府信息公开", "政策文件", "办事服务", "政民互动", "数据开放"],
    footer=[
        "版权所有：青岚市人民政府办公室　网站标识码：4400000023",
        "粤ICP备00000000号　公网安备 44000000000001号",
        "建议使用1366×768分辨率浏览本网站",
    ],
    color="#0b4f9c",
    meta_table=True,
)
SITE_LIUTANG = Site(
    name="柳塘镇人民政府",
    host="liutang.tongchuan-county.example",
    nav=["首页", "镇情概况", "政务公开", "便民服务"],
    footer=["柳塘镇人民政府　主办", "地址：桐川县柳塘镇人民路1号　邮编：311900"],
    color="#1d6f42",
)


def _td(cell: Cell, style: str, skip: bool = False) -> str:
    if skip:
        return ""
    attrs = ""
    if cell.rs > 1:
        attrs += f' rowspan="{cell.rs}"'
    if cell.cs > 1:
        attrs += f' colspan="{cell.cs}"'
    text = html.escape(cell.text, quote=False)
    if cell.text.strip() == "" or cell.text == "\u00a0":
        text = "&nbsp;"
    text = text.replace("\u00a0", "&nbsp;")
    text = (
        text.replace("本年新制作数量", "本年新<br/>制作数量").replace("本年新公开数量", "本年新<br/>公开数量")
        if style == "word"
        else text
    )
    if cell.vertical:
        text = "<br/>".join(text)
    if style == "word":
        return (
            f'<td{attrs} style="border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt">'
            f'<p class="MsoNormal" align="center" style="text-align:center"><span style="font-size:10.5pt;'
            f'font-family:宋体">{text}</span></p></td>'
        )
    return f"<td{attrs}>{text}</td>"


def html_table(model: list[list[Cell]], style: str, missing: tuple[str, ...] = ()) -> str:
    if style == "word":
        out = [
            '<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" width="100%" '
            'style="border-collapse:collapse;border:none">'
        ]
    else:
        out = ['<table border="1" cellspacing="0" cellpadding="4" width="100%" class="gknb-table">']
    sep = "" if style == "word" else "\n"
    for row in model:
        out.append("<tr>" + sep + sep.join(_td(c, style, c.code in missing) for c in row) + sep + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def article_html(rep: Report, style: str, missing: tuple[str, ...] = ()) -> str:
    """The report body (title excluded) as the CMS stores it."""
    p_open = '<p class="MsoNormal" style="text-indent:2em">' if style == "word" else '<p style="text-indent:2em;">'
    parts = [f"{p_open}{html.escape(p)}</p>" for p in rep.preface]
    for sec in rep.sections:
        parts.append(f"<p><strong>{sec.num}{sec.heading}</strong></p>")
        if sec.heading.endswith("主动公开政府信息情况"):
            parts.append(html_table(proactive_model(rep), style, missing))
        elif sec.heading.startswith("收到和处理"):
            parts.append(html_table(application_model(rep), style, missing))
        elif "行政复议" in sec.heading:
            parts.append(html_table(review_model(rep), style, missing))
        parts += [f"{p_open}{html.escape(p)}</p>" for p in sec.paras]
    parts += [f'<p style="text-align:right">{html.escape(s)}</p>' for s in rep.signature]
    return "\n".join(parts)


def page_html(
    site: Site,
    title: str,
    body: str,
    *,
    pubdate: str,
    publisher: str,
    index_no: str,
    script_body: bool = False,
    article_id: str = "1",
) -> str:
    nav = "".join(f'<li><a href="/col/col{i}/index.html">{n}</a></li>' for i, n in enumerate(site.nav, 1))
    meta = ""
    if site.meta_table:
        meta = (
            '<table class="xxgk-meta" width="100%">\n'
            f"<tr><th>索引号：</th><td>{index_no}</td><th>主题分类：</th><td>综合政务</td></tr>\n"
            f"<tr><th>发布机构：</th><td>{publisher}</td><th>成文日期：</th><td>{pubdate}</td></tr>\n"
            f'<tr><th>名　　称：</th><td colspan="3">{html.escape(title)}</td></tr>\n'
            "</table>\n"
        )
    if script_body:
        js = json.dumps(body, ensure_ascii=False).replace("</", "<\\/")
        article = (
            '<div id="zoom" class="article-content"></div>\n'
            "<noscript>您的浏览器不支持JavaScript，请开启后浏览本页内容。</noscript>\n"
            '<script type="text/javascript">\n'
            f"var content = {js};\n"
            'document.getElementById("zoom").innerHTML = content;\n'
            "</script>"
        )
    else:
        article = f'<div id="zoom" class="article-content">\n{body}\n</div>'
    footer = "".join(f"<p>{html.escape(x)}</p>" for x in site.footer)
    position = (
        '<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/col/col3/index.html">政府信息公开</a>'
        ' &gt; <a href="/col/col3/nb.html">政府信息公开工作年度报告</a></div>'
    )
    info = (
        f'<div class="info">发布日期：{pubdate}　来源：{publisher}　浏览次数：<span id="hits"></span>'
        '　字号：[<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>]</div>'
    )
    share = (
        '<div class="share">【<a href="javascript:window.print()">打印本页</a>】'
        '【<a href="javascript:window.close()">关闭窗口</a>】</div>'
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{html.escape(title)}_{site.name}</title>
<meta name="SiteName" content="{site.name}">
<meta name="SiteDomain" content="{site.host}">
<meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{pubdate}">
<meta name="ContentSource" content="{publisher}">
<style>
body{{margin:0;font-family:"Microsoft YaHei",SimSun,sans-serif;font-size:14px;color:#333}}
.top{{background:#f2f2f2;font-size:12px;padding:4px 20px}}
.header{{background:{site.color};color:#fff;padding:18px 20px;font-size:28px;font-weight:bold}}
.nav ul{{margin:0;padding:0;list-style:none;background:#333}}
.nav li{{display:inline-block}}
.nav a{{display:block;color:#fff;padding:8px 18px;text-decoration:none}}
.position{{padding:8px 20px;font-size:12px}}
.article{{width:1000px;margin:0 auto}}
.article h1{{text-align:center;font-size:22px;color:{site.color}}}
.article-content table{{border-collapse:collapse}}
.article-content td{{border:1px solid #000;text-align:center;font-size:13px}}
.footer{{background:#eee;text-align:center;font-size:12px;padding:10px}}
</style>
</head>
<body>
<div class="top"><span>今天是：<span id="today"></span></span> <a href="/">无障碍浏览</a> <a href="/">长者模式</a></div>
<div class="header">{site.name}</div>
<div class="nav"><ul>{nav}</ul></div>
{position}
<div class="article">
{meta}<h1 id="title">{html.escape(title)}</h1>
{info}
{article}
{share}
</div>
<div class="footer">{footer}</div>
<script type="text/javascript">document.getElementById("today").innerHTML = new Date().toLocaleDateString();</script>
</body>
</html>
"""


def flatten_page(page: str) -> str:
    """A page as some crawlers store it: visible text in document order with every ASCII space, tab and
    newline deleted (so table cells glue together); NBSP is kept. Script and style text are dropped."""
    from lxml import html as lhtml

    tree = lhtml.fromstring(page)
    for bad in tree.xpath("//script|//style|//noscript|//head"):
        bad.drop_tree()
    text = "".join(tree.itertext())
    return re.sub(r"[ \t\r\n]+", "", text) + "\n"


# ---------------------------------------------------------------------------------------------
# Markdown as a PDF-to-Markdown converter leaves it
# ---------------------------------------------------------------------------------------------
def md_table(rows: list[list[str]]) -> list[str]:
    def line(cells):
        return "| " + " | ".join(c.replace("\n", "").replace("|", "\\|") for c in cells) + " |"

    out = [line(rows[0]), "|" + "|".join(["---"] * len(rows[0])) + "|"]
    out += [line(r) for r in rows[1:]]
    return out


def build_md(rep: Report, variant: str) -> str:
    """variant 'header_last': table 三's three header rows end up below its data rows and its first data
    row is taken as the header; 'page_split': table 三 is cut at the PDF page break and the continuation's
    first data row is taken as the header of a second table."""
    out = [f"# {rep.title}", ""]
    for p in rep.preface:
        out += [p, ""]
    for sec in rep.sections:
        out += [f"## {sec.num}{sec.heading}", ""]
        if sec.heading.endswith("主动公开政府信息情况"):
            out += md_table(grid(proactive_model(rep))) + [""]
        elif sec.heading.startswith("收到和处理"):
            g = grid(application_model(rep))
            if variant == "header_last":
                out += md_table(g[3:] + g[:3]) + [""]
            else:
                cut = MD_PAGE_SPLIT[rep.key]
                out += md_table(g[:cut]) + ["", MD_PAGE_MARK[rep.key], ""] + md_table(g[cut:]) + [""]
        elif "行政复议" in sec.heading:
            out += md_table(grid(review_model(rep))) + [""]
        for p in sec.paras:
            out += [p, ""]
    out += rep.signature
    return "\n".join(out) + "\n"


# where the PDF of qinglan_scj_2022 breaks table 三 (row index in the expanded grid) and its page footer
MD_PAGE_SPLIT = {"qinglan_scj_2022": 24}
MD_PAGE_MARK = {"qinglan_scj_2022": "— 2 —"}


# ---------------------------------------------------------------------------------------------
# The fixtures
# ---------------------------------------------------------------------------------------------
def _out(rel: str) -> Path:
    p = HERE / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def make_tongchuan_zrzy_2020() -> None:
    rep = TONGCHUAN_ZRZY_2020
    docx_path = _out("2019/tongchuan_zrzy_2020_word.docx")
    build_docx(rep, docx_path, DocxOptions(vertical="chars"))
    pdf = _out("2019/tongchuan_zrzy_2020_print.pdf")
    docx_to_pdf(docx_path, pdf)
    pdf_to_layout_text(pdf, _out("2019/tongchuan_zrzy_2020_pdftotext.txt"))
    body = article_html(rep, "word")
    page = page_html(
        SITE_TONGCHUAN,
        rep.title,
        body,
        pubdate="2021-01-26",
        publisher="桐川县自然资源和规划局",
        index_no="002571234/2021-00031",
    )
    _out("2019/tongchuan_zrzy_2020_site.html").write_text(page, encoding="utf-8")
    _out("2019/tongchuan_zrzy_2020_pdf2md.md").write_text(build_md(rep, "header_last"), encoding="utf-8")


def make_qinglan_scj_2022() -> None:
    rep = QINGLAN_SCJ_2022
    docx_path = _out("2021/qinglan_scj_2022_word.docx")
    build_docx(rep, docx_path, DocxOptions(vertical="rotate"))
    pdf = _out("2021/qinglan_scj_2022_print.pdf")
    docx_to_pdf(docx_path, pdf)
    pdf_to_layout_text(pdf, _out("2021/qinglan_scj_2022_pdftotext.txt"))
    # The site's copy: the page names the body by its short name (市场监管局); manifest.csv gives the full name.
    short = Report(
        **{
            **rep.__dict__,
            "title_lines": ["青岚市市场监管局2022年政府信息公开工作年度报告"],
            "signature": ["青岚市市场监管局", "2023年1月18日"],
        }
    )
    body = article_html(short, "cms")
    page = page_html(
        SITE_QINGLAN,
        short.title,
        body,
        pubdate="2023-01-19",
        publisher="市市场监管局",
        index_no="11440000MB2C12345X/2023-00017",
    )
    _out("2021/qinglan_scj_2022_site.html").write_text(page, encoding="utf-8")
    _out("2021/qinglan_scj_2022_pdf2md.md").write_text(build_md(rep, "page_split"), encoding="utf-8")


def make_qinglan_wjw_2023() -> None:
    rep = QINGLAN_WJW_2023
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "qinglan_wjw_2023_pagebreak.docx"
        # narrow label column so long labels wrap; rows may break across pages; header rows repeat
        opts = DocxOptions(
            vertical="rotate",
            cant_split=False,
            repeat_header=True,
            widths_app=(0.9, 1.6, 2.6) + (1.55,) * 7,
            pad_before_app=PAGEBREAK_PAD,
        )
        build_docx(rep, d, opts)
        docx_to_pdf(d, _out("2021/qinglan_wjw_2023_pagebreak.pdf"))
    pdf_to_layout_text(
        _out("2021/qinglan_wjw_2023_pagebreak.pdf"), _out("2021/qinglan_wjw_2023_pagebreak_pdftotext.txt")
    )
    body = article_html(rep, "cms")
    page = page_html(
        SITE_QINGLAN,
        rep.title,
        body,
        pubdate="2024-01-23",
        publisher="市卫生健康委",
        index_no="11440000MB2C67890Y/2024-00008",
        script_body=True,
    )
    _out("2021/qinglan_wjw_2023_script.html").write_text(page, encoding="utf-8")
    plain = page_html(
        SITE_QINGLAN,
        rep.title,
        body,
        pubdate="2024-01-23",
        publisher="市卫生健康委",
        index_no="11440000MB2C67890Y/2024-00008",
    )
    _out("2021/qinglan_wjw_2023_glued_ambiguous.txt").write_text(flatten_page(plain), encoding="utf-8")


# tuned by hand so that the page break falls inside a wrapped row of table 三
PAGEBREAK_PAD = (
    "2023年，本机关收到和处理政府信息公开申请的情况见下表。表中“法人或其他组织”各列按申请人登记的"
    "主体类型统计，同一申请人提出多项申请的，按申请件数分别统计。",
    "单位：件",
)


def make_liutang_2019() -> None:
    rep = LIUTANG_2019
    opts = DocxOptions(vertical="chars", split_np_in="carried_over", merge_none_rows=tuple(c for c, _ in _NOTPROC))
    build_docx(rep, _out("2019/liutang_2019_oddmerge.docx"), opts)
    body = article_html(rep, "cms", missing=("application.denied_enforcement_file.total",))
    page = page_html(
        SITE_LIUTANG, rep.title, body, pubdate="2020-01-21", publisher="柳塘镇人民政府", index_no="LT-2020-0004"
    )
    _out("2019/liutang_2019_missingcell.html").write_text(page, encoding="utf-8")
    plain = page_html(
        SITE_LIUTANG,
        rep.title,
        article_html(rep, "cms"),
        pubdate="2020-01-21",
        publisher="柳塘镇人民政府",
        index_no="LT-2020-0004",
    )
    _out("2019/liutang_2019_glued_totals.txt").write_text(flatten_page(plain), encoding="utf-8")


def make_tongchuan_nync_2022() -> None:
    rep = TONGCHUAN_NYNC_2022
    body = article_html(rep, "word")
    page = page_html(
        SITE_TONGCHUAN,
        rep.title,
        body,
        pubdate="2023-01-31",
        publisher="桐川县农业农村局",
        index_no="002571240/2023-00012",
    )
    _out("2019/tongchuan_nync_2022_stale.html").write_text(page, encoding="utf-8")


def make_flats() -> None:
    for rep, rel, site in (
        (SHIBU_2020, "2019/shibu_2020_flat.txt", SITE_TONGCHUAN),
        (XIKOU_2021, "2021/xikou_2021_flat.txt", SITE_QINGLAN),
    ):
        page = page_html(
            site,
            rep.title,
            article_html(rep, "cms"),
            pubdate=f"{rep.year + 1}-01-18",
            publisher=rep.signature[0],
            index_no=f"{rep.key}/{rep.year + 1}-00001",
        )
        _out(rel).write_text(flatten_page(page), encoding="utf-8")


def make_pre2019() -> None:
    build_pre2019_docx(_out("unknown/tongchuan_zfb_2017_pre2019.docx"))


MAKERS = {
    "tongchuan_zrzy_2020": make_tongchuan_zrzy_2020,
    "qinglan_scj_2022": make_qinglan_scj_2022,
    "qinglan_wjw_2023": make_qinglan_wjw_2023,
    "liutang_2019": make_liutang_2019,
    "tongchuan_nync_2022": make_tongchuan_nync_2022,
    "flats": make_flats,
    "pre2019": make_pre2019,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=sorted(MAKERS), action="append", help="make only these groups")
    args = ap.parse_args(argv)
    for name in args.only or MAKERS:
        print("making", name, file=sys.stderr)
        MAKERS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
