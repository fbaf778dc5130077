"""A deterministic generator of synthetic 政府信息公开工作年度报告, with an oracle of what each one holds.

Each report is rendered in the text-dump layout of the real samples (``data/raw/*.txt``): one table
cell per tab-indented line, a blank line between table rows, the national headers, six sections.
With ``formats`` it is also laid out as an HTML page, a Word file or a PDF (``synth_formats``), round
robin over the formats given; the cells are the same in every format.
Its numbers are chosen first and are consistent by construction (every application is one case that
lands in one applicant column and one outcome), so the oracle never depends on the parser:

* ``expected_cells`` — every cell of the template, as the parser should read it (value, unit, status,
  raw text), built from the numbers and the text the generator wrote;
* ``planted`` — the (rule_id, subject) pairs the report is built to fail. A share of the reports
  (``fault_share``, 20 % by default) each break one rule: B1, B2, B3, C1, C2 or C3 (cells changed so that a
  column or row sum fails; the failing pairs are recomputed from the final numbers), X6 (a figure in
  the prose that disagrees with the table) or T1 (a 2022 report in the 2019 format);
* ``incidental`` — warning-level failures the variety causes on purpose: K1 for a table left entirely
  blank, X7 for a procurement amount written without a unit (as in the 秀洲高新区 sample).

Template labels are written here verbatim, not read from the codebook, so that a codebook slip does
not leak into the oracle; the cell codes are checked against ``codebook.cells`` once.

Pure Python (no Dagster, no pandas except in ``compare``); report ``i`` depends only on (seed, i), so a
smaller corpus is a prefix of a larger one with the same seed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.prose import FIGURES
from govinfo_pipeline.synth import formats as synth_formats

TEMPLATES = ("2019", "2021")
FORMATS = synth_formats.FORMATS
FAULT_KINDS = ("B1", "B2", "B3", "C1", "C2", "C3", "X6", "T1")
DEFAULT_FAULT_SHARE = 0.2
ORACLE_NAME = "oracle.json"
ORACLE_VERSION = 1

NUMBER, BLANK, NONE = "number", "blank", "none"
NBSP, FWSP = "\u00a0", "\u3000"

# ---------------------------------------------------------------------------------------------
# Template text, verbatim (国办公开办函〔2019〕60号 and 〔2021〕30号 formats, as the samples dump them)
# ---------------------------------------------------------------------------------------------
# (clause, header labels, [(row code, row label)], [col codes], [col kinds])
_P19 = (
    (
        "第二十条第（一）项",
        ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
        (("regulation", "规章"), ("normative_document", "规范性文件")),
        ("new_made", "new_published", "total_published"),
    ),
    (
        "第二十条第（五）项",
        ("上一年项目数量", "本年增/减", "处理决定数量"),
        (("administrative_license", "行政许可"), ("other_management_service", "其他对外管理服务事项")),
        ("prev_year_items", "change", "decisions"),
    ),
    (
        "第二十条第（六）项",
        ("上一年项目数量", "本年增/减", "处理决定数量"),
        (("administrative_penalty", "行政处罚"), ("administrative_coercion", "行政强制")),
        ("prev_year_items", "change", "decisions"),
    ),
    (
        "第二十条第（八）项",
        ("上一年项目数量", "本年增/减"),
        (("administrative_fee", "行政事业性收费"),),
        ("prev_year_items", "change"),
    ),
    (
        "第二十条第（九）项",
        ("采购项目数量", "采购总金额"),
        (("centralized_procurement", "政府集中采购"),),
        ("procurement_items", "procurement_amount"),
    ),
)
_P21 = (
    (
        "第二十条第（一）项",
        ("本年制发件数", "本年废止件数", "现行有效件数"),
        (("regulation", "规章"), ("normative_document", "行政规范性文件")),
        ("issued", "repealed", "in_force"),
    ),
    ("第二十条第（五）项", ("本年处理决定数量",), (("administrative_license", "行政许可"),), ("decisions",)),
    (
        "第二十条第（六）项",
        ("本年处理决定数量",),
        (("administrative_penalty", "行政处罚"), ("administrative_coercion", "行政强制")),
        ("decisions",),
    ),
    (
        "第二十条第（八）项",
        ("本年收费金额（单位：万元）",),
        (("administrative_fee", "行政事业性收费"),),
        ("fee_amount",),
    ),
)
_PROACTIVE = {"2019": _P19, "2021": _P21}

_APP_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
APP_COLS = (
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
    "total",
)
_APPLICANTS = APP_COLS[:6]
_RESULT_GROUP = "三、本年度办理结果"
# (group label or None, row code, row label) for the rows under 三、本年度办理结果
_DENIED = (
    ("denied_state_secret", "1.属于国家秘密"),
    ("denied_prohibited_by_law", "2.其他法律行政法规禁止公开"),
    ("denied_three_securities", "3.危及“三安全一稳定”"),
    ("denied_third_party", "4.保护第三方合法权益"),
    ("denied_internal_affairs", "5.属于三类内部事务信息"),
    ("denied_process_info", "6.属于四类过程性信息"),
    ("denied_enforcement_file", "7.属于行政执法案卷"),
    ("denied_query_matter", "8.属于行政查询事项"),
)
_UNABLE = (
    ("unable_not_held", "1.本机关不掌握相关政府信息"),
    ("unable_needs_creation", "2.没有现成信息需要另行制作"),
    ("unable_unclear", "3.补正后申请内容仍不明确"),
)
_NOT_PROCESSED = (
    ("not_processed_petition", "1.信访举报投诉类申请"),
    ("not_processed_repeat", "2.重复申请"),
    ("not_processed_publication", "3.要求提供公开出版物"),
    ("not_processed_mass_repeat", "4.无正当理由大量反复申请"),
    ("not_processed_confirmation", "5.要求行政机关确认或重新出具已获取信息"),
)
_OTHER_2021 = (
    ("other_no_supplement", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_misc", "3.其他"),
)


def _result_rows(template: str) -> tuple[tuple[str | None, str, str], ...]:
    rows: list[tuple[str | None, str, str]] = [
        (None, "granted", "（一）予以公开"),
        (None, "partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ]
    rows += [("（三）不予公开", c, lab) for c, lab in _DENIED]
    rows += [("（四）无法提供", c, lab) for c, lab in _UNABLE]
    rows += [("（五）不予处理", c, lab) for c, lab in _NOT_PROCESSED]
    if template == "2019":
        rows.append((None, "other", "（六）其他处理"))
    else:
        rows += [("（六）其他处理", c, lab) for c, lab in _OTHER_2021]
    rows.append((None, "total_processed", "（七）总计"))
    return tuple(rows)


_RESULT_ROWS = {t: _result_rows(t) for t in TEMPLATES}
_OUTCOME_ROWS = {t: tuple(code for _, code, _ in _RESULT_ROWS[t] if code != "total_processed") for t in TEMPLATES}
_APP_ROWS = {
    t: ("new_received", "carried_over", *(code for _, code, _ in _RESULT_ROWS[t]), "carried_forward") for t in TEMPLATES
}
REVIEW_ROWS = ("review", "litigation_direct", "litigation_after_review")
REVIEW_COLS = ("upheld", "corrected", "other", "pending", "total")
_REVIEW_RULE = {"review": "C1", "litigation_direct": "C2", "litigation_after_review": "C3"}
_REVIEW_FAULT_ROW = {rule: row for row, rule in _REVIEW_RULE.items()}
_SUM_FAULTS = ("B1", "B2", "B3", *_REVIEW_FAULT_ROW)  # faults planted by changing table cells

# The figures the prose quotes, as the report's own rows (written here, not taken from prose.FIGURES).
_FIGURE_ROWS: dict[str, tuple[str, ...]] = {
    "new_received": ("new_received",),
    "carried_over": ("carried_over",),
    "total_processed": ("total_processed",),
    "granted": ("granted",),
    "partially_granted": ("partially_granted",),
    "denied": tuple(c for c, _ in _DENIED),
    "unable": tuple(c for c, _ in _UNABLE),
    "not_processed": tuple(c for c, _ in _NOT_PROCESSED),
    "other_handling": ("other", *(c for c, _ in _OTHER_2021)),
    "carried_forward": ("carried_forward",),
}
_PROCUREMENT_CODE = "proactive.centralized_procurement.procurement_amount"

# ---------------------------------------------------------------------------------------------
# Section headings and prose. Nothing here quotes a number next to 件/个/宗/起 except the figure
# phrases, so the only claims the parser can find are the ones the generator meant.
# ---------------------------------------------------------------------------------------------
_HEADINGS = {
    1: ("一、总体情况", "一、总体情况", "    一、总体情况"),
    2: ("二、主动公开政府信息情况", "二、主动公开政府信息情况", "二、主动公开情况", "二、行政机关主动公开政府信息情况"),
    3: (
        "三、收到和处理政府信息公开申请情况",
        "三、收到和处理政府信息公开申请情况",
        "3、 收到和处理政府信息公开申请情况",
    ),
    4: (
        "四、政府信息公开行政复议、行政诉讼情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "四、因政府信息公开工作被申请行政复议和提起行政诉讼情况",
    ),
    5: (
        "五、存在的主要问题及改进情况",
        "五、存在的主要问题及改进情况",
        "五、主要问题和改进措施",
        "5、 存在的主要问题及改进情况",
        "五、政府信息公开工作存在的主要问题及改进情况",
    ),
    6: ("六、其他需要报告的事项", "六、其他需要报告的事项", "六、其他事项"),
}
_OVERVIEW = (
    "{year}年，{short}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "不断加强政务公开标准化规范化建设，提升公开时效和质量，有效保障了人民群众的知情权、参与权和监督权。",
    "{short}高度重视政府信息公开工作，将其纳入年度重点工作统筹推进，由办公室具体负责，明确专人承担日常工作，"
    "确保政府信息公开工作有计划、有目标、有措施、有考核。",
    "{short}不断完善政府信息公开制度，加强政府信息发布、解读及回应工作，大力推进重点领域政府信息公开，"
    "不断增强政府信息公开的时效性和针对性。",
)
_PROACTIVE_PROSE = (
    "{year}年，{short}通过门户网站主动公开政府信息{k}条，其中政策文件{m}条，政策解读{j}条，做到应公开尽公开。",
    "全年累计发布各类政府信息{k}条，及时更新机构职能、权责清单、财政预决算等栏目内容，重点领域信息公开工作稳步推进。",
    "一是拓宽主动公开范围。将政府网站作为政府信息公开的主渠道，积极拓展政务公开途径，"
    "全年在门户网站发布信息{k}条。二是加强政策解读，发布图文解读{j}篇。",
)
_MANAGEMENT_PROSE = (
    "严格执行政府信息公开保密审查制度，坚持“先审查、后公开”和“一事一审”原则，确保公开内容的合法性、准确性、严肃性。",
    "建立健全政府信息公开申请受理、登记、审核、答复等各环节制度规范，规范答复文书格式，提升依申请公开办理质量。",
)
_PLATFORM_PROSE = (
    "充分发挥政府网站第一平台作用，持续优化政府信息公开专栏，同步通过政务新媒体发布重要信息，方便群众及时获取。",
    "依托政务服务大厅设置政府信息公开查阅点，提供查阅、咨询等服务，线上线下协同推进公开工作。",
)
_SUPERVISION_PROSE = (
    "细化责任分工，明确由办公室作为责任部门、分管负责人作为分管领导，工作人员落实具体工作，"
    "并将政务公开工作纳入年度绩效考核。",
    "组织开展政务公开业务培训，提升工作人员公开意识和业务能力，本年度未发生因政府信息公开工作引起的责任追究情况。",
)
_PROBLEMS = (
    "{year}年，{short}政府信息公开工作虽然取得了一定成绩，但与上级要求和社会公众需求相比还有一定差距，"
    "主要表现在：一是公开内容不够丰富，部分信息更新不够及时；二是政策解读形式较为单一。",
    "针对上述问题，{short}将从以下方面努力改进：一是进一步加强组织领导，压实工作责任；"
    "二是丰富政策解读形式，提升解读质量；三是加强业务培训，提高工作人员业务水平。",
    "下一步，将严格落实政府信息公开审核制度，把好政务信息质量关，自觉接受社会监督，推动政务公开工作再上新台阶。",
)
_OTHER_MATTERS = {
    "2019": ("无", "无。", "    无", "没有其他需要报告的事项。"),
    "2021": ("无", "无。", "本年度未收取信息处理费。", "{short}{year}年度未收取信息处理费，无其他需要报告的事项。"),
}
# phrase -> the figure it quotes; {n} is the number
_FIGURE_PHRASES: dict[str, tuple[str, ...]] = {
    "new_received": (
        "新收到政府信息公开申请共计{n}件",
        "本年度共收到政府信息公开申请{n}件",
        "新收政府信息公开申请{n}件",
        "全年受理政府信息公开申请{n}件",
    ),
    "carried_over": ("上年度结转{n}件", "上年结转{n}件", "上一年度结转申请{n}件"),
    "total_processed": ("共办结{n}件", "办结{n}件", "已办结申请{n}件"),
    "granted": ("予以公开{n}件", "其中予以公开{n}件"),
    "partially_granted": ("部分公开{n}件",),
    "denied": ("不予公开{n}件",),
    "unable": ("无法提供{n}件", "本机关无法提供{n}件"),
    "not_processed": ("不予处理{n}件",),
    "other_handling": ("其他处理{n}件", "另有其他处理{n}件"),
    "carried_forward": ("{n}件结转下一年度继续办理", "结转下年度继续办理{n}件"),
    "review": ("提起行政复议有{n}件", "发生政府信息公开行政复议案件{n}件"),
    "litigation": ("被提起行政诉讼{n}件", "发生行政诉讼案件{n}件"),
}
_ZERO_PHRASES = {
    "review": ("未发生政府信息公开行政复议案件", "未被申请行政复议"),
    "litigation": ("未提起行政诉讼", "没有发生行政诉讼"),
}
_NO_APPLICATIONS = ("{year}年，{short}未收到政府信息公开申请。", "本年度没有收到书面或其它形式要求公开政府信息的申请。")
_OUTCOME_FIGURES = ("granted", "partially_granted", "denied", "unable", "not_processed", "other_handling")

# ---------------------------------------------------------------------------------------------
# Agencies. Place characters avoid the suffixes (区县市镇…) and the verbs (在认坚…) that the parser's
# opening-prose search keys on, so a name is found whole.
# ---------------------------------------------------------------------------------------------
_PLACE_CHARS = (
    "青岚桐川溪口石埠柳塘江河山湖阳安平宁东西南北兴华丰泰康永长清云龙凤金玉白红黄林松梅桃杨泉海滨德昌盛茂源福嘉乐仁明光"
)
_DEPTS = (
    "人民政府",
    "人民政府办公室",
    "发展和改革委员会",
    "教育局",
    "公安局",
    "民政局",
    "司法局",
    "财政局",
    "人力资源和社会保障局",
    "自然资源和规划局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "商务局",
    "文化广电和旅游局",
    "卫生健康委员会",
    "应急管理局",
    "审计局",
    "市场监督管理局",
    "统计局",
    "医疗保障局",
    "城市管理局",
    "行政审批局",
    "退役军人事务局",
    "水利局",
)


def _place(rng: random.Random) -> str:
    return rng.choice(_PLACE_CHARS) + rng.choice(_PLACE_CHARS)


def _agency(rng: random.Random) -> tuple[str, str]:
    """(full name, short name used in the prose)."""
    r = rng.random()
    if r < 0.30:
        name = _place(rng) + rng.choice("市县") + rng.choice(_DEPTS)
    elif r < 0.55:
        name = _place(rng) + "市" + _place(rng) + "区" + rng.choice(_DEPTS)
    elif r < 0.75:
        name = _place(rng) + "镇人民政府"
    elif r < 0.85:
        name = _place(rng) + rng.choice("县区") + _place(rng) + "街道办事处"
    elif r < 0.95:
        name = _place(rng) + rng.choice(("经济开发区管理委员会", "高新区", "旅游度假区"))
    else:
        name = _place(rng) + "县" + _place(rng) + "乡人民政府"
    short = "本机关" if rng.random() < 0.5 else name
    return name, short


# ---------------------------------------------------------------------------------------------
# Cell text
# ---------------------------------------------------------------------------------------------
_Cell = tuple  # (raw_text, value, unit, status)
_ZEROS: dict[str, _Cell] = {
    "0": ("0", 0.0, None, NUMBER),
    "": ("", None, None, BLANK),
    "nbsp": (NBSP, None, None, BLANK),
    "fwsp": (FWSP + FWSP, None, None, BLANK),
    "无": ("无", None, None, NONE),
    "/": ("/", None, None, NONE),
    "—": ("—", None, None, NONE),
    "-": ("-", None, None, NONE),
}
_ZERO_STYLES = ("0", "", "nbsp", "fwsp", "无", "/", "—")
_ZERO_WEIGHTS = (50, 20, 10, 3, 12, 3, 2)
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_BOOKMARK = "[bookmark: _GoBack]"


def _zero_style(rng: random.Random) -> _Cell:
    return _ZEROS[rng.choices(_ZERO_STYLES, _ZERO_WEIGHTS)[0]]


def _count(rng: random.Random, v: int, zero: _Cell) -> _Cell:
    """A count cell as reports write it: mostly plain digits, sometimes with spaces or Word debris."""
    if v == 0:
        return zero
    s = str(v)
    r = rng.random()
    if r < 0.93:
        return (s, float(v), None, NUMBER)
    if r < 0.95:
        raw = NBSP + " " + s
    elif r < 0.97:
        raw = s + " "
    elif r < 0.98 and v >= 1000:
        raw = f"{v:,}"
    elif r < 0.99:
        raw = _BOOKMARK + s
    else:
        raw = s.translate(_FULLWIDTH)
    return (raw, float(v), None, NUMBER)


def _change(rng: random.Random, v: int, zero: _Cell) -> _Cell:
    """本年增/减: "1（增）", "34（减）", "+3", "-2"."""
    if v == 0:
        return zero if rng.random() < 0.5 else ("0", 0.0, None, NUMBER)
    r = rng.random()
    if v > 0:
        raw = f"{v}（增）" if r < 0.45 else f"+{v}" if r < 0.7 else f"{v}（增加）" if r < 0.75 else str(v)
    else:
        raw = f"{-v}（减）" if r < 0.6 else f"{-v}（减少）" if r < 0.7 else str(v)
    return (raw, float(v), None, NUMBER)


def _money(rng: random.Random, kind: str, zero: _Cell) -> tuple[_Cell, bool]:
    """(cell, written without a unit where none is implied). ``kind``: procurement or fee."""
    r = rng.random()
    if r < 0.25:
        if kind == "fee" and zero[3] == NUMBER:  # "0" under a 万元 header is 0 万元
            return (zero[0], zero[1], "万元", NUMBER), False
        return zero, False
    if kind == "fee":  # header says 万元
        hundredths = rng.randint(1, 99999)  # of a 万元
        s = f"{hundredths // 100}.{hundredths % 100:02d}".rstrip("0").rstrip(".")
        r = rng.random()
        if r < 0.8:
            return (s, float(s), "万元", NUMBER), False
        if r < 0.9:
            return (s + "万元", float(s), "万元", NUMBER), False
        fee_yuan = str(hundredths * 100)
        return (fee_yuan + "元", float(fee_yuan), "元", NUMBER), False
    tenths = rng.randint(1, 500000)
    wan = f"{tenths // 10}.{tenths % 10}" if tenths % 10 else str(tenths // 10)
    r = rng.random()
    if r < 0.55:
        return (wan + "万元", float(wan), "万元", NUMBER), False
    if r < 0.65:
        return ("+" + wan + "万元", float(wan), "万元", NUMBER), False
    yuan = rng.randint(1000, 90000000)
    if r < 0.8:
        return (f"{yuan}元", float(yuan), "元", NUMBER), False
    if r < 0.88 and tenths >= 10000:
        big = f"{tenths // 10:,}"
        return (big + "万元", float(tenths // 10), "万元", NUMBER), False
    return (str(yuan), float(yuan), None, NUMBER), True  # no unit at all: X7 warns


def _split_label(rng: random.Random, label: str) -> str:
    """A label wrapped onto a second (or third) line, as Word dumps narrow cells."""
    if len(label) < 6:
        return label
    parts = []
    rest = label
    while len(rest) > 22:
        cut = rng.randint(8, 20)
        parts.append(rest[:cut])
        rest = rest[cut:]
    if not parts:
        cut = rng.randint(3, len(rest) - 2)
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------
@dataclass
class SynthReport:
    """One generated report and what it is known to hold."""

    name: str  # relative path, e.g. "2020/r000123.txt"
    data: bytes  # the file
    expected_cells: list[dict]  # section, row, col, value, unit, cell_status, raw_text — codebook order
    expected_meta: dict  # agency_name, report_year, template_version
    planted: set[tuple[str, str]] = field(default_factory=set)  # (rule_id, subject) built to fail
    incidental: set[tuple[str, str]] = field(default_factory=set)  # warning failures the variety causes
    fault: str | None = None  # the rule this report was built to break (B1 B2 B3 C1 C2 C3 X6 T1), or None
    encoding: str = "utf-8"  # utf-8, utf-8-sig or gb18030 (text); utf-8 (html); binary (docx, pdf)
    figures: dict[str, int] = field(default_factory=dict)  # table figures the prose may quote, as constructed


@functools.cache
def cell_codes(template: str) -> tuple[tuple[str, str, str], ...]:
    """The template's cells in codebook order, which is the order this module writes them in."""
    mine = [("proactive", row, col) for _, _, rows, cols in _PROACTIVE[template] for row, _ in rows for col in cols]
    mine += [("application", row, col) for row in _APP_ROWS[template] for col in APP_COLS]
    mine += [("review_litigation", row, col) for row in REVIEW_ROWS for col in REVIEW_COLS]
    codes = tuple((c.section, c.row, c.col) for c in codebook.cells(template))
    if tuple(mine) != codes:
        raise AssertionError(f"synth's {template} template disagrees with the codebook")
    return codes


@functools.cache
def _section_slices(template: str) -> tuple[tuple[str, int, int], ...]:
    """(section, start, end) of each table's cells in ``cell_codes(template)``."""
    codes = cell_codes(template)
    out = []
    for section in ("proactive", "application", "review_litigation"):
        idx = [i for i, c in enumerate(codes) if c[0] == section]
        out.append((section, idx[0], idx[-1] + 1))
    return tuple(out)


def _is_faulty(i: int, share_ppm: int) -> bool:
    """Exactly ``share`` of the reports, spread evenly (Bresenham), independent of n."""
    return (i + 1) * share_ppm // 1_000_000 > i * share_ppm // 1_000_000


def generate(
    n: int,
    seed: int = 0,
    templates: Iterable[str] = TEMPLATES,
    formats: Iterable[str] = ("txt",),
    fault_share: float = DEFAULT_FAULT_SHARE,
) -> Iterator[SynthReport]:
    """``n`` reports, deterministic in ``seed``; report ``i`` depends only on (seed, i)."""
    templates = tuple(templates)
    formats = tuple(formats)
    if not templates or any(t not in TEMPLATES for t in templates):
        raise ValueError(f"templates must be among {TEMPLATES}, got {templates}")
    if not formats or any(f not in FORMATS for f in formats):
        raise ValueError(f"formats must be among {FORMATS}, got {formats}")
    if not 0 <= fault_share <= 1:
        raise ValueError("fault_share must be between 0 and 1")
    for t in TEMPLATES:
        cell_codes(t)
    kinds = tuple(k for k in FAULT_KINDS if k != "T1" or "2019" in templates)
    share_ppm = round(fault_share * 1_000_000)
    width = max(6, len(str(max(n - 1, 0))))
    faults = 0
    for i in range(n):
        fault = None
        if _is_faulty(i, share_ppm):
            fault = kinds[faults % len(kinds)]
            faults += 1
        yield _make(i, seed, templates, formats[i % len(formats)], fault, width)


class _Builder:
    """Everything one report is made of, filled in order: numbers, faults, cells, text."""

    __slots__ = (
        "rng",
        "template",
        "year",
        "agency",
        "short",
        "proactive",
        "app",
        "review",
        "cells",
        "incidental",
        "lines",
        "fault",
    )

    def __init__(self, rng: random.Random, template: str, year: int, fault: str | None):
        self.rng = rng
        self.template = template
        self.year = year
        self.fault = fault
        self.agency, self.short = _agency(rng)
        self.cells: list[_Cell] = []  # in document order, which is codebook order
        self.incidental: set[tuple[str, str]] = set()
        self.lines: list[str] = []

    # -- numbers --------------------------------------------------------------------------------
    def make_application(self) -> None:
        rng, t = self.rng, self.template
        rows = _APP_ROWS[t]
        outcomes = _OUTCOME_ROWS[t]
        app = {r: [0] * 7 for r in rows}
        r = rng.random()
        n = 0 if r < 0.3 else 1 + int(rng.expovariate(1 / 6)) if r < 0.85 else 8 + int(rng.expovariate(1 / 80))
        n = min(n, 4000)
        if n:
            org_share = rng.choice((0.0, 0.0, 0.1, 0.25, 0.5))
            col_w = (
                1 - org_share,
                org_share * 0.45,
                org_share * 0.05,
                org_share * 0.05,
                org_share * 0.2,
                org_share * 0.25,
            )
            out_w = _outcome_weights(t, rng)
            cols = rng.choices(range(6), col_w, k=n)
            outs = rng.choices(range(len(outcomes) + 1), out_w, k=n)  # the last index: carried forward
            carried_share = rng.choice((0.0, 0.0, 0.05, 0.15))
            origin = rng.choices((0, 1), (1 - carried_share, carried_share), k=n)
            new, old, cf = app["new_received"], app["carried_over"], app["carried_forward"]
            out_rows = [app[o] for o in outcomes]
            processed = app["total_processed"]
            k_cf = len(outcomes)
            for c, o, g in zip(cols, outs, origin, strict=True):
                if g:
                    old[c] += 1
                else:
                    new[c] += 1
                if o == k_cf:
                    cf[c] += 1
                else:
                    out_rows[o][c] += 1
                    processed[c] += 1
        for values in app.values():
            values[6] = sum(values[:6])
        self.app = app

    def make_review(self) -> None:
        rng = self.rng
        review = {r: [0] * 5 for r in REVIEW_ROWS}
        if rng.random() < 0.3:
            for row, scale in (("review", 3), ("litigation_direct", 2), ("litigation_after_review", 1)):
                if rng.random() < 0.6:
                    v = review[row]
                    for k in range(4):
                        if rng.random() < (0.5 if k == 0 else 0.25):
                            v[k] = rng.randint(1, scale)
                    v[4] = sum(v[:4])
        self.review = review

    # -- faults ---------------------------------------------------------------------------------
    def plant_sum_fault(self) -> None:
        """Change cells so that one rule (B1, B2, B3, C1, C2 or C3) fails and no other sum rule does."""
        rng, app, fault = self.rng, self.app, self.fault
        k = rng.randint(1, 6)
        c = 0 if rng.random() < 0.6 else rng.randint(1, 5)
        if fault == "B1":  # a row of B1 and its total move together: B3 still holds, B1 fails in c and 总计
            row = rng.choice(("new_received", "carried_over", "carried_forward"))
            app[row][c] += k
            app[row][6] += k
        elif fault == "B2":  # an outcome row and its total: B2 fails in c and 总计
            row = rng.choice(_OUTCOME_ROWS[self.template])
            if app[row][c] >= k and rng.random() < 0.5:
                k = -k
            app[row][c] += k
            app[row][6] += k
        elif fault == "B3":  # two cells of one column move against each other: their rows' totals fail
            candidates = [r for r in _OUTCOME_ROWS[self.template] if app[r][c] >= k]
            if candidates and rng.random() < 0.6:
                down = rng.choice(candidates)
                up = rng.choice([r for r in _OUTCOME_ROWS[self.template] if r != down])
                app[down][c] -= k
                app[up][c] += k
            else:  # new_received and carried_forward up together: B1 still holds in c
                first = rng.choice(("new_received", "carried_over"))
                app[first][c] += k
                app["carried_forward"][c] += k
        elif fault in _REVIEW_FAULT_ROW:
            v = self.review[_REVIEW_FAULT_ROW[fault]]
            col = rng.randint(0, 4)
            if col == 4 and v[4] >= k and rng.random() < 0.5:
                k = -k
            v[col] += k

    def sum_failures(self) -> set[tuple[str, str]]:
        """The B1/B2/B3/C1-C3 pairs the final numbers break (blank cells are 0, as the rules read them)."""
        app, t = self.app, self.template
        out: set[tuple[str, str]] = set()
        outcomes = [app[r] for r in _OUTCOME_ROWS[t]]
        for ci, col in enumerate(APP_COLS):
            if app["new_received"][ci] + app["carried_over"][ci] != (
                app["total_processed"][ci] + app["carried_forward"][ci]
            ):
                out.add(("B1", col))
            if sum(v[ci] for v in outcomes) != app["total_processed"][ci]:
                out.add(("B2", col))
        for row, v in app.items():
            if sum(v[:6]) != v[6]:
                out.add(("B3", row))
        for row, v in self.review.items():
            if sum(v[:4]) != v[4]:
                out.add((_REVIEW_RULE[row], row))
        return out

    def figures(self) -> dict[str, int]:
        app = self.app
        figs = {f: sum(app[r][6] for r in rows if r in app) for f, rows in _FIGURE_ROWS.items()}
        figs["review"] = self.review["review"][4]
        figs["litigation"] = self.review["litigation_direct"][4] + self.review["litigation_after_review"][4]
        return figs

    # -- tables ---------------------------------------------------------------------------------
    def proactive_table(self) -> None:
        rng, cells, out = self.rng, self.cells, self.lines
        zero = _zero_style(rng)
        split_heads = rng.random() < 0.3
        for clause, heads, rows, cols in _PROACTIVE[self.template]:
            out.append("\t" + clause)
            out.append("")
            out.append("\t信息内容")
            for h in heads:
                if split_heads and h.startswith("本年新"):
                    h = h[:3] + "\n" + h[3:]
                out.append("\t" + h)
            out.append("")
            for row, label in rows:
                out.append("\t" + label)
                if row in ("regulation", "normative_document"):
                    row_cells = [_count(rng, v, zero) for v in self._document_counts(row)]
                else:
                    row_cells = [self._proactive_cell(row, col, zero) for col in cols]
                cells.extend(row_cells)
                out.append("\t" + "\n\t".join([c[0] for c in row_cells]))
                out.append("")

    def _document_counts(self, row: str) -> tuple[int, int, int]:
        """新制作/新公开/对外公开总数 (2019) or 制发/废止/现行有效 (2021): the stock is at least the year's new."""
        rng = self.rng
        if rng.random() < (0.85 if row == "regulation" else 0.25):
            return (0, 0, rng.choice((0, 0, 0, rng.randint(1, 40))))
        new = rng.randint(1, 4 if row == "regulation" else 60)
        if self.template == "2019":
            published = new if rng.random() < 0.7 else rng.randint(0, new)
            return (new, published, published + rng.randint(0, 300))
        return (new, rng.randint(0, 5) if rng.random() < 0.4 else 0, new + rng.randint(0, 300))

    def _proactive_cell(self, row: str, col: str, zero: _Cell) -> _Cell:
        rng = self.rng
        quiet = row in ("regulation", "administrative_coercion", "other_management_service")
        if col == "change":
            return _change(rng, 0 if rng.random() < 0.5 else rng.randint(-40, 60), zero)
        if col in ("procurement_amount", "fee_amount"):
            cell, no_unit = _money(rng, "fee" if col == "fee_amount" else "procurement", zero)
            if no_unit and cell[1]:
                self.incidental.add(("X7", _PROCUREMENT_CODE))
            return cell
        if rng.random() < (0.8 if quiet else 0.3):
            return _count(rng, 0, zero)
        top = 5 if row == "regulation" else 50000 if col == "decisions" and rng.random() < 0.3 else 300
        v = rng.randint(1, top)
        if col == "procurement_items" and rng.random() < 0.15:
            return (f"+{v}", float(v), None, NUMBER)  # as in a sample: "+3"
        return _count(rng, v, zero)

    def application_table(self) -> None:
        rng, cells, out, app = self.rng, self.cells, self.lines, self.app
        out.append("\t" + _APP_NOTE)
        out.append("\t申请人情况")
        out.append("")
        out.append("\t\n\t自然人\n\t法人或其他组织\n\t总计\n")
        out.append("\t\n\t\n\t商业企业\n\t科研机构\n\t社会公益组织\n\t法律服务机构\n\t其他\n\t\n")
        zero_rows = _zero_style(rng)  # rows that are all zero
        zero_in_row = zero_rows if rng.random() < 0.6 else _zero_style(rng)  # zeros beside numbers
        vertical = rng.random() < 0.15
        split = rng.random() < 0.2
        stray = rng.random() < 0.03
        seen_groups: set[str] = set()
        labels: list[tuple[str, list[str]]] = [
            ("new_received", ["一、本年新收政府信息公开申请数量"]),
            ("carried_over", ["二、上年结转政府信息公开申请数量"]),
        ]
        for i, (group, code, label) in enumerate(_RESULT_ROWS[self.template]):
            if split and len(label) > 12 and rng.random() < 0.5:
                label = _split_label(rng, label)
            if i == 0:
                head = _RESULT_GROUP if not vertical else "\n".join(_RESULT_GROUP)
                labels.append((code, [head, label]))
            elif group is None:
                labels.append((code, ["", label]))
            elif group not in seen_groups:
                seen_groups.add(group)
                labels.append((code, ["", group, label]))
            else:
                labels.append((code, ["", "", label]))
        labels.append(("carried_forward", ["四、结转下年度继续办理"]))
        for code, label_cells in labels:
            if stray and len(label_cells) == 3 and rng.random() < 0.3:
                label_cells = ["0", *label_cells[1:]]  # a stray cell in the label column, as in a sample
            out.extend("\t" + x for x in label_cells)
            values = app[code]
            if any(values):
                row_cells = [_count(rng, v, zero_in_row) for v in values]
            else:
                z = zero_rows if rng.random() < 0.9 else _zero_style(rng)
                row_cells = [z] * 7
            cells.extend(row_cells)
            out.append("\t" + "\n\t".join([c[0] for c in row_cells]))
            out.append("")

    def review_table(self) -> None:
        rng, cells, out = self.rng, self.cells, self.lines
        split = rng.random() < 0.2
        outcomes = (
            ("结果\n维持", "结果纠正", "其他结果", "尚未审结", "总\n计")
            if split
            else ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
        )
        block = "".join("\t" + x + "\n" for x in outcomes)
        out.append("\t行政复议\n\t行政诉讼\n")
        out.append(block + "\t未经复议直接起诉\n\t复议后起诉\n")
        out.append("\t\n" * 5 + block + block)
        zero = _zero_style(rng)
        for row in REVIEW_ROWS:
            for v in self.review[row]:
                cell = _count(rng, v, zero)
                cells.append(cell)
                out.append("\t" + cell[0])
        out.append("")

    # -- prose ----------------------------------------------------------------------------------
    def title(self) -> list[str]:
        rng, y, a = self.rng, self.year, self.agency
        r = rng.random()
        if r < 0.3:
            return [a, "", f"{y}年度政府信息公开工作年度报告", ""]
        if r < 0.6:
            return [f"{a}{y}年政府信息公开工作年度报告", ""]
        if r < 0.8:
            return ["", f"{a}{y}年度政府信息公开工作", "年度报告", ""]
        if r < 0.9:
            return [f"{a}{y}年度政府信息公开工作年度报告"]
        return [f" {y}年政府信息公开工作年度报告", ""]  # no agency: it is named in the opening prose

    def preamble(self, agency_in_title: bool) -> list[str]:
        rng, y, a = self.rng, self.year, self.agency
        if not agency_in_title:
            return [
                f"{y}年，{a}认真贯彻落实《中华人民共和国政府信息公开条例》（以下简称《条例》）和上级关于"
                "政务公开工作的部署要求，扎实推进政府信息公开各项工作，现将有关情况报告如下。"
            ]
        if rng.random() < 0.2:
            return []
        doc = "国办公开办函〔2019〕60号" if self.template == "2019" else "国办公开办函〔2021〕30号"
        return [
            f"根据《中华人民共和国政府信息公开条例》和《国务院办公厅政府信息与政务公开办公室关于印发"
            f"〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（{doc}）要求，{a}编制了本报告。"
            f"本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。",
            "",
        ]

    def overview(self, figs: dict[str, int], claims: dict[str, int]) -> list[str]:
        rng, y, s = self.rng, self.year, self.short
        fmt = {"year": y, "short": s}
        k = rng.randint(20, 3000)
        lines = [rng.choice(_OVERVIEW).format(**fmt)]
        use_subheads = rng.random() < 0.6
        if use_subheads:
            lines.append("（一）主动公开情况")
        lines.append(
            rng.choice(_PROACTIVE_PROSE).format(k=k, m=rng.randint(1, max(1, k // 10)), j=rng.randint(0, 30), **fmt)
        )
        if use_subheads:
            lines.append("（二）依申请公开情况")
        lines.append(self.application_prose(figs, claims))
        if use_subheads:
            lines.append("（三）政府信息管理情况")
        lines.append(rng.choice(_MANAGEMENT_PROSE))
        if use_subheads:
            lines.append("（四）平台建设情况")
        lines.append(rng.choice(_PLATFORM_PROSE))
        if use_subheads:
            lines.append("（五）监督保障情况")
        lines.append(rng.choice(_SUPERVISION_PROSE))
        if rng.random() < 0.3:  # paragraphs separated by blank lines, as some dumps are
            spaced: list[str] = []
            for line in lines:
                spaced += [line, ""]
            lines = spaced
        return lines

    def application_prose(self, figs: dict[str, int], claims: dict[str, int]) -> str:
        """The 依申请公开 paragraph; ``claims`` receives every figure it quotes, with the quoted number."""
        rng, y = self.rng, self.year
        fmt = {"year": y, "short": self.short}
        forced = self.fault == "X6"
        no_apps = not any(self.app["new_received"]) and not any(self.app["carried_over"])
        style = rng.random()
        if no_apps and not forced and style < 0.5:
            parts = [rng.choice(_NO_APPLICATIONS).format(**fmt)]
            return "".join(parts) + self.appeal_prose(figs, claims)
        if style < 0.2 and not forced:
            return "依法依规做好政府信息公开申请的受理、审查、答复工作，严格按照法定时限答复。" + self.appeal_prose(
                figs, claims
            )

        def say(fig: str) -> str:
            claims[fig] = figs[fig]
            return rng.choice(_FIGURE_PHRASES[fig]).format(n=figs[fig])

        text = f"{y}年度，" + say("new_received")
        if figs["carried_over"] or rng.random() < 0.5:
            text += "，" + say("carried_over")
        text += "。截至" + f"{y}年底，" + say("total_processed")
        if figs["carried_forward"] or rng.random() < 0.3:
            text += "，" + say("carried_forward")
        text += "。"
        shown = [f for f in _OUTCOME_FIGURES if figs[f] or rng.random() < 0.15]
        if shown:
            text += "本年度处理结果包括：" + "；".join(say(f) for f in shown) + "。"
        return text + self.appeal_prose(figs, claims)

    def appeal_prose(self, figs: dict[str, int], claims: dict[str, int]) -> str:
        rng = self.rng
        if rng.random() < 0.3 and self.fault != "X6":
            return ""
        parts = []
        for fig in ("review", "litigation"):
            if figs[fig] == 0 and rng.random() < 0.7:
                claims[fig] = 0
                parts.append(rng.choice(_ZERO_PHRASES[fig]))
            else:
                claims[fig] = figs[fig]
                parts.append(rng.choice(_FIGURE_PHRASES[fig]).format(n=figs[fig]))
        return "本年度" + "；".join(parts) + "。"

    def plant_prose_fault(self, text: str, claims: dict[str, int], figs: dict[str, int]) -> tuple[str, str]:
        """Change one quoted figure in ``text`` so that it disagrees with the table: (new text, figure)."""
        rng = self.rng
        quoted = [f for f in claims if f in _FIGURE_PHRASES]
        for _ in range(20):
            fig = rng.choice(quoted)
            delta = rng.choice((-3, -2, -1, 1, 1, 2, 3, 5, 10))
            wrong = claims[fig] + delta
            if wrong < 0:
                continue
            for phrase in _FIGURE_PHRASES[fig]:
                right = phrase.format(n=claims[fig])
                if claims[fig] == figs[fig] and right in text and text.count(right) == 1:
                    return text.replace(right, phrase.format(n=wrong)), fig
            for phrase in _ZERO_PHRASES.get(fig, ()):
                if phrase in text:
                    return text.replace(phrase, _FIGURE_PHRASES[fig][0].format(n=max(wrong, 1))), fig
        raise AssertionError("no figure to misquote")  # never: new_received is always quoted


def _outcome_weights(template: str, rng: random.Random) -> list[float]:
    """Weights of the outcome rows (template order) and, last, of 结转下年度."""
    w = {
        "granted": 40,
        "partially_granted": 8,
        "unable_not_held": 20,
        "unable_needs_creation": 2,
        "unable_unclear": 3,
        "not_processed_petition": 4,
        "not_processed_repeat": 3,
        "not_processed_publication": 0.5,
        "not_processed_mass_repeat": 0.5,
        "not_processed_confirmation": 0.5,
        "denied_state_secret": 0.3,
        "denied_prohibited_by_law": 0.5,
        "denied_three_securities": 0.3,
        "denied_third_party": 1,
        "denied_internal_affairs": 1.5,
        "denied_process_info": 2,
        "denied_enforcement_file": 0.5,
        "denied_query_matter": 2,
        "other": 4,
        "other_no_supplement": 2,
        "other_unpaid_fee": 0.2,
        "other_misc": 3,
    }
    weights = [w[r] * (0.5 + rng.random()) for r in _OUTCOME_ROWS[template]]
    weights.append(rng.choice((0.0, 0.0, 3.0, 8.0)))
    return weights


def _make(i: int, seed: int, templates: tuple[str, ...], fmt: str, fault: str | None, width: int) -> SynthReport:
    rng = random.Random(f"govinfo-synth:{seed}:{i}")
    if fault == "T1":
        template, year = "2019", 2022
    else:
        template = rng.choice(templates)
        year = rng.choice((2019, 2020)) if template == "2019" else rng.randint(2021, 2025)
    b = _Builder(rng, template, year, fault)
    b.make_application()
    b.make_review()
    if fault in _SUM_FAULTS:
        b.plant_sum_fault()
    planted = b.sum_failures()
    figs = b.figures()

    # prose first (it is built from the final numbers), then the text in document order
    claims: dict[str, int] = {}
    title = b.title()
    agency_in_title = not title[0].startswith(" ")
    head = title + b.preamble(agency_in_title)
    overview = b.overview(figs, claims)
    if fault == "X6":
        joined = "\n".join(overview)
        joined, fig = b.plant_prose_fault(joined, claims, figs)
        overview = joined.split("\n")
        planted.add(("X6", fig))
    if fault == "T1":
        planted.add(("T1", "template_version"))

    h = {no: rng.choice(options) for no, options in _HEADINGS.items()}
    out = b.lines
    out.extend(head)
    out.append(h[1])
    out.extend(overview)
    out.append(h[2])
    out.append("")
    b.proactive_table()
    out.append("")
    out.append(h[3])
    if rng.random() < 0.5:
        out.append("")
    b.application_table()
    out.append("")
    out.append(h[4])
    if rng.random() < 0.5:
        out.append("")
    b.review_table()
    out.append("")
    out.append(h[5])
    fmt_args = {"year": year, "short": b.short}
    out.extend(p.format(**fmt_args) for p in rng.sample(_PROBLEMS, rng.randint(1, 3)))
    out.append(h[6])
    out.append(rng.choice(_OTHER_MATTERS[template]).format(**fmt_args))
    if rng.random() < 0.1:
        out.extend([" (", str(rng.randint(1, 9)), ")"])  # a page-number footer left by the dump
    out.append("")
    text = "\n".join(out)

    # cells, in codebook order; K1 for a table left entirely blank
    cells = b.cells
    expected = [
        {"section": s, "row": r, "col": c, "value": v, "unit": u, "cell_status": st, "raw_text": raw}
        for (s, r, c), (raw, v, u, st) in zip(cell_codes(template), cells, strict=True)
    ]
    incidental = b.incidental | {
        ("K1", section) for section, a, z in _section_slices(template) if all(cell[3] == BLANK for cell in cells[a:z])
    }

    if fmt == "txt":
        crlf = rng.random() < 0.15
        r = rng.random()
        encoding = "gb18030" if r < 0.1 else "utf-8-sig" if r < 0.2 else "utf-8"
        data = (text.replace("\n", "\r\n") if crlf else text).encode(encoding)
    else:  # the same report as a web page, a Word file or a PDF
        encoding = "utf-8" if fmt == "html" else "binary"
        data = synth_formats.render(fmt, text)
    return SynthReport(
        name=f"{year}/r{i:0{width}d}.{fmt}",
        data=data,
        expected_cells=expected,
        expected_meta={"agency_name": b.agency, "report_year": year, "template_version": template},
        planted=planted,
        incidental=incidental,
        fault=fault,
        encoding=encoding,
        figures=figs,
    )


# ---------------------------------------------------------------------------------------------
# Writing a corpus and checking a pipeline's output against it
# ---------------------------------------------------------------------------------------------
def write_corpus(
    folder: Path | str,
    n: int,
    seed: int = 0,
    templates: Iterable[str] = TEMPLATES,
    formats: Iterable[str] = ("txt",),
    fault_share: float = DEFAULT_FAULT_SHARE,
) -> dict[str, Any]:
    """Write ``n`` reports under ``folder`` (``<year>/r<i>.txt``) and ``oracle.json`` beside them.

    Returns counts: files, bytes, cells, faulty reports, planted and incidental failures, and the
    split by template, year, encoding and fault. ``oracle.json`` sits in the corpus folder: leave it
    out when discovering the reports (a pipeline run over the folder rejects it as not_a_report).
    """
    templates = tuple(templates)
    counts = write_reports(
        folder,
        generate(n, seed, templates, formats, fault_share),
        {"seed": seed, "n": n, "templates": list(templates), "fault_share": fault_share},
    )
    return counts


def write_reports(folder: Path | str, reports: Iterable[SynthReport], about: dict | None = None) -> dict[str, Any]:
    """Write reports and their ``oracle.json`` under ``folder``; see ``write_corpus``.

    The oracle holds, per file: its report id (the pipeline's: sha256 of the bytes, first 16 hex), the
    expected metadata, the fault, the planted and incidental (rule_id, subject) failures, and every
    expected cell as [value, unit, cell_status, raw_text] in the order of ``cell_codes[template]``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict] = {}
    counts: Counter[str] = Counter()
    made_dirs: set[str] = set()
    total_bytes = 0
    for rep in reports:
        subdir = rep.name.rsplit("/", 1)[0]
        if subdir not in made_dirs:
            (folder / subdir).mkdir(parents=True, exist_ok=True)
            made_dirs.add(subdir)
        (folder / rep.name).write_bytes(rep.data)
        total_bytes += len(rep.data)
        sha = hashlib.sha256(rep.data).hexdigest()
        meta = rep.expected_meta
        files[rep.name] = {
            "report_id": sha[:16],
            "sha256": sha,
            "encoding": rep.encoding,
            **meta,
            "fault": rep.fault,
            "planted": sorted(map(list, rep.planted)),
            "incidental": sorted(map(list, rep.incidental)),
            "cells": [[c["value"], c["unit"], c["cell_status"], c["raw_text"]] for c in rep.expected_cells],
        }
        counts[f"template:{meta['template_version']}"] += 1
        counts[f"year:{meta['report_year']}"] += 1
        counts[f"encoding:{rep.encoding}"] += 1
        counts[f"format:{rep.name.rsplit('.', 1)[1]}"] += 1
        if rep.fault:
            counts[f"fault:{rep.fault}"] += 1
        counts["planted_failures"] += len(rep.planted)
        counts["incidental_failures"] += len(rep.incidental)
        counts["cells"] += len(rep.expected_cells)
    oracle = {
        "generator": __name__,
        "version": ORACLE_VERSION,
        **(about or {}),
        "cell_codes": {t: [list(c) for c in cell_codes(t)] for t in TEMPLATES},
        "files": files,
    }
    with open(folder / ORACLE_NAME, "w", encoding="utf-8") as fh:
        json.dump(oracle, fh, ensure_ascii=False, separators=(",", ":"))
    return {
        "files": len(files),
        "bytes": total_bytes,
        "distinct_report_ids": len({f["report_id"] for f in files.values()}),
        "cells": counts["cells"],
        "faulty_reports": sum(v for k, v in counts.items() if k.startswith("fault:")),
        "planted_failures": counts["planted_failures"],
        "incidental_failures": counts["incidental_failures"],
        "by_template": _group(counts, "template:"),
        "by_year": _group(counts, "year:"),
        "by_encoding": _group(counts, "encoding:"),
        "by_format": _group(counts, "format:"),
        "by_fault": _group(counts, "fault:"),
        "oracle": str(folder / ORACLE_NAME),
    }


def _group(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}


def load_oracle(oracle: dict | Path | str) -> dict:
    if isinstance(oracle, dict):
        return oracle
    with open(oracle, encoding="utf-8") as fh:
        return json.load(fh)


CROSS_REPORT_RULES = ("X1", "S1")


def compare(oracle: dict | Path | str, warehouse_cells_df, rule_results_df, max_examples: int = 20) -> dict[str, Any]:
    """How much of the oracle a pipeline run got right.

    ``warehouse_cells_df``: report_id, section, row, col, value, unit, cell_status (the warehouse's
    ``report_cells`` or ``normalize()["cells"]``). ``rule_results_df``: report_id, rule_id, subject,
    passed, level (``quality_results`` or ``check()["results"]``). ``oracle``: the dict of
    ``oracle.json`` or its path. A cell is correct when value, unit and status all match; a planted
    failure is found when a result with its rule_id and subject has ``passed`` False. Failures that
    were neither planted nor incidental are counted as ``unexpected_failures``.
    """
    oracle = load_oracle(oracle)
    codes = {t: [tuple(c) for c in cs] for t, cs in oracle["cell_codes"].items()}
    cdf = warehouse_cells_df
    positions = cdf.groupby("report_id", sort=False).indices if len(cdf) else {}
    sections, rows, cols = (cdf[k].to_numpy(dtype=object) for k in ("section", "row", "col"))
    values = cdf["value"].to_numpy(dtype=float, na_value=float("nan"))
    units, statuses = (cdf[k].to_numpy(dtype=object) for k in ("unit", "cell_status"))

    def no_unit(u: Any) -> bool:
        return u is None or not isinstance(u, str)  # None, NaN or pd.NA

    expected_n = correct = 0
    wrong: list[dict] = []
    for name, f in oracle["files"].items():
        pos = positions.get(f["report_id"], ())
        got = {(sections[i], rows[i], cols[i]): i for i in pos}
        for code, (value, unit, status, raw) in zip(codes[f["template_version"]], f["cells"], strict=True):
            expected_n += 1
            i = got.get(code)
            if i is not None:
                v = values[i]
                if (
                    statuses[i] == status
                    and (no_unit(units[i]) if unit is None else units[i] == unit)
                    and (v != v if value is None else abs(v - value) <= 1e-9)
                ):
                    correct += 1
                    continue
            if len(wrong) < max_examples:
                wrong.append(
                    {
                        "file": name,
                        "cell": ".".join(code),
                        "raw_text": raw,
                        "expected": [value, unit, status],
                        "got": None if i is None else [values[i], units[i], statuses[i]],
                    }
                )

    res = rule_results_df
    failed = res[res["passed"].eq(False).fillna(False)]
    keys = list(zip(failed["report_id"], failed["rule_id"], failed["subject"], strict=True))
    levels = dict(zip(keys, failed["level"], strict=True)) if "level" in failed else {}
    found = set(keys)
    files = oracle["files"].values()
    planted = {(f["report_id"], rule, subject) for f in files for rule, subject in f["planted"]}
    allowed = planted | {(f["report_id"], rule, subject) for f in files for rule, subject in f["incidental"]}
    ids = {f["report_id"]: name for name, f in oracle["files"].items()}
    # X1 and S1 compare reports with each other, which the per-report oracle cannot foresee: a body the
    # generator happens to give two consecutive years gets unrelated carried-over figures (X1), and prose
    # built from a few sentence patterns makes some pairs of bodies' reports nearly alike (S1). Those
    # warnings are counted apart.
    cross = sorted(k for k in found - allowed if k[0] in ids and k[1] in CROSS_REPORT_RULES)
    unexpected = sorted(k for k in found - allowed if k[0] in ids and k[1] not in CROSS_REPORT_RULES)
    missed = sorted(planted - found)
    return {
        "cells_expected": expected_n,
        "cells_correct": correct,
        "rule_failures_expected": len(planted),
        "rule_failures_found": len(planted & found),
        "unexpected_failures": len(unexpected),
        "unexpected_error_failures": sum(1 for k in unexpected if levels.get(k) == "error"),
        "cross_report_warnings": len(cross),
        "cells_wrong_examples": wrong,
        "rule_failures_missed_examples": [(ids[r], rule, s) for r, rule, s in missed[:max_examples]],
        "unexpected_failure_examples": [(ids[r], rule, s) for r, rule, s in unexpected[:max_examples]],
    }


def figure_names() -> tuple[str, ...]:
    """The prose figures this generator quotes; each is one of ``prose.FIGURES``."""
    names = tuple(_FIGURE_PHRASES)
    unknown = set(names) - set(FIGURES)
    if unknown:
        raise AssertionError(f"figures unknown to prose.FIGURES: {sorted(unknown)}")
    return names
