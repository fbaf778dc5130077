"""Field-level accuracy over the format corpus: cells correct out of cells expected, per format.

    make accuracy        # or: .venv/bin/python -m govinfo_pipeline_tests.corpus_accuracy

Expected cells were written by hand from each document (``corpus/**/*.expected.yaml``). A cell is
*correct* when value, unit and status match; *flagged* when the parser marked it as not read
(status ``text`` or ``absent``, or its report ``partial``/``failed``); anything else is *silently
wrong* — the one outcome that must never happen on a damaged document.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import codebook, sources
from govinfo_pipeline.synth import damage
from govinfo_pipeline.synth import generator as synth

CORPUS = Path(__file__).parent / "corpus"
FORMAT_OF = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".md": "markdown", ".txt": "text"}


def expected_files() -> list[tuple[Path, dict]]:
    out = []
    for p in sorted(CORPUS.glob("*/*.expected.yaml")):
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        out.append((p.parent / doc["file"], doc))
    return out


def expected_cells(doc: dict) -> dict[tuple[str, str, str], tuple[float | None, str | None, str]]:
    template = doc["template_version"]
    if template == "unknown":
        return {}
    app_cols = [c["col"] for c in codebook.load()["application_cols"]]
    rev_cols = [c["col"] for c in codebook.load()["review_litigation_cols"]]
    out = {}

    def put(key, token):
        unit = None
        if isinstance(token, list):
            token, unit = token
        if token in ("blank", "none", "absent"):
            out[key] = (None, None, token)
        elif isinstance(token, dict):
            out[key] = (None, None, "text")
        else:
            out[key] = (float(token), unit, "number")

    cells = doc["cells"]
    for row, cols in (cells.get("proactive") or {}).items():
        for col, token in cols.items():
            put(("proactive", row, col), token)
    for row, values in (cells.get("application") or {}).items():
        for col, token in zip(app_cols, values, strict=True):
            put(("application", row, col), token)
    for row, values in (cells.get("review_litigation") or {}).items():
        for col, token in zip(rev_cols, values, strict=True):
            put(("review_litigation", row, col), token)
    return out


def damaged(doc: dict) -> bool:
    return bool(doc.get("flags")) or doc.get("parse_status") != "parsed"


def scanned(files: list[tuple[Path, dict]], folder: Path) -> list[tuple[Path, dict]]:
    """Scanned renderings (``synth/scan.py``: skewed, noisy, JPEG, no text layer) of the corpus PDFs, written
    under ``folder`` with the same names, each with its hand-written expectations."""
    import random

    from govinfo_pipeline.synth.scan import scan

    out = []
    for i, (path, doc) in enumerate(p for p in files if p[0].suffix == ".pdf"):
        target = folder / path.name
        target.write_bytes(scan(path.read_bytes(), random.Random(DAMAGE_SEED + i)))
        out.append((target, doc))
    return out


META = ("agency_name", "report_year", "template_version")


def meta_stats(reports: Any, expected: dict[str, dict]) -> dict[str, Any]:
    """Reports (a ``reports`` frame) whose agency, year and template are those expected (source path -> the
    three fields, as written by hand or built by the generator): how many of each, and the misses."""
    got = reports.set_index("source_path")
    s: dict[str, Any] = {"reports": len(expected), **dict.fromkeys(META, 0), "misses": []}
    for path, want in expected.items():
        row = got.loc[path] if path in got.index else None
        for field in META:
            have = None if row is None else row[field]
            if have == want[field]:
                s[field] += 1
            else:
                s["misses"].append({"file": path, "field": field, "expected": want[field], "got": have})
    return s


def evaluate(files: list[tuple[Path, dict]] | None = None, label: str | None = None) -> tuple[dict, list[dict]]:
    """Per (format, well-formed|damaged): expected, correct, flagged, silently wrong; plus each miss. ``label``
    names the format instead (the scanned renderings)."""
    stats, misses, _ = evaluate_with_meta(files, label)
    return stats, misses


def evaluate_with_meta(
    files: list[tuple[Path, dict]] | None = None, label: str | None = None
) -> tuple[dict, list[dict], dict]:
    """``evaluate``, and per format ``meta_stats`` of the same reports."""
    files = files or expected_files()
    reports = []
    folders = sorted({p.parent for p, _ in files})
    parsed: dict[str, dict] = {}
    for folder in folders:
        raw = sources.read_files(sources.discover(folder), manifest=sources.read_manifest(folder))
        out = parse_batch.normalize(raw)
        reports.append(out["reports"])
        reps = out["reports"].set_index("report_id")
        for rid, grp in out["cells"].groupby("report_id"):
            parsed[reps.at[rid, "source_path"]] = {"report": reps.loc[rid], "cells": grp}
        for rid in set(reps.index) - set(out["cells"]["report_id"]):
            parsed[reps.at[rid, "source_path"]] = {"report": reps.loc[rid], "cells": out["cells"].iloc[0:0]}
    stats: dict = defaultdict(lambda: {"expected": 0, "correct": 0, "flagged": 0, "wrong": 0})
    misses = []
    for path, doc in files:
        kind = (label or FORMAT_OF[path.suffix], "damaged" if damaged(doc) else "well-formed")
        got = parsed.get(path.name)
        want = expected_cells(doc)
        cells = {} if got is None else {(c.section, c.row, c.col): c for c in got["cells"].itertuples()}
        report_flagged = got is None or got["report"]["parse_status"] != "parsed"
        for key, (value, unit, status) in want.items():
            s = stats[kind]
            s["expected"] += 1
            c = cells.get(key)
            ok = (
                c is not None
                and c.cell_status == status
                and (c.unit if isinstance(c.unit, str) else None) == unit
                and (c.value == value if value is not None else c.value != c.value or c.value is None)
            )
            if ok:
                s["correct"] += 1
            elif c is None or c.cell_status in ("text", "absent") or report_flagged:
                s["flagged"] += 1
            else:
                s["wrong"] += 1
                misses.append(
                    {
                        "file": path.name,
                        "cell": ".".join(key),
                        "expected": (value, unit, status),
                        "got": (c.value, c.unit, c.cell_status, c.raw_text),
                    }
                )
    every = pd.concat(reports, ignore_index=True)
    meta = {}
    for fmt in sorted({label or FORMAT_OF[p.suffix] for p, _ in files}):
        want = {p.name: {f: d[f] for f in META} for p, d in files if (label or FORMAT_OF[p.suffix]) == fmt}
        meta[fmt] = meta_stats(every[every["source_path"].isin(want)], want)
    return dict(stats), misses, meta


DAMAGE_REPORTS = 40  # per damage kind
DAMAGE_SEED = 20260
ORIGINAL = "txt"  # the undamaged dump the damage starts from, measured alike
SCAN_REPORTS = 2  # pdf-scan (synth/scan.py): OCR takes seconds a page, so a few reports only


def damage_stats(fmt: str, n: int = DAMAGE_REPORTS, seed: int = DAMAGE_SEED) -> dict[str, Any]:
    """The synthetic damage corpus of one kind against the generator's oracle: cells expected, exact (value,
    unit and status as the oracle says), flagged (not exact, read as ``text`` or ``absent``) and wrong (any
    other miss: a number that differs, or a blank/none where the oracle has something else); ``wrong_numbers``
    counts the cells read as a number whose value or unit differs from the oracle. Also the misses."""
    with tempfile.TemporaryDirectory(prefix=f"damage-{fmt}-") as tmp:
        folder = Path(tmp)
        synth.write_corpus(folder, n, seed=seed, formats=(fmt,))
        oracle = synth.load_oracle(folder / synth.ORACLE_NAME)
        raw = sources.read_files([f for f in sources.discover(folder) if f.rel != synth.ORACLE_NAME])
        out = parse_batch.normalize(raw, workers=1)
    want = {name: {f: f_meta[f] for f in META} for name, f_meta in oracle["files"].items()}
    return oracle_stats(oracle, out["cells"], n) | {"meta": meta_stats(out["reports"], want)}


def oracle_stats(oracle: dict[str, Any], cells: Any, n: int | None = None) -> dict[str, Any]:
    """The cells read (a ``report_cells`` frame) against the generator's oracle: see ``damage_stats``."""
    by_id = {rid: grp for rid, grp in cells.groupby("report_id")}
    s: dict[str, Any] = {
        "reports": len(oracle["files"]) if n is None else n,
        "expected": 0,
        "exact": 0,
        "flagged": 0,
        "wrong": 0,
        "wrong_numbers": 0,
    }
    misses: list[dict[str, Any]] = []
    for name, f in oracle["files"].items():
        grp = by_id.get(f["report_id"])
        got = {} if grp is None else {(c.section, c.row, c.col): c for c in grp.itertuples()}
        for code, (value, unit, status, raw_text) in zip(
            oracle["cell_codes"][f["template_version"]], f["cells"], strict=True
        ):
            s["expected"] += 1
            c = got.get(tuple(code))
            got_unit = None if c is None or not isinstance(c.unit, str) else c.unit
            got_value = None if c is None or c.value != c.value else c.value
            if c is not None and c.cell_status == status and got_unit == unit and got_value == value:
                s["exact"] += 1
                continue
            if c is None or c.cell_status in ("text", "absent"):
                s["flagged"] += 1
                continue
            s["wrong"] += 1
            s["wrong_numbers"] += c.cell_status == "number"
            misses.append(
                {
                    "file": name,
                    "cell": ".".join(code),
                    "expected": (value, unit, status, raw_text),
                    "got": (got_value, got_unit, c.cell_status, c.raw_text, c.cell_flag),
                }
            )
    s["misses"] = misses
    return s


def damage_main(kinds: tuple[str, ...] = (ORIGINAL, *damage.FORMATS, "pdf-scan")) -> None:
    print(f"\nsynthetic damage corpus ({DAMAGE_REPORTS} reports per kind, {SCAN_REPORTS} scanned; seed {DAMAGE_SEED}):")
    print(
        f"{'kind':<10} {'expected':>9} {'exact':>8} {'flagged':>8} {'wrong':>6} {'wrong#':>7}  exact    "
        "reports  agency  year  template"
    )
    for kind in kinds:
        s = damage_stats(kind, SCAN_REPORTS if kind == "pdf-scan" else DAMAGE_REPORTS)
        m = s["meta"]
        print(
            f"{kind:<10} {s['expected']:>9} {s['exact']:>8} {s['flagged']:>8} {s['wrong']:>6} "
            f"{s['wrong_numbers']:>7}  {100 * s['exact'] / max(s['expected'], 1):6.2f}%  "
            f"{m['reports']:>7} {m['agency_name']:>7} {m['report_year']:>5} {m['template_version']:>9}"
        )
        for miss in s["misses"][:10]:
            print("  wrong:", miss)
        for miss in m["misses"][:10]:
            print("  metadata:", miss)


def main() -> int:
    if sys.argv[1:2] == ["--damage"]:  # the damage corpus only: --damage [kind ...]
        damage_main(tuple(sys.argv[2:]) or (ORIGINAL, *damage.FORMATS))
        return 0
    stats, misses, meta = evaluate_with_meta()
    with tempfile.TemporaryDirectory(prefix="scanned-corpus-") as tmp:  # the corpus PDFs, printed and scanned
        scan_stats, scan_misses, scan_meta = evaluate_with_meta(scanned(expected_files(), Path(tmp)), label="pdf-scan")
    stats.update(scan_stats)
    misses += scan_misses
    meta.update(scan_meta)
    print(f"{'format':<10} {'documents':<12} {'expected':>9} {'correct':>8} {'flagged':>8} {'wrong':>6}  accuracy")
    for (fmt, kind), s in sorted(stats.items()):
        print(
            f"{fmt:<10} {kind:<12} {s['expected']:>9} {s['correct']:>8} {s['flagged']:>8} {s['wrong']:>6}  "
            f"{100 * s['correct'] / max(s['expected'], 1):6.1f}%"
        )
    for m in misses[:40]:
        print("  silently wrong:", m)
    print(f"\n{'format':<10} {'reports':>8} {'agency':>7} {'year':>5} {'template':>9}  (right)")
    for fmt, m in meta.items():
        print(f"{fmt:<10} {m['reports']:>8} {m['agency_name']:>7} {m['report_year']:>5} {m['template_version']:>9}")
        for miss in m["misses"]:
            print("  metadata:", miss)
    damage_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
