"""One self-contained HTML page for a report year: totals, outcome mix, rule-failure rates, agency scorecard.

The page works offline: inline CSS, inline SVG charts drawn here, no script, no font or image fetched. Links to
the source files are relative to the page, pointing into the input folder. Blank figures are shown as blank,
never as 0. Everything is read through the warehouse's view SQL (``warehouse.view_sql``), so the page can be
built over a read-only connection.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline import store as wh
from govinfo_pipeline.outputs.charts import (
    FONT_STACK,
    esc,
    grouped_bar_chart,
    missing,
    num,
    pct,
    rate_bar_chart,
    stacked_share_chart,
)
from govinfo_pipeline.parse import codebook
from govinfo_pipeline.review.queue import item_path

# Where `govinfo review` listens by default: each failed rule links to its item there.
REVIEW_DESK = "http://127.0.0.1:8765"

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
OUTCOMES = (
    ("granted", "予以公开 granted", "#009E73"),
    ("partially_granted", "部分公开 partially granted", "#56B4E9"),
    ("denied", "不予公开 denied", "#D55E00"),
    ("unable_to_provide", "无法提供 unable to provide", "#E69F00"),
    ("not_processed", "不予处理 not processed", "#CC79A7"),
    ("other_handling", "其他处理 other handling", "#0072B2"),
)


SERIES = (("applications_received", "新收 received", "#0072B2"), ("processed", "办结 processed", "#E69F00"))


LEVEL_COLOUR = {"error": "#C0392B", "warning": "#D68910"}


STATUS_ORDER = {"errors": 0, "warnings": 1, "passed": 2}


FILLED = ("number", "none", "text")  # a cell that says something (无 included); blank and absent do not


MAX_BARS = 40  # agencies per chart; the scorecard lists them all


EXTRA_RULE_TEXT = {
    "K1": "a table left entirely blank: incomplete, not zero",
    "K2": "cells missing from the report altogether",
    "K0": "the report's tables could not be read",
}


class NoReports(LookupError):
    """The warehouse holds no report for the year asked."""


@dataclass
class YearData:
    year: int
    reports: pd.DataFrame  # one row per report: figures, shares, status, completeness
    pooled: pd.Series | None  # v_outcome_rates_year for the year
    results: pd.DataFrame  # quality_results of the year's reports
    failures: pd.DataFrame  # v_rule_failures of the year's reports


def _read(conn: sa.Connection, sql: str) -> pd.DataFrame:
    return pd.read_sql(sql, conn)


def gather(engine: sa.Engine, year: int) -> YearData:
    """What the page shows, read from the warehouse."""
    y = int(year)
    views = wh.view_sql(engine)
    with engine.connect() as conn:
        rates = _read(conn, f"SELECT * FROM ({views['v_outcome_rates']}) v WHERE report_year = {y}")
        if rates.empty:
            years = _read(
                conn, "SELECT DISTINCT report_year FROM reports WHERE report_year IS NOT NULL ORDER BY report_year"
            )["report_year"].tolist()
            held = ", ".join(str(int(v)) for v in years) or "none"
            raise NoReports(f"the warehouse holds no report for {y} (years held: {held})")
        figures = _read(
            conn,
            f"SELECT report_id, applications_received, carried_over, carried_forward, "
            f"review_total, litigation_total, parse_status FROM ({views['v_agency_year']}) v "
            f"WHERE report_year = {y}",
        )
        pooled = _read(conn, f"SELECT * FROM ({views['v_outcome_rates_year']}) v WHERE report_year = {y}")
        results = _read(
            conn,
            "SELECT q.report_id, q.rule_id, q.level, q.passed, q.outcome, q.subject, q.message "
            f"FROM quality_results q JOIN reports r ON r.report_id = q.report_id "
            f"WHERE r.report_year = {y}",
        )
        cells = _read(
            conn,
            "SELECT c.report_id, c.cell_status, COUNT(*) AS n FROM report_cells c "
            f"JOIN reports r ON r.report_id = c.report_id WHERE r.report_year = {y} "
            "GROUP BY c.report_id, c.cell_status",
        )
        failures = _read(
            conn,
            f"SELECT * FROM ({views['v_rule_failures']}) v WHERE report_year = {y} "
            "ORDER BY report_id, rule_id, subject, cell_no",
        )
    reports = rates.merge(figures, on="report_id", how="left")
    filled = (
        cells.assign(filled=cells["cell_status"].isin(FILLED) * cells["n"])
        .groupby("report_id")
        .agg(cells=("n", "sum"), filled=("filled", "sum"))
    )
    reports = reports.merge(filled, left_on="report_id", right_index=True, how="left")
    reports["label"] = _labels(reports)
    reports = reports.sort_values(
        ["applications_received", "processed", "label"], ascending=[False, False, True], na_position="last"
    )
    return YearData(y, reports.reset_index(drop=True), None if pooled.empty else pooled.iloc[0], results, failures)


def _labels(reports: pd.DataFrame) -> pd.Series:
    """The agency's name; with the file's name when two reports of the year share it."""
    names = reports["agency_name"].fillna("(agency unknown)")
    dup = names.duplicated(keep=False)
    return names.where(~dup, names + " · " + reports["source_path"].map(lambda p: Path(str(p)).name))


CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: FONTS; margin: 0 auto; padding: 24px 32px 48px; max-width: 1040px; color: #1d2330;
       background: #fff; line-height: 1.5; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #e3e7ee; }
p.meta, p.note { color: #566074; margin: 4px 0; }
p.note { font-size: 13px; }
code { background: #f3f5f8; padding: 1px 4px; border-radius: 3px; font-size: 12.5px; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #e3e7ee; border-radius: 8px; padding: 10px 14px; min-width: 140px; background: #fafbfd; }
.card .k { font-size: 12px; color: #566074; }
.card .v { font-size: 22px; font-weight: 600; }
.card .s { font-size: 12px; color: #566074; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; font-family: FONTS; }
svg .cat { font-size: 13px; fill: #1d2330; }
svg .val, svg .tick, svg .legend { font-size: 12px; fill: #3b4456; }
svg .seg { font-size: 11px; fill: #fff; font-weight: 600; }
svg .blank { font-size: 12px; fill: #8a93a5; font-style: italic; }
svg .grid { stroke: #e6e9ef; stroke-width: 1; }
svg .axis { stroke: #8a93a5; stroke-width: 1; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e7ee; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
         color: #fff; white-space: nowrap; }
.badge.errors { background: #C0392B; } .badge.warnings { background: #D68910; } .badge.passed { background: #1E8449; }
.badge.other { background: #7f8c8d; }
.ok { color: #1E8449; } .bad { color: #C0392B; } .warn { color: #B9770E; } .muted { color: #8a93a5; }
ul.failures { margin: 4px 0 12px; padding-left: 18px; }
ul.failures li { margin: 2px 0; }
ul.cells { margin: 2px 0 4px; padding-left: 18px; color: #3b4456; font-size: 12.5px; }
@media print { body { padding: 0; } h2 { break-after: avoid; } svg.chart { break-inside: avoid; } }
"""


def _status_badge(status: object) -> str:
    s = "" if missing(status) else str(status)
    cls = s if s in STATUS_ORDER else "other"
    return f'<span class="badge {cls}">{esc(s or "unknown")}</span>'


def _href(source_path: str, input_dir: Path, page_dir: Path) -> str:
    """A link to the source file, relative to the page's folder (a file: URL when no relative path exists)."""
    target = (input_dir / source_path).resolve()
    try:
        rel = os.path.relpath(target, page_dir.resolve())
    except ValueError:  # another drive (Windows)
        return target.as_uri()
    return quote(Path(rel).as_posix())


def _rule_texts() -> dict[str, str]:
    return {**EXTRA_RULE_TEXT, **{rid: r["text"] for rid, r in codebook.rules().items()}}


def _outcome_counts(results: pd.DataFrame) -> dict[str, int]:
    return {k: int(v) for k, v in results["outcome"].value_counts().items()}


def _consistency_cell(res: pd.DataFrame) -> str:
    bc = res[res["rule_id"].str.match(r"^[BC]\d")]
    if bc.empty:
        return '<span class="muted">not checked</span>'
    n = _outcome_counts(bc)
    fail = n.get("fail", 0)
    if not fail and not n.get("pass", 0) and not n.get("assumed_zero", 0):
        return f'<span class="muted">nothing to check: {n.get("no_data", 0)} results without data</span>'
    head = f'<span class="bad">✘ {fail} failed</span>' if fail else '<span class="ok">✔ none failed</span>'
    rules = ", ".join(sorted(set(bc.loc[bc["outcome"] == "fail", "rule_id"])))
    detail = (
        f"{n.get('pass', 0)} pass · {n.get('assumed_zero', 0)} pass with blanks read as 0 · "
        f"{n.get('no_data', 0)} no data"
    )
    return f"{head}{f' ({esc(rules)})' if rules else ''}<br><span class='muted'>{detail}</span>"


def _prose_cell(res: pd.DataFrame) -> str:
    x6 = res[res["rule_id"] == "X6"]
    if x6.empty:
        return '<span class="muted">no figure quoted</span>'
    bad = int((x6["passed"] == False).sum())  # noqa: E712 — a NULL is not a disagreement
    if bad:
        return f'<span class="bad">✘ {bad} of {len(x6)} quotes disagree</span>'
    return f'<span class="ok">✔ {len(x6)} quotes agree</span>'


def _template_cell(res: pd.DataFrame, template: object) -> str:
    t1 = res[res["rule_id"] == "T1"]
    label = esc("unknown" if missing(template) else template)
    if t1.empty or t1["passed"].isna().all():
        return f'{label} <span class="muted">(not checked)</span>'
    if (t1["passed"] == False).any():  # noqa: E712
        return f'{label} <span class="warn">✘ not the year\'s template</span>'
    return f'{label} <span class="ok">✔</span>'


def _completeness_cell(r: pd.Series, res: pd.DataFrame) -> str:
    if missing(r.get("cells")) or not r["cells"]:
        return '<span class="muted">no cells</span>'
    share = float(r["filled"]) / float(r["cells"])
    parts = [f"{share * 100:.0f}% non-blank <span class='muted'>({int(r['filled'])}/{int(r['cells'])})</span>"]
    for rule in ("K1", "K2"):
        k = res[res["rule_id"] == rule]
        failed = sorted(set(k.loc[k["passed"] == False, "subject"].dropna()))  # noqa: E712
        if failed:
            parts.append(f'<span class="warn">✘ {rule}: {esc(", ".join(failed))}</span>')
        elif not k.empty:
            parts.append(f'<span class="ok">✔ {rule}</span>')
    return "<br>".join(parts)


def render(
    data: YearData,
    input_dir: Path,
    page_dir: Path,
    warehouse_label: str = "",
    generated_at: dt.datetime | None = None,
    max_bars: int = MAX_BARS,
    review_desk: str = REVIEW_DESK,
) -> str:
    """The page's HTML. The per-agency charts show the ``max_bars`` reports with the most applications; the
    scorecard lists every report; each failed rule links to its item on the review desk at ``review_desk``."""
    generated_at = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    reps, res, y = data.reports, data.results, data.year
    n = len(reps)
    input_abs = input_dir.resolve()
    folder_rel = (
        os.path.relpath(input_abs, page_dir.resolve())
        if input_abs.anchor == page_dir.resolve().anchor
        else str(input_abs)
    )
    status_counts = reps["quality_status"].value_counts()
    out: list[str] = []
    w = out.append
    w(
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>政府信息公开工作年度报告 {y} — govinfo report</title>\n"
        f"<style>{CSS.replace('FONTS', FONT_STACK)}</style>\n</head>\n<body>\n"
    )
    w(f"<h1>政府信息公开工作年度报告 · {y}</h1>\n")
    w(
        f'<p class="meta">{n} reports of {y} in the warehouse {esc(warehouse_label)} · generated '
        f"{generated_at.isoformat()} by <code>govinfo report</code></p>\n"
    )
    w(
        f'<p class="meta">Source files are linked relative to this page, under the input folder '
        f"<code>{esc(input_abs)}</code> (<code>{esc(folder_rel)}</code> from this page's folder). The links work "
        "while the page and that folder keep their places.</p>\n"
    )

    # -- key figures
    pooled = data.pooled
    received = reps["applications_received"]
    w('<div class="cards">')
    w(
        f'<div class="card"><div class="k">Reports 报告</div><div class="v">{n}</div><div class="s">'
        + " · ".join(f"{esc(k)} {int(v)}" for k, v in status_counts.items())
        + "</div></div>"
    )
    w(
        f'<div class="card"><div class="k">Applications received 新收</div><div class="v">'
        f'{num(received.sum(min_count=1))}</div><div class="s">{int(received.notna().sum())} of {n} reports give '
        "it</div></div>"
    )
    w(
        f'<div class="card"><div class="k">Processed 办结</div><div class="v">'
        f'{num(reps["processed"].sum(min_count=1))}</div><div class="s">{int(reps["processed"].notna().sum())} of '
        f"{n} reports give it</div></div>"
    )
    if pooled is not None:
        w(
            f'<div class="card"><div class="k">Granted 予以公开 (pooled)</div><div class="v">'
            f'{pct(pooled["granted_share"], 1)}</div><div class="s">of processed, over '
            f"{int(pooled['reports_with_applications'])} reports with applications</div></div>"
        )
    w("</div>\n")

    # -- totals
    w("<h2>Applications received and processed 收到和处理政府信息公开申请</h2>\n")
    w(
        '<p class="note">Per report, column 总计: 一、本年新收 (received) and （七）总计 (processed). A blank table '
        "is written as blank, not drawn as 0.</p>\n"
    )
    shown = reps.head(max_bars)  # reps come sorted by applications received, most first
    if len(shown) < n:
        w(
            f'<p class="note">The charts show the {len(shown)} reports with the most applications received, of {n}; '
            "the scorecard below lists every report.</p>\n"
        )
    w(
        grouped_bar_chart(
            f"Applications received and processed, {y}",
            shown["label"].tolist(),
            [(label, colour, shown[key].tolist()) for key, label, colour in SERIES],
        )
    )

    # -- outcome mix
    w("<h2>Outcome mix 办理结果</h2>\n")
    w(
        '<p class="note">Each outcome as a share of processed (v_outcome_rates). 不予公开, 无法提供 and 不予处理 sum '
        "their sub-rows. When the outcome rows do not add up to processed (rule B2), or an outcome is left blank, the "
        "gap is hatched. The first row pools the reports that processed at least one application: each outcome "
        "summed over them ÷ their processed summed.</p>\n"
    )
    rows: list[tuple[str, dict | None, str | None]] = []
    active = reps[reps["processed"] > 0]
    if len(active):
        base = float(active["processed"].sum())
        rows.append(
            (
                f"Pooled 全部 · {len(active)} reports",
                {k: active[k].sum() / base for k, _, _ in OUTCOMES},
                f"n = {num(base)}",
            )
        )
    for r in shown.itertuples():
        if missing(r.processed):
            rows.append((r.label, None, "application table blank — not reported"))
        elif r.processed == 0:
            rows.append((r.label, None, "no application processed (0)"))
        else:
            rows.append((r.label, {k: getattr(r, f"{k}_share") for k, _, _ in OUTCOMES}, f"n = {num(r.processed)}"))
    w(stacked_share_chart(f"Outcome mix, {y}", rows, OUTCOMES))

    # -- rule failure rates
    texts = _rule_texts()
    w("<h2>Rule failures 勾稽关系 — share of reports failing each rule</h2>\n")
    w(
        f'<p class="note">A report fails a rule when at least one of its results for the rule fails (for example '
        f'one column of B1). Share = reports failing ÷ the {n} reports of {y}. "Checked" counts the reports where the '
        "rule had numbers to check.</p>\n"
    )
    by_rule = []
    for (rule, level), g in res.groupby(["rule_id", "level"], sort=True):
        failing = g.loc[g["passed"] == False, "report_id"].nunique()  # noqa: E712
        checked = g.loc[g["passed"].notna(), "report_id"].nunique()
        by_rule.append((rule, level, failing, checked))
    by_rule.sort(key=lambda t: (-t[2], t[0]))
    w(
        rate_bar_chart(
            f"Share of reports failing each rule, {y}",
            [
                (
                    f"{rule} ({level})",
                    failing / n if n else 0.0,
                    LEVEL_COLOUR.get(level, "#7f8c8d"),
                    f"{failing} of {n} reports ({pct(failing / n if n else 0, 0)})",
                )
                for rule, level, failing, _ in by_rule
            ],
        )
    )
    w(
        '<table><thead><tr><th>rule</th><th>level</th><th>what it checks</th><th class="num">reports failing</th>'
        '<th class="num">checked</th><th class="num">share failing</th></tr></thead><tbody>\n'
    )
    for rule, level, failing, checked in sorted(by_rule, key=lambda t: t[0]):
        w(
            f"<tr><td>{esc(rule)}</td><td>{esc(level)}</td><td>{esc(texts.get(rule, ''))}</td>"
            f'<td class="num">{failing}</td><td class="num">{checked}</td>'
            f'<td class="num">{pct(failing / n if n else 0, 0)}</td></tr>\n'
        )
    w("</tbody></table>\n")

    # -- scorecard
    w("<h2>Agency scorecard 机关评分</h2>\n")
    w(
        '<p class="note"><b>Completeness</b>: cells that say something (a number, 无, or text) ÷ the template\'s '
        "cells; K1 = a table left entirely blank, K2 = cells missing altogether. <b>Consistency</b>: the template's "
        'arithmetic rules B1–B4 and C1–C4 (a pass "with blanks read as 0" holds only thanks to blank cells). '
        "<b>Prose vs table</b>: X6, each figure the prose quotes against its table cell. <b>Template</b>: T1, the "
        "template matches the year.</p>\n"
    )
    w(
        "<table><thead><tr><th>agency 机关</th><th>status</th><th>completeness</th><th>consistency (B/C)</th>"
        "<th>prose vs table (X6)</th><th>template (T1)</th><th>source file</th></tr></thead><tbody>\n"
    )
    order = reps.assign(_s=reps["quality_status"].map(STATUS_ORDER).fillna(3)).sort_values(["_s", "label"])
    for _, r in order.iterrows():
        mine = res[res["report_id"] == r["report_id"]]
        href = _href(str(r["source_path"]), input_dir, page_dir)
        w(
            f"<tr><td>{esc(r['label'])}</td><td>{_status_badge(r['quality_status'])}</td>"
            f"<td>{_completeness_cell(r, mine)}</td><td>{_consistency_cell(mine)}</td><td>{_prose_cell(mine)}</td>"
            f"<td>{_template_cell(mine, r['template_version'])}</td>"
            f'<td><a href="{esc(href)}">{esc(r["source_path"])}</a></td></tr>\n'
        )
    w("</tbody></table>\n")

    # -- failures in detail
    w("<h2>Failed rules, with their cells 不通过的规则</h2>\n")
    fails = data.failures
    if fails.empty:
        w('<p class="note">No rule failed.</p>\n')
    for rid, g in fails.groupby("report_id", sort=False):
        r = reps[reps["report_id"] == rid]
        label = r["label"].iloc[0] if len(r) else rid
        href = _href(str(g["source_path"].iloc[0]), input_dir, page_dir)
        w(
            f'<p><b>{esc(label)}</b> — <a href="{esc(href)}">{esc(g["source_path"].iloc[0])}</a></p>'
            '<ul class="failures">\n'
        )
        for _, f in g.groupby(["rule_id", "subject", "message"], sort=False, dropna=False):
            first = f.iloc[0]
            w(
                f'<li><span class="{"bad" if first["level"] == "error" else "warn"}">{esc(first["rule_id"])} '
                f"({esc(first['level'])})</span> {esc(first['message'])}"
            )
            subject = None if missing(first["subject"]) else str(first["subject"])
            review = review_desk + item_path(str(rid), str(first["rule_id"]), subject)
            w(f' <a class="review" href="{esc(review)}">review</a>')
            cells = f[f["cell_status"].notna()]
            shown = cells[cells["cell_status"] == "number"]
            shown = (shown if len(shown) else cells).head(8)
            if len(shown):
                w('<ul class="cells">')
                for c in shown.itertuples():
                    line = "" if missing(c.source_line) else f" (line {int(c.source_line)})"
                    w(f"<li><code>{esc(c.cell_code)}</code> = <code>{esc(repr(c.raw_text))}</code>{line}</li>")
                if len(cells) > len(shown):
                    w(f'<li class="muted">… and {len(cells) - len(shown)} more cells</li>')
                w("</ul>")
            w("</li>\n")
        w("</ul>\n")
    w(
        '<p class="note">Blank, 无 and absent cells are never read as 0 in the figures above; the rules read them as 0 '
        "only to check arithmetic, and say so. Built from the warehouse views v_outcome_rates, "
        "v_outcome_rates_year, v_agency_year and v_rule_failures.</p>\n"
    )
    w("</body>\n</html>\n")
    return "".join(out)


def write_report(engine: sa.Engine, year: int, out: Path, input_dir: Path, warehouse_label: str = "") -> Path:
    """Build the page for ``year`` and write it to ``out`` (UTF-8)."""
    data = gather(engine, year)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data, Path(input_dir), out.parent, warehouse_label), encoding="utf-8")
    return out
