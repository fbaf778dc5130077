"""The consistency rules (勾稽关系), evaluated for a whole batch of reports at once.

Blank, 无 and absent cells count as 0 in the arithmetic, but a result that holds only thanks to
them says so: ``outcome`` is ``assumed_zero``, not ``pass``. When a rule has no number to work
on at all, ``outcome`` is ``no_data`` and ``passed`` is NULL.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from govinfo_pipeline.parse import codebook
from govinfo_pipeline.parse.values import ABSENT, BLANK, NUMBER
from govinfo_pipeline.quality.prose_rules import _no_applications, _prose_vs_table
from govinfo_pipeline.quality.results import TOLERANCE, result_frame, rule_level

APPLICANT_COLS = (
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
)


OUTCOME_ROWS = tuple(
    r["row"]
    for r in codebook.load()["application_rows"]
    if r["row"] not in ("new_received", "carried_over", "total_processed", "carried_forward")
)


REVIEW_PARTS = ("upheld", "corrected", "other", "pending")


@dataclass(frozen=True)
class SumRule:
    """``observed`` terms must add up to ``expected`` terms, once per subject.

    ``side_by`` names the cell field (row or col) that places a cell on a side; the other field
    is the subject, so a per-column rule gives one result per column.
    """

    rule_id: str
    section: str
    side_by: str
    expected_terms: tuple[str, ...]
    observed_terms: tuple[str, ...]
    subjects: tuple[str, ...] | None = None  # restrict to these subjects
    describe: str = ""


SUM_RULES = (
    SumRule(
        "B1",
        "application",
        "row",
        ("new_received", "carried_over"),
        ("total_processed", "carried_forward"),
        describe="new_received + carried_over = total_processed + carried_forward",
    ),
    SumRule(
        "B2",
        "application",
        "row",
        OUTCOME_ROWS,
        ("total_processed",),
        describe="total_processed = sum of the outcome rows",
    ),
    SumRule(
        "B3",
        "application",
        "col",
        APPLICANT_COLS,
        ("total",),
        describe="total = natural_person + the five 法人或其他组织 columns",
    ),
    SumRule(
        "C1",
        "review_litigation",
        "col",
        REVIEW_PARTS,
        ("total",),
        ("review",),
        describe="review total = upheld + corrected + other + pending",
    ),
    SumRule(
        "C2",
        "review_litigation",
        "col",
        REVIEW_PARTS,
        ("total",),
        ("litigation_direct",),
        describe="litigation_direct total = sum of its four outcomes",
    ),
    SumRule(
        "C3",
        "review_litigation",
        "col",
        REVIEW_PARTS,
        ("total",),
        ("litigation_after_review",),
        describe="litigation_after_review total = sum of its four outcomes",
    ),
)


def _outcome(passed: pd.Series, n_num: pd.Series, n_all: pd.Series) -> tuple[pd.Series, pd.Series]:
    outcome = np.where(
        n_num == 0,
        "no_data",
        np.where(~passed, "fail", np.where(n_num < n_all, "assumed_zero", "pass")),
    )
    passed_or_null = pd.Series(passed, dtype="boolean").where(n_num > 0, pd.NA)
    return pd.Series(outcome, index=passed.index), passed_or_null


@functools.lru_cache(maxsize=4096)
def _codes(rule: SumRule, subject: str, terms_present: int) -> str:
    """``section.row.col`` codes of the cells a sum rule read for one subject, observed side first;
    ``terms_present`` has bit i set when term i of ``_terms(rule)`` is in the report."""
    present = {t for i, t in enumerate(_terms(rule)) if terms_present >> i & 1}
    terms = [t for t in rule.observed_terms + rule.expected_terms if t in present]
    pairs = [(t, subject) if rule.side_by == "row" else (subject, t) for t in terms]
    return ",".join(f"{rule.section}.{r}.{c}" for r, c in pairs)


@functools.cache
def _terms(rule: SumRule) -> tuple[str, ...]:
    """The rows (or columns) a sum rule adds, each once, in a fixed order (bit i of a report's signature)."""
    return tuple(dict.fromkeys(rule.observed_terms + rule.expected_terms))


def _kinds_of(cells: pd.DataFrame, kinds: dict[tuple[str, str], str], default: str | None = None) -> pd.Series:
    """Each cell's kind by its (section, col): one map of the columns per section, not a lookup per cell."""
    out = pd.Series(default, index=cells.index, dtype=object)
    for section in sorted({s for s, _ in kinds}):
        mask = cells["section"] == section
        if mask.any():
            kind = cells.loc[mask, "col"].map({c: k for (s, c), k in kinds.items() if s == section})
            out[mask] = kind if default is None else kind.fillna(default)
    return out


def _sum_rule(cells: pd.DataFrame, rule: SumRule) -> pd.DataFrame:
    subject_by = "col" if rule.side_by == "row" else "row"
    d = cells[cells["section"] == rule.section]
    if rule.subjects:
        d = d[d[subject_by].isin(rule.subjects)]
    side = d[rule.side_by].map(
        {**{t: "expected" for t in rule.expected_terms}, **{t: "observed" for t in rule.observed_terms}}
    )
    d = d.assign(side=side).dropna(subset=["side"])
    if d.empty:
        return result_frame([])
    d = d.assign(v=d["value"].fillna(0.0), is_num=d["cell_status"] == NUMBER)
    g = d.groupby(["report_id", subject_by, "side"], sort=False).agg(
        total=("v", "sum"), n=("v", "size"), n_num=("is_num", "sum")
    )
    wide = g.unstack("side")
    if ("total", "expected") not in wide or ("total", "observed") not in wide:
        return result_frame([])
    wide = wide.dropna(subset=[("total", "expected"), ("total", "observed")])
    expected = wide[("total", "expected")]
    observed = wide[("total", "observed")]
    n_num = wide[("n_num", "expected")] + wide[("n_num", "observed")]
    n_all = wide[("n", "expected")] + wide[("n", "observed")]
    passed = (expected - observed).abs() <= TOLERANCE
    outcome, passed_or_null = _outcome(passed, n_num, n_all)
    out = pd.DataFrame(
        {
            "report_id": wide.index.get_level_values(0),
            "subject": wide.index.get_level_values(1),
            "expected": expected.to_numpy(),
            "observed": observed.to_numpy(),
            "passed": passed_or_null.to_numpy(),
            "outcome": outcome.to_numpy(),
            "blanks": (n_all - n_num).to_numpy(),
        }
    )
    # The cells each result read: the same for every report with the same set of rows, so they are
    # worked out once per distinct (rows present, subject) rather than joined per report.
    present = d[["report_id", rule.side_by]].drop_duplicates()
    bits = {t: 1 << i for i, t in enumerate(_terms(rule))}
    signature = present[rule.side_by].map(bits).groupby(present["report_id"], sort=False).sum()
    out["cells"] = [
        _codes(rule, subject, int(sig))
        for subject, sig in zip(out["subject"], out["report_id"].map(signature), strict=True)
    ]
    out["rule_id"] = rule.rule_id
    out["level"] = rule_level(rule.rule_id)

    def operands(subject: str) -> str:
        def term(t: str) -> str:
            return f"{t}.{subject}" if rule.side_by == "row" else f"{subject}.{t}"

        return (
            f"{rule.section}: "
            + " + ".join(map(term, rule.observed_terms))
            + " = "
            + " + ".join(map(term, rule.expected_terms))
        )

    out["operands"] = out["subject"].map({s: operands(s) for s in out["subject"].unique()})
    verdict = out["outcome"].map(
        {
            "pass": "holds",
            "fail": "fails",
            "no_data": "has no numbers to check",
            "assumed_zero": "holds only when blank cells are read as 0",
        }
    )
    out["message"] = (
        f"{rule.rule_id} ["
        + out["subject"]
        + "] "
        + verdict
        + f": {rule.describe}; expected "
        + out["expected"].map("{:g}".format)
        + ", observed "
        + out["observed"].map("{:g}".format)
        + np.where(out["blanks"] > 0, " (" + out["blanks"].astype(int).astype(str) + " blank cells read as 0)", "")
    )
    return result_frame(out)


def _domain_rule(
    cells: pd.DataFrame, rule_id: str, sections: tuple[str, ...], kinds: dict[tuple[str, str], str]
) -> pd.DataFrame:
    """Cells must be numbers of the right kind: counts integers >= 0, changes integers, money >= 0."""
    d = cells[cells["section"].isin(sections)]
    if d.empty:
        return result_frame([])
    kind = _kinds_of(d, kinds, "count")
    v = d["value"]
    is_num = d["cell_status"] == NUMBER
    integral = (v.round() - v).abs() <= TOLERANCE
    bad_number = is_num & (
        ((kind == "count") & ((v < 0) | ~integral))
        | ((kind == "signed_count") & ~integral)
        | ((kind == "money") & (v < 0))
    )
    bad = bad_number | (d["cell_status"] == "text")
    d = d.assign(bad=bad, is_num=is_num)
    per = d.groupby("report_id", sort=False).agg(n_bad=("bad", "sum"), n_num=("is_num", "sum"))
    offenders = d[d["bad"]]
    listed = (
        offenders["section"]
        + "."
        + offenders["row"]
        + "."
        + offenders["col"]
        + "="
        + offenders["raw_text"].map(repr)
        + " (line "
        + offenders["source_line"].astype(str)
        + ")"
    )
    codes = offenders["section"] + "." + offenders["row"] + "." + offenders["col"]
    by_report_listed = listed.groupby(offenders["report_id"]).agg(lambda x: "; ".join(x.head(10)))
    by_report_codes = codes.groupby(offenders["report_id"]).agg(",".join)
    has_numbers = (per["n_num"] + per["n_bad"]) > 0
    passed = pd.Series(per["n_bad"] == 0, dtype="boolean").where(has_numbers, pd.NA)
    text = codebook.rules()[rule_id]["text"]
    out = pd.DataFrame(
        {
            "report_id": per.index,
            "rule_id": rule_id,
            "level": rule_level(rule_id),
            "passed": passed.to_numpy(),
            "outcome": np.where(~has_numbers, "no_data", np.where(per["n_bad"] == 0, "pass", "fail")),
            "subject": ",".join(sections),
            "expected": 0.0,
            "observed": per["n_bad"].astype(float).to_numpy(),
            "operands": f"every cell of {', '.join(sections)}",
            "cells": per.index.map(by_report_codes).to_numpy(),
            "message": (
                f"{rule_id}: {text}"
                + pd.Series(per.index.map(by_report_listed), index=per.index).map(
                    lambda x: "" if not isinstance(x, str) else f"; cells that break it: {x}"
                )
            ).to_numpy(),
        }
    )
    return result_frame(out)


def _template_year(reports: pd.DataFrame) -> pd.DataFrame:
    """T1: 2019 format for 2019-2020 reports, 2021 format from 2021 on."""
    rows = []
    for r in reports.itertuples():
        year, template = r.report_year, r.template_version
        if pd.isna(year) or template == "unknown":
            passed, expected = None, None
        else:
            expected = "2019" if 2019 <= year <= 2020 else "2021" if year >= 2021 else "unknown"
            passed = expected == template
        rows.append(
            {
                "report_id": r.report_id,
                "rule_id": "T1",
                "level": rule_level("T1"),
                "passed": passed,
                "outcome": "no_data" if passed is None else ("pass" if passed else "fail"),
                "subject": "template_version",
                "operands": "reports.template_version, reports.report_year",
                "message": f"T1: a {year if not pd.isna(year) else '?'} report uses the {template} template"
                + ("" if passed is not False else f"; the {expected} template was expected"),
            }
        )
    return result_frame(rows)


def _completeness(cells: pd.DataFrame) -> pd.DataFrame:
    """K1: a table left entirely blank. K2: rows or cells missing from the report altogether."""
    if cells.empty:
        return result_frame([])
    d = cells.assign(
        empty=cells["cell_status"].isin([BLANK, ABSENT]),
        absent=cells["cell_status"] == ABSENT,
    )
    g = (
        d.groupby(["report_id", "section"], sort=False)
        .agg(n=("empty", "size"), n_empty=("empty", "sum"), n_absent=("absent", "sum"))
        .reset_index()
    )
    k1 = g.assign(
        rule_id="K1",
        level="warning",
        subject=g["section"],
        passed=g["n_empty"] < g["n"],
        expected=g["n"].astype(float),
        observed=(g["n"] - g["n_empty"]).astype(float),
        operands="every cell of " + g["section"],
        cells=g["section"],
    )
    k1["outcome"] = np.where(k1["passed"], "pass", "fail")
    k1["message"] = np.where(
        k1["passed"],
        "K1: the " + g["section"] + " table has content",
        "K1: the "
        + g["section"]
        + " table is left entirely blank ("
        + g["n"].astype(str)
        + " cells); it is incomplete, not zero",
    )
    k2 = g.assign(
        rule_id="K2",
        level="warning",
        subject=g["section"],
        passed=g["n_absent"] == 0,
        expected=0.0,
        observed=g["n_absent"].astype(float),
        operands="every cell of " + g["section"],
        cells=g["section"],
    )
    k2["outcome"] = np.where(k2["passed"], "pass", "fail")
    k2["message"] = np.where(
        k2["passed"],
        "K2: every row of the " + g["section"] + " table is present",
        "K2: " + g["n_absent"].astype(str) + " cells of the " + g["section"] + " table are missing from the report",
    )
    return pd.concat([result_frame(k1), result_frame(k2)], ignore_index=True)


_UNIT_FACTOR = {"元": 1.0, "万元": 1e4, "亿元": 1e8}


_MAX_PLAUSIBLE_YUAN = 1e11  # 1000亿元: more than any single body's procurement or fees


def _money(cells: pd.DataFrame, kinds: dict[tuple[str, str], str]) -> pd.DataFrame:
    """X7: money cells carry a unit, and their amount is plausible once the unit is applied."""
    is_money = _kinds_of(cells, kinds).eq("money")
    d = cells[is_money & (cells["cell_status"] == NUMBER)]
    if d.empty:
        return result_frame([])
    yuan = d["value"] * d["unit"].map(_UNIT_FACTOR)
    no_unit = d["unit"].isna() & (d["value"] != 0)
    too_big = yuan > _MAX_PLAUSIBLE_YUAN
    passed = ~(no_unit | too_big)
    code = d["section"] + "." + d["row"] + "." + d["col"]
    amount = d["value"].map("{:g}".format)
    message = np.where(
        no_unit,
        "X7 ["
        + code
        + "] "
        + amount
        + " has no unit (元 or 万元) in the cell or the header; it is "
        + (d["value"] / 1e4).map("{:g}".format)
        + "万元 if in 元, "
        + amount
        + "万元 if in 万元",
        np.where(
            too_big,
            "X7 [" + code + "] " + amount + d["unit"].fillna("") + " is over 1000亿元: a unit mix-up?",
            "X7 [" + code + "] " + amount + d["unit"].fillna("") + " is plausible",
        ),
    )
    return result_frame(
        pd.DataFrame(
            {
                "report_id": d["report_id"],
                "rule_id": "X7",
                "level": rule_level("X7"),
                "passed": passed,
                "outcome": np.where(passed, "pass", "fail"),
                "subject": code,
                "expected": np.nan,
                "observed": d["value"],
                "operands": "raw text " + d["raw_text"].map(repr),
                "cells": code,
                "message": message,
            }
        )
    )


def evaluate(reports: pd.DataFrame, cells: pd.DataFrame, claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every rule result for a batch. ``reports`` needs report_id, report_year, template_version;
    ``claims`` (optional) holds the figures quoted in the prose: report_id, figure, value, phrase, source_line."""
    kinds = {(c.section, c.col): c.kind for t in codebook.TEMPLATES for c in codebook.cells(t)}
    # Only the columns the rules read, split by table once: every rule then works on a slim, smaller frame.
    cells = cells[["report_id", "section", "row", "col", "value", "unit", "cell_status", "raw_text", "source_line"]]
    by_section = {s: part for s, part in cells.groupby("section", sort=False)}
    parts = [_sum_rule(by_section.get(rule.section, cells.iloc[0:0]), rule) for rule in SUM_RULES]
    parts += [
        _domain_rule(cells, "B4", ("application",), kinds),
        _domain_rule(cells, "C4", ("review_litigation",), kinds),
        _domain_rule(cells, "A0", ("proactive",), kinds),
        _template_year(reports),
        _tables_read(reports),
        _completeness(cells),
        _money(cells, kinds),
    ]
    if claims is not None and not claims.empty:
        parts += [_prose_vs_table(cells, claims), _no_applications(cells, claims)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return result_frame([])
    with warnings.catch_warnings():  # all-NA columns in some parts; dtypes are set just below
        warnings.simplefilter("ignore", FutureWarning)
        out = pd.concat(parts, ignore_index=True)
    out["passed"] = out["passed"].astype("boolean")
    out["expected"] = pd.to_numeric(out["expected"], errors="coerce")
    out["observed"] = pd.to_numeric(out["observed"], errors="coerce")
    return out


def _tables_read(reports: pd.DataFrame) -> pd.DataFrame:
    """K0: the report's tables were read. A report whose parse failed (no national table found, or a reader
    that broke down) has nothing the other rules could check, so it must not pass."""
    if reports.empty or "parse_status" not in reports:
        return result_frame([])
    failed = reports["parse_status"].eq("failed").to_numpy()
    k0 = pd.DataFrame(
        {
            "report_id": reports["report_id"].to_numpy(),
            "rule_id": "K0",
            "level": "warning",
            "passed": ~failed,
            "outcome": np.where(failed, "fail", "pass"),
            "subject": "tables",
            "operands": "parse_status",
            "message": np.where(
                failed,
                "K0: the report's tables could not be read (parse_status failed; see parse_notes): nothing was checked",
                "K0: the report's tables were read",
            ),
        }
    )
    return result_frame(k0)


def quality_status(results: pd.DataFrame, report_ids: pd.Series) -> pd.Series:
    """'errors', 'warnings' or 'passed' per report: the worst level among its failed rules."""
    failed = results[results["passed"].eq(False).fillna(False)]
    worst = (
        failed.assign(rank=failed["level"].map({"error": 2, "warning": 1}).fillna(1)).groupby("report_id")["rank"].max()
    )
    ranks = report_ids.map(worst).fillna(0)
    return ranks.map({2: "errors", 1: "warnings", 0: "passed"})


def cross_year(cells: pd.DataFrame) -> pd.DataFrame:
    """X1 from the carried_over / carried_forward cells of several years of the same bodies.

    ``cells``: report_id, agency_id, report_year, row, col, value, cell_status. One result per report,
    column and previous-year report; none where the previous year is missing.
    """
    if cells.empty:
        return result_frame([])
    d = cells.assign(v=cells["value"].fillna(0.0), is_num=cells["cell_status"] == NUMBER)
    cur = d[d["row"] == "carried_over"]
    prev = d[d["row"] == "carried_forward"].assign(report_year=lambda x: x["report_year"] + 1)
    pair = cur.merge(prev, on=["agency_id", "report_year", "col"], suffixes=("", "_prev"))
    if pair.empty:
        return result_frame([])
    passed = (pair["v"] - pair["v_prev"]).abs() <= TOLERANCE
    n_num = pair["is_num"].astype(int) + pair["is_num_prev"].astype(int)
    outcome, passed_or_null = _outcome(passed, n_num, pd.Series(2, index=pair.index))
    return result_frame(
        pd.DataFrame(
            {
                "report_id": pair["report_id"],
                "rule_id": "X1",
                "level": rule_level("X1"),
                "passed": passed_or_null.to_numpy(),
                "outcome": outcome.to_numpy(),
                "subject": pair["col"],
                "expected": pair["v_prev"],
                "observed": pair["v"],
                "operands": "carried_forward of report "
                + pair["report_id_prev"]
                + " ("
                + (pair["report_year"] - 1).astype(str)
                + ") = carried_over of this report",
                "cells": "application.carried_over." + pair["col"],
                "message": "X1 ["
                + pair["col"]
                + "] carried over "
                + pair["v"].map("{:g}".format)
                + " in "
                + pair["report_year"].astype(str)
                + ", carried forward "
                + pair["v_prev"].map("{:g}".format)
                + " in "
                + (pair["report_year"] - 1).astype(str)
                + np.where(passed, "", ": they differ"),
            }
        )
    )


def check(normalized: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Rule results for every report, and each report's quality status."""
    reps = normalized["reports"]
    results = evaluate(reps, normalized["cells"], normalized.get("claims"))
    status = pd.DataFrame(
        {"report_id": reps["report_id"], "quality_status": quality_status(results, reps["report_id"]).to_numpy()}
    )
    return {"results": results, "status": status}
