#!/usr/bin/env python3
"""Check the hand-written ``*.expected.yaml`` files of the corpus against the codebook and the fixtures.

This is a proof-reading aid for the people who write expected files, not a parser and not a test of
govinfo_pipeline. It checks, for every expected file:

  * it parses with ``yaml.safe_load``, has the required keys, and names a fixture that exists;
  * its cells are exactly the template's cells (198 for 2019, 200 for 2021, none for 'unknown'), each
    written in the notation of ``govinfo_pipeline_tests/expected/*.yaml`` (number, [number, unit], blank,
    none, absent, {text: raw});
  * the failures listed under ``arithmetic.failures`` are exactly the B1-B3 / C1-C3 failures of those cells;
  * the cells agree with the report content that make_corpus.py wrote (except where a listed flag says the
    fixture changed them: absent, missing_cell, merged_cells, unsplittable);
  * provenance points at the right text: table/row/col in a .docx (python-docx Table.cell indexes) or an
    HTML page (grid indexes after rowspan/colspan), the line (and offset) in text, the page of a PDF;
  * for glued flat text, which cells split only with the totals (``inferred_split``) and which cannot be
    split with certainty (``unsplittable``), by enumerating every split.

Needs PyYAML; python-docx and lxml are used when installed (see make_corpus.py), pdftotext for PDFs.
Run: /tmp/corpus-venv/bin/python govinfo_pipeline_tests/corpus/check_corpus.py
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CODEBOOK = HERE.parents[1] / "govinfo_pipeline" / "codebook.yaml"
REQUIRED = [
    "file",
    "agency_name",
    "report_year",
    "template_version",
    "title",
    "sections",
    "cells",
    "parse_status",
    "source_format",
    "provenance",
]
FORMATS = {"pdf", "html", "docx", "text"}


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_corpus", HERE / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


MC = _load_maker()


@functools.cache
def codebook() -> dict:
    return yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))


def template_cells(template: str) -> list[tuple[str, str, str]]:
    cb = codebook()
    out = []
    for r in cb["proactive"][template]:
        out += [("proactive", r["row"], c) for c in r["cols"]]
    cols = [c["col"] for c in cb["application_cols"]]
    for r in cb["application_rows"]:
        if template in r.get("templates", ["2019", "2021"]):
            out += [("application", r["row"], c) for c in cols]
    rcols = [c["col"] for c in cb["review_litigation_cols"]]
    for r in cb["review_litigation_rows"]:
        out += [("review_litigation", r["row"], c) for c in rcols]
    return out


def flatten_cells(doc: dict) -> dict[str, object]:
    """'section.row.col' -> token, from the notation."""
    out: dict[str, object] = {}
    cells = doc["cells"] or {}
    for row, cols in (cells.get("proactive") or {}).items():
        for col, tok in cols.items():
            out[f"proactive.{row}.{col}"] = tok
    for row, vals in (cells.get("application") or {}).items():
        assert len(vals) == 7, row
        for col, tok in zip(MC.APP_COLS, vals, strict=True):
            out[f"application.{row}.{col}"] = tok
    for row, vals in (cells.get("review_litigation") or {}).items():
        assert len(vals) == 5, row
        for col, tok in zip(MC.REVIEW_COLS, vals, strict=True):
            out[f"review_litigation.{row}.{col}"] = tok
    return out


def token_ok(tok) -> bool:
    if tok in ("blank", "none", "absent"):
        return True
    if isinstance(tok, bool):
        return False
    if isinstance(tok, int | float):
        return True
    if isinstance(tok, list):
        return len(tok) == 2 and isinstance(tok[0], int | float) and tok[1] in ("元", "万元", None)
    if isinstance(tok, dict):
        return set(tok) == {"text"} and isinstance(tok["text"], str)
    return False


def num(tok) -> float:
    """Blank, none, absent and text read as 0 for the arithmetic."""
    if isinstance(tok, list):
        return tok[0]
    return tok if isinstance(tok, int | float) and not isinstance(tok, bool) else 0


def rule_failures(cells: dict[str, object], template: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(failures, not checkable): a rule with a text cell among its operands cannot be checked."""
    rows = MC.app_row_codes(template)
    outcome = [r for r in rows if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
    fails, unchecked = set(), set()

    def judge(rule, subject, keys, ok):
        if any(isinstance(cells[k], dict) for k in keys):
            unchecked.add((rule, subject))
        elif not ok:
            fails.add((rule, subject))

    def a(r, c):
        return num(cells[f"application.{r}.{c}"])

    for c in MC.APP_COLS:
        flow = ["new_received", "carried_over", "total_processed", "carried_forward"]
        judge(
            "B1",
            c,
            [f"application.{r}.{c}" for r in flow],
            a("new_received", c) + a("carried_over", c) == a("total_processed", c) + a("carried_forward", c),
        )
        judge(
            "B2",
            c,
            [f"application.{r}.{c}" for r in outcome + ["total_processed"]],
            a("total_processed", c) == sum(a(r, c) for r in outcome),
        )
    for r in rows:
        judge(
            "B3",
            r,
            [f"application.{r}.{c}" for c in MC.APP_COLS],
            a(r, "total") == sum(a(r, c) for c in MC.APP_COLS[:6]),
        )
    for rule, r in zip(("C1", "C2", "C3"), MC.REVIEW_ROWS, strict=True):
        keys = [f"review_litigation.{r}.{c}" for c in MC.REVIEW_COLS]
        v = [num(cells[k]) for k in keys]
        judge(rule, r, keys, v[4] == sum(v[:4]))
    return fails, unchecked


# ---- what the content says a cell is ------------------------------------------------------------
def interpret(raw: str, col: str):
    """The token a correct reading of a cell's text gives."""
    s = raw.strip().replace("\u00a0", "").replace("\u3000", "")
    if s == "":
        return "blank"
    if s in ("无", "/", "—", "-", "－"):
        return "none"
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)(（增）|（减）)?(万元|元)?", s)
    if not m:
        return {"text": raw}
    sign, digits, delta, unit = m.groups()
    value = float(digits) if "." in digits else int(digits)
    if sign == "-" or delta == "（减）":
        value = -value
    if col in ("procurement_amount",):
        return [value, unit]
    if col == "fee_amount":
        return [value, unit or "万元"]
    return value


def content_cells(rep) -> dict[str, tuple[str, object]]:
    """'section.row.col' -> (raw, token) from make_corpus's report content."""
    out = {}
    blocks = MC.P19 if rep.template == "2019" else MC.P21
    for clause, _, rows, cols in blocks:
        for code, _ in rows:
            for col, raw in zip(cols, rep.proactive.get(code, [None] * len(cols)), strict=True):
                key = f"proactive.{code}.{col}"
                if clause in rep.omit_blocks or raw is None:
                    out[key] = ("", "absent")
                else:
                    out[key] = (raw, interpret(raw, col))
    for row, vals in rep.application.items():
        for col, raw in zip(MC.APP_COLS, vals, strict=True):
            out[f"application.{row}.{col}"] = (raw, interpret(raw, col))
    codes = [f"review_litigation.{r}.{c}" for r in MC.REVIEW_ROWS for c in MC.REVIEW_COLS]
    for key, raw in zip(codes, rep.review, strict=True):
        out[key] = (raw, interpret(raw, key.rsplit(".", 1)[1]))
    return out


# ---- glued digits ---------------------------------------------------------------------------
KIND_PATTERNS = {
    "count": re.compile(r"0|[1-9]\d*"),
    "signed_count": re.compile(r"[+-]?(0|[1-9]\d*)(（增）|（减）)?"),
    "money": re.compile(r"(0|[1-9]\d*)(\.\d+)?(万元|元)?"),
}


def col_kind(col: str) -> str:
    return codebook()["proactive_cols"].get(col, {}).get("kind", "count")


def splits(run: str, kinds: list[str]) -> list[tuple[str, ...]]:
    """Every way to cut ``run`` into one cell per entry of ``kinds``: a numeral of that kind (no leading
    zero; a sign or 增/减 only in a signed column; decimals and a unit only in a money column), NBSP (a blank
    cell), or 无 / '/' (a none cell)."""

    @functools.cache
    def go(i: int, k: int) -> tuple[tuple[str, ...], ...]:
        if i == len(run):
            return ((),) if k == len(kinds) else ()
        if k == len(kinds):
            return ()
        res = []
        if run[i] in "\u00a0无/":
            res += [(run[i],) + rest for rest in go(i + 1, k + 1)]
        for j in range(i + 1, len(run) + 1):
            if KIND_PATTERNS[kinds[k]].fullmatch(run[i:j]):
                res += [(run[i:j],) + rest for rest in go(j, k + 1)]
        return tuple(res)

    return list(go(0, 0))


def _v(cell: str) -> int:
    return int(cell) if cell.isdigit() else 0


def flat_runs(line: str, rep) -> dict[str, tuple[int, str]]:
    """row key -> (offset, glued run) for every table row of the flat text, found by the row labels."""
    labels: list[tuple[str, list[str], int]] = []  # (row key, label parts, ncells)
    blocks = MC.P19 if rep.template == "2019" else MC.P21
    for clause, _, rows, cols in blocks:
        if clause in rep.omit_blocks:
            continue
        for code, label in rows:
            labels.append((f"proactive.{code}", [label], len(cols)))
    labels.append(("application.new_received", ["一、本年新收政府信息公开申请数量"], 7))
    labels.append(("application.carried_over", ["二、上年结转政府信息公开申请数量"], 7))
    seen = set()
    for i, (group, code, label) in enumerate(MC.result_rows(rep.template)):
        parts = [MC.RESULT_GROUP] if i == 0 else []
        if group and group not in seen:
            seen.add(group)
            parts.append(group)
        labels.append((f"application.{code}", parts + [label], 7))
    labels.append(("application.carried_forward", ["四、结转下年度继续办理"], 7))
    labels.append(("review_litigation", ["尚未审结总计结果维持结果纠正其他结果尚未审结总计"], 15))
    out = {}
    pos = line.index("二、主动公开政府信息情况") if "二、主动公开政府信息情况" in line else 0
    found = []
    for key, parts, n in labels:
        for p in parts:
            pos = line.index(p, pos)
            start_of_label = pos
            pos += len(p)
        found.append((key, start_of_label - (sum(len(p) for p in parts[:-1])), pos, n))
    for idx, (key, _, end, _) in enumerate(found):
        if idx + 1 < len(found):
            nxt = found[idx + 1][1]
            # a label may sit after the group-header texts of the next block ("第二十条…信息内容…")
            stop = nxt
            block = re.search(r"第二十条第|[一二三四五六]、", line[end:nxt])
            if block:
                stop = end + block.start()
        else:
            m = re.match(r"[\d\u00a0无/]+", line[end:])
            stop = end + (m.end() if m else 0)
        out[key] = (end, line[end:stop])
    return out


def classify_flat(line: str, rep) -> tuple[dict[str, dict], dict[str, str]]:
    """Per row: 'count' (one split by digit count alone), 'inferred' (several splits, one left by the
    totals) or 'ambiguous'; and the resolved value strings for the rows that are not ambiguous."""
    runs = flat_runs(line, rep)
    cand: dict[str, list[tuple[str, ...]]] = {}
    for key, (_, run) in runs.items():
        if key == "review_litigation":
            kinds = ["count"] * 15
        elif key.startswith("application"):
            kinds = ["count"] * 7
        else:
            blocks = MC.P19 if rep.template == "2019" else MC.P21
            cols = next(b[3] for b in blocks if any(f"proactive.{c}" == key for c, _ in b[2]))
            kinds = [col_kind(c) for c in cols]
        cand[key] = splits(run, kinds)
        assert cand[key], (key, run)
    raw_counts = {k: len(v) for k, v in cand.items()}
    # row totals (B3) and C1-C3
    filt = {}
    for key, cs in cand.items():
        if key.startswith("application"):
            cs = [c for c in cs if _v(c[6]) == sum(_v(x) for x in c[:6])]
        elif key == "review_litigation":
            cs = [c for c in cs if all(_v(c[5 * k + 4]) == sum(_v(x) for x in c[5 * k : 5 * k + 4]) for k in range(3))]
        filt[key] = cs
    # column rules (B1, B2) jointly over the application rows
    app = [k for k in filt if k.startswith("application")]
    rows = [k.split(".")[1] for k in app]
    outcome = [r for r in rows if r not in ("new_received", "carried_over", "total_processed", "carried_forward")]
    choices = [filt[k] for k in app]
    size = 1
    for c in choices:
        size *= len(c)
    assert size <= 2_000_000, size

    def columns_hold(vals: dict[str, tuple[str, ...]]) -> bool:
        for c in range(7):
            col = {r: _v(v[c]) for r, v in vals.items()}
            if col["new_received"] + col["carried_over"] != col["total_processed"] + col["carried_forward"]:
                return False
            if col["total_processed"] != sum(col[r] for r in outcome):
                return False
        return True

    sols = [combo for combo in itertools.product(*choices) if columns_hold(dict(zip(rows, combo, strict=True)))]
    assert sols, "no split satisfies the rules"
    result = {}
    for key, cs in filt.items():
        if key in app:
            options = {s[app.index(key)] for s in sols}
        else:
            options = set(cs)
        if raw_counts[key] == 1:
            kind = "count"
        elif len(options) == 1:
            kind = "inferred"
        else:
            kind = "ambiguous"
        result[key] = {"kind": kind, "options": sorted(options), "offset": runs[key][0], "run": runs[key][1]}
    return result, runs


# ---- per-format provenance ------------------------------------------------------------------
def docx_cell_text(path: Path, table: int, row: int, col: int) -> str:
    import docx

    return docx.Document(str(path)).tables[table].cell(row, col).text


def html_grids(path: Path) -> list[list[list[str | None]]]:
    from lxml import html as lhtml

    page = path.read_text(encoding="utf-8")
    m = re.search(r"var content = (\".*?\");\n", page, re.S)
    if m:
        page = json.loads(m.group(1).replace("<\\/", "</"))
    tree = lhtml.fromstring(page)
    grids = []
    for t in tree.iter("table"):
        taken: dict[tuple[int, int], str] = {}
        g: list[list[str | None]] = []
        for r, tr in enumerate(t.iter("tr")):
            c = 0
            for td in tr:
                if td.tag not in ("td", "th"):
                    continue
                while (r, c) in taken:
                    c += 1
                rs, cs = int(td.get("rowspan", 1)), int(td.get("colspan", 1))
                text = td.text_content()
                for dr in range(rs):
                    for dc in range(cs):
                        taken[(r + dr, c + dc)] = text if (dr, dc) == (0, 0) else ""
                c += cs
        nr = 1 + max(k[0] for k in taken) if taken else 0
        nc = 1 + max(k[1] for k in taken) if taken else 0
        for r in range(nr):
            g.append([taken.get((r, c)) for c in range(nc)])
        grids.append(g)
    return grids


def pdf_page_text(path: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


# ---- the checks -----------------------------------------------------------------------------
def expected_raw(key: str, tok, raw_text: dict) -> str | None:
    if key in raw_text:
        return raw_text[key]
    if isinstance(tok, int) and not isinstance(tok, bool) and tok >= 0:
        return str(tok)
    return None


def check(path: Path, manifest_agencies: dict[str, str]) -> list[str]:
    errs: list[str] = []
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for k in REQUIRED:
        if k not in doc:
            errs.append(f"missing key {k}")
    fixture = path.parent / doc["file"]
    if not fixture.exists():
        errs.append(f"fixture {doc['file']} not found")
    if path.name != Path(doc["file"]).stem + ".expected.yaml":
        errs.append("expected file is not named <fixture stem>.expected.yaml")
    if doc["source_format"] not in FORMATS:
        errs.append(f"source_format {doc['source_format']}")
    if doc["parse_status"] not in ("parsed", "partial", "failed"):
        errs.append(f"parse_status {doc['parse_status']}")
    tmpl = doc["template_version"]
    cells = flatten_cells(doc)
    flags = doc.get("flags") or {}
    if tmpl == "unknown":
        if cells:
            errs.append("an 'unknown' report has cells")
        return errs
    want = {".".join(c) for c in template_cells(tmpl)}
    if set(cells) != want:
        errs.append(
            f"cell codes differ: missing {sorted(want - set(cells))[:5]}, extra {sorted(set(cells) - want)[:5]}"
        )
    n = {"2019": 198, "2021": 200}[tmpl]
    if len(cells) != n:
        errs.append(f"{len(cells)} cells, want {n}")
    for k, tok in cells.items():
        if not token_ok(tok):
            errs.append(f"bad token {k}: {tok!r}")
    raw_text = doc.get("raw_text") or {}
    for k in raw_text:
        if k not in cells:
            errs.append(f"raw_text for unknown cell {k}")
    # the arithmetic
    arith = doc.get("arithmetic") or {}
    listed = {(f["rule"], f["subject"]) for f in arith.get("failures", [])}
    listed_unchecked = {(f["rule"], f["subject"]) for f in arith.get("not_checkable", [])}
    got, unchecked = rule_failures(cells, tmpl)
    if listed != got:
        errs.append(f"arithmetic failures listed {sorted(listed)} but the cells give {sorted(got)}")
    if listed_unchecked != unchecked:
        errs.append(
            f"arithmetic.not_checkable listed {sorted(listed_unchecked)} but text cells make {sorted(unchecked)}"
        )
    # against the content make_corpus wrote
    rep = MC.REPORTS[doc["content"]]
    truth = content_cells(rep)
    changed = set()
    for name in ("absent", "missing_cell", "merged_cells", "unsplittable"):
        changed |= set(flags.get(name) or [])
    for k in want:
        raw, tok = truth[k]
        if k in changed:
            continue
        if cells.get(k) != tok:
            errs.append(f"{k}: expected file says {cells.get(k)!r}, the content is {raw!r} -> {tok!r}")
        elif (
            k in raw_text
            and raw_text[k] != raw
            and doc["source_format"] in ("docx", "html")
            and not (raw == "" and raw_text[k] in ("", "\u00a0"))
        ):
            errs.append(f"{k}: raw_text {raw_text[k]!r}, the content wrote {raw!r}")
    for k in flags.get("unsplittable") or []:
        if not isinstance(cells.get(k), dict):
            errs.append(f"{k} is unsplittable but not a text cell")
    for k in flags.get("absent") or []:
        if cells.get(k) != "absent":
            errs.append(f"{k} flagged absent but written {cells.get(k)!r}")
    # the agency
    if doc["file"] in manifest_agencies and doc["agency_name"] != manifest_agencies[doc["file"]]:
        errs.append("agency_name differs from manifest.csv")
    # provenance
    prov = doc.get("provenance") or {}
    fmt = doc["source_format"]
    try:
        if fmt == "docx":
            for k, p in prov.items():
                txt = docx_cell_text(fixture, p["table"], p["row"], p["col"])
                exp = expected_raw(k, cells.get(k), raw_text)
                if exp is not None and txt != exp:
                    errs.append(f"provenance {k} {p}: docx cell holds {txt!r}, want {exp!r}")
        elif fmt == "html":
            grids = html_grids(fixture)
            for k, p in prov.items():
                g = grids[p["table"]]
                txt = g[p["row"]][p["col"]] if p["row"] < len(g) and p["col"] < len(g[p["row"]]) else None
                exp = expected_raw(k, cells.get(k), raw_text)
                if cells.get(k) == "absent":
                    if txt is not None:
                        errs.append(f"provenance {k} {p}: html has {txt!r} where the cell is missing")
                elif exp is not None and txt != exp:
                    errs.append(f"provenance {k} {p}: html cell holds {txt!r}, want {exp!r}")
        elif fmt == "text":
            lines = fixture.read_text(encoding="utf-8").split("\n")
            for k, p in prov.items():
                line = lines[p["line"] - 1]
                exp = expected_raw(k, cells.get(k), raw_text)
                if "offset" in p:
                    if exp is not None and line[p["offset"] : p["offset"] + len(exp)] != exp:
                        errs.append(f"provenance {k} {p}: text there is {line[p['offset'] : p['offset'] + 12]!r}")
                elif exp is not None and exp not in line:
                    errs.append(f"provenance {k} {p}: line {p['line']} is {line!r}, no {exp!r}")
            for k, ln in (doc.get("source_lines") or {}).items():
                exp = expected_raw(k, cells.get(k), raw_text)
                if exp and exp not in lines[ln - 1]:
                    errs.append(f"source_lines {k}: line {ln} is {lines[ln - 1][:60]!r}, no {exp!r}")
            for no, s in (doc.get("sections") or {}).items():
                if "line" in s and s["heading"] not in lines[s["line"] - 1]:
                    errs.append(f"section {no}: line {s['line']} is {lines[s['line'] - 1]!r}")
        elif fmt == "pdf" and shutil.which("pdftotext"):
            for k, p in prov.items():
                text = pdf_page_text(fixture, p["page"])
                exp = expected_raw(k, cells.get(k), raw_text)
                probe = p.get("probe")
                if probe and probe not in text:
                    errs.append(f"provenance {k}: {probe!r} not on page {p['page']}")
                if exp and exp not in text.replace(" ", ""):
                    errs.append(f"provenance {k}: {exp!r} not on page {p['page']}")
            for no, s in (doc.get("sections") or {}).items():
                if "page" in s and s["heading"] not in pdf_page_text(fixture, s["page"]).replace(" ", ""):
                    errs.append(f"section {no}: {s['heading']} not on page {s['page']}")
    except ImportError as exc:
        print(f"  (skipped provenance: {exc})")
    # glued flat text
    if doc.get("flat"):
        line = fixture.read_text(encoding="utf-8").split("\n")[0]
        result, _ = classify_flat(line, rep)
        inferred, ambiguous = set(), set()
        for key, r in result.items():
            if key == "review_litigation":
                keys = [f"review_litigation.{a}.{b}" for a in MC.REVIEW_ROWS for b in MC.REVIEW_COLS]
            elif key.startswith("application"):
                keys = [f"{key}.{c}" for c in MC.APP_COLS]
            else:
                blocks = MC.P19 if rep.template == "2019" else MC.P21
                cols = next(b[3] for b in blocks if any(f"proactive.{c}" == key for c, _ in b[2]))
                keys = [f"{key}.{c}" for c in cols]
            if r["kind"] == "inferred":
                inferred |= set(keys)
            elif r["kind"] == "ambiguous":
                ambiguous |= set(keys)
                for kk in keys:
                    if cells.get(kk) != {"text": r["run"]}:
                        errs.append(f"{kk}: unsplittable run {r['run']!r} should be {{text: {r['run']!r}}}")
        if set(flags.get("inferred_split") or []) != inferred:
            errs.append(f"inferred_split should be {sorted(inferred)}")
        if set(flags.get("unsplittable") or []) != ambiguous:
            errs.append(f"unsplittable should be {sorted(ambiguous)}")
    return errs


def read_manifests() -> dict[str, str]:
    import csv

    out = {}
    for m in HERE.glob("*/manifest.csv"):
        with m.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out[row["path"]] = row["agency"]
    return out


def main() -> int:
    manifests = read_manifests()
    bad = good = 0
    files = sorted(HERE.glob("*/*.expected.yaml"))
    for p in files:
        errs = check(p, manifests)
        print(("FAIL " if errs else "ok   ") + str(p.relative_to(HERE)))
        for e in errs:
            print("     -", e)
        bad += bool(errs)
        good += not errs
    fixtures = [f for f in HERE.glob("*/*") if not f.name.endswith(".expected.yaml") and f.name != "manifest.csv"]
    for f in fixtures:
        if not (f.parent / (f.stem + ".expected.yaml")).exists():
            print(f"FAIL {f.relative_to(HERE)} has no expected file")
            bad += 1
    print(f"{good} expected files passed, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
