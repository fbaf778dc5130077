"""The pipeline's stages as plain batch functions: discover → read → normalize → check.

Dagster assets call these; tests and benchmarks can call them directly. One bad file never
stops a batch: it becomes a rejection record with its reason.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import os
import re
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from govinfo_pipeline.lib import agencies, frames, readers, rules
from govinfo_pipeline.lib.decode import decode
from govinfo_pipeline.lib.layout import read_layout
from govinfo_pipeline.lib.report import PARSER_VERSION, TITLE_LINES, find_title, find_year, parse_layout

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
IGNORED_NAMES = frozenset({"manifest.csv", ".gitkeep", ".DS_Store", "Thumbs.db"})
RAW_COLUMNS = ["source_path", "source_sha256", "source_size", "source_format", "encoding", "text", "blob",
               "year_hint", "reason", "detail", "manifest_agency", "manifest_region", "manifest_year",
               "source_url", "unchanged", "source_mtime_ns", "read"]
MANIFEST = "manifest.csv"
REJECTION_COLUMNS = ["source_path", "source_sha256", "reason", "detail", "duplicate_of"]
REPORT_COLUMNS = [
    "report_id", "source_path", "source_sha256", "agency_name", "report_year", "template_version", "title",
    "parse_status", "quality_status", "encoding", "source_format", "source_size", "parser_version", "n_cells",
    "parse_notes", "preamble", "region", "source_url", "agency_id", "source_mtime_ns",
]
CELL_COLUMNS = ["report_id", "section", "row", "col", "value", "unit", "cell_status", "raw_text", "source_line",
                "source_page", "source_table", "source_row", "source_col", "source_offset", "cell_flag"]
SECTION_COLUMNS = ["report_id", "section_no", "heading", "body_text", "source_line"]
CLAIM_COLUMNS = ["report_id", "figure", "value", "phrase", "source_line"]


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # relative to the input folder, POSIX style
    reject: tuple[str, str] | None = None  # (reason, detail) decided before reading


def report_id_for(sha256: str) -> str:
    """A report's id: derived from its content hash, so the same bytes always give the same id."""
    return sha256[:16]


def discover(input_dir: Path, only: list[str] | None = None) -> list[SourceFile]:
    """Every candidate file under ``input_dir``, sorted; symlinks leaving the folder are not followed.

    ``only`` (paths relative to the folder): just those of them that the full walk would find, looked up
    directly instead of walking a folder of 140,000 files to re-read one."""
    root = input_dir.resolve()
    if only is not None:
        return sorted((f for f in map(functools.partial(_lookup, root), set(only)) if f), key=_walk_order)
    found: list[SourceFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name in IGNORED_NAMES or name.startswith("."):
                continue
            found.append(_source_file(root, Path(dirpath) / name))
    return found


def _walk_order(f: SourceFile) -> tuple:
    """The walk's order: a folder's files (sorted), then its subfolders (sorted), depth first."""
    *folders, name = f.rel.split("/")
    return (*((1, d) for d in folders), (0, name))


def _source_file(root: Path, path: Path) -> SourceFile:
    rel = path.relative_to(root).as_posix()
    if path.is_symlink():
        try:
            target = path.resolve()
        except (OSError, RuntimeError) as exc:  # a loop of symlinks (RuntimeError before Python 3.13)
            return SourceFile(path, rel, ("unreadable", f"symlink that cannot be resolved: {exc}"))
        if not target.is_relative_to(root):
            return SourceFile(path, rel, ("outside_input", f"symlink to {target.name} outside the input folder; "
                                                           "not followed"))
    return SourceFile(path, rel)


def _lookup(root: Path, rel: str) -> SourceFile | None:
    """The file ``rel`` as ``discover``'s walk would list it, or None where the walk would not."""
    pure = PurePosixPath(rel)
    parts = pure.parts
    if (not parts or pure.is_absolute() or rel != pure.as_posix() or parts[-1] in IGNORED_NAMES
            or any(p in ("..", ".") or p.startswith(".") for p in parts)):
        return None
    path = root.joinpath(*parts)
    # the walk does not enter symlinked folders, and lists files and symlinks to files (dangling ones too)
    if any(root.joinpath(*parts[:i]).is_symlink() for i in range(1, len(parts))):
        return None
    if not (path.is_symlink() or path.exists()) or path.is_dir():
        return None
    return _source_file(root, path)


def year_hint_from_name(rel: str) -> int | None:
    """A year in the file's path (``2020/…``, ``…_2020_…``), for formats whose text is read later."""
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", rel)
    return int(m.group(1)) if m else None


def year_hint(text: str) -> int | None:
    """The report year from the title lines, read cheaply from the head of the text."""
    head = text[:4000]
    return find_year(find_title(read_layout(head, max_prose=TITLE_LINES)), head)


HEAD_BYTES = 16 * 1024  # enough for the 4,000 characters year_hint reads, in any encoding
BINARY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def scan_years(files: list[SourceFile], manifest: dict[str, dict] | None = None,
               held: pd.DataFrame | None = None) -> set[int]:
    """The report years of ``files``, reading only each file's head (or nothing, for a file the warehouse
    holds unchanged): which year partitions a run covers."""
    manifest = manifest or {}
    known = _held_by_path(held)
    years: set[int | None] = set()
    for f in files:
        year = manifest.get(f.rel, {}).get("manifest_year")
        if year or f.reject:
            years.add(year)
            continue
        same = known.get(f.rel)
        if same:
            try:
                st = f.path.stat()
            except OSError:
                continue
            if same[:2] == (st.st_size, st.st_mtime_ns) and same[3]:
                years.add(same[3])
                continue
        try:
            with f.path.open("rb") as fh:
                head = fh.read(HEAD_BYTES)
        except OSError:
            continue
        text = None if head.startswith(BINARY_MAGIC) else decode(head).text
        years.add((text and year_hint(text)) or year_hint_from_name(f.rel))
    return {y for y in years if y}


def to_read(files: list[SourceFile], held: pd.DataFrame | None = None) -> int:
    """How many of ``files`` a run would read: all but those the warehouse holds unchanged (size, mtime)."""
    known = _held_by_path(held)
    n = 0
    for f in files:
        same = known.get(f.rel)
        try:
            st = f.path.stat()
        except OSError:
            continue
        n += not (same and same[:2] == (st.st_size, st.st_mtime_ns))
    return n


def batches(files: list[SourceFile], max_files: int) -> list[list[SourceFile]]:
    """``files`` cut into batches of about ``max_files`` (one run each, so that memory stays bounded however
    large the year), never separating files of the same size, so that identical files (duplicates) always
    meet in one batch and the second is rejected as a duplicate of the first."""
    def size(f: SourceFile) -> int:
        try:
            return f.path.stat().st_size
        except OSError:
            return -1

    out: list[list[SourceFile]] = []
    last = None
    for s, f in sorted(((size(f), f) for f in files), key=lambda x: (x[0], x[1].rel)):
        if not out or (len(out[-1]) >= max_files and s != last):
            out.append([])
        out[-1].append(f)
        last = s
    return out


def read_manifest(input_dir: Path) -> dict[str, dict]:
    """``manifest.csv`` beside the files (path, agency, region, year, source_url), by relative path.

    Paths are confined to the input folder: an absolute path or one climbing out with ``..`` is ignored.
    """
    path = input_dir / MANIFEST
    if not path.is_file():
        return {}
    import csv

    out: dict[str, dict] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            rel = (row.get("path") or "").strip().replace("\\", "/")
            parts = Path(rel).parts
            if not rel or Path(rel).is_absolute() or ".." in parts:
                continue
            year = (row.get("year") or "").strip()
            out[Path(rel).as_posix()] = {
                "manifest_agency": (row.get("agency") or "").strip() or None,
                "manifest_region": (row.get("region") or "").strip() or None,
                "manifest_year": int(year) if year.isdigit() else None,
                "source_url": (row.get("source_url") or "").strip() or None,
            }
    return out


def _held_by_path(held: pd.DataFrame | None) -> dict[str, tuple]:
    """Reports the warehouse holds from this parser version: path -> (size, mtime_ns, sha256, year, format)."""
    if held is None or held.empty or "source_mtime_ns" not in held:
        return {}
    current = held[(held["parser_version"] == PARSER_VERSION) & held["source_mtime_ns"].notna()]
    return {p: (int(s), int(m), h, None if pd.isna(y) else int(y), f) for p, s, m, h, y, f in zip(
        current["source_path"], current["source_size"], current["source_mtime_ns"], current["source_sha256"],
        current["report_year"], current["source_format"], strict=True)}


def read_files(files: list[SourceFile], max_bytes: int = DEFAULT_MAX_BYTES,
               manifest: dict[str, dict] | None = None, held: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hash each file and tell its format by content: PDF and DOCX are kept as bytes; text, HTML and
    Markdown are decoded. Unreadable, empty, oversized or undecodable files get a reason.

    A file the warehouse already holds (``held``: same path, size and modification time, same parser
    version) is not read again: it is marked ``unchanged`` with its stored hash and year, ``read`` False."""
    rows: list[dict] = []
    manifest = manifest or {}
    known = _held_by_path(held)
    for f in files:
        row = {c: None for c in RAW_COLUMNS} | {"source_path": f.rel, "read": False} | manifest.get(f.rel, {})
        rows.append(row)
        if f.reject:
            row["reason"], row["detail"] = f.reject
            continue
        try:
            st = f.path.stat()
            size = row["source_size"] = st.st_size
            row["source_mtime_ns"] = st.st_mtime_ns
            same = known.get(f.rel)
            if same and same[:2] == (size, st.st_mtime_ns):
                row.update(source_sha256=same[2], year_hint=row["manifest_year"] or same[3], source_format=same[4],
                           unchanged=True)
                continue
            if size > max_bytes:
                row["reason"], row["detail"] = "too_large", f"{size} bytes, over the limit of {max_bytes}"
                continue
            data = f.path.read_bytes()
            row["read"] = True
        except OSError as exc:
            row["reason"], row["detail"] = "unreadable", f"could not read the file: {exc.strerror or exc}"
            continue
        row["source_sha256"] = hashlib.sha256(data).hexdigest()
        try:
            binary = readers.sniff_binary(data)
        except readers.Unreadable as exc:
            row["reason"], row["detail"] = exc.reason, exc.detail
            continue
        if binary:
            row["source_format"], row["blob"] = binary, data
            row["year_hint"] = row["manifest_year"] or year_hint_from_name(f.rel)
            continue
        decoded = decode(data)
        row["encoding"] = decoded.encoding
        if decoded.text is None:
            row["reason"], row["detail"] = decoded.reason, decoded.detail
            continue
        row["text"] = decoded.text
        row["detail"] = decoded.detail  # a note on how the text was read, e.g. a truncated last character
        row["source_format"] = readers.sniff_text(decoded.text)
        row["year_hint"] = row["manifest_year"] or year_hint(decoded.text) or year_hint_from_name(f.rel)
    df = pd.DataFrame(rows, columns=RAW_COLUMNS)
    df["year_hint"] = df["year_hint"].astype("Int64")
    df["source_size"] = df["source_size"].astype("Int64")
    df["source_mtime_ns"] = df["source_mtime_ns"].astype("Int64")
    return df


def mark_unchanged(raw: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """Flag files the warehouse already holds as reports with the same bytes, path and parser version:
    later stages skip them, so a re-run on unchanged input does almost nothing."""
    already = raw["unchanged"].eq(True).tolist() if "unchanged" in raw else [False] * len(raw)
    if held.empty or raw.empty:
        return raw.assign(unchanged=already)
    current = held[held["parser_version"] == PARSER_VERSION]
    known = set(zip(current["source_path"], current["source_sha256"], strict=True))
    flags = [a or (p, h) in known
             for a, p, h in zip(already, raw["source_path"], raw["source_sha256"], strict=True)]
    return raw.assign(unchanged=flags)


def _given(value):
    """A manifest value, or None where the manifest says nothing (pandas gives NaN for those)."""
    return None if value is None or (isinstance(value, float) and value != value) else value


def _looks_like_report(text: str) -> bool:
    return any(k in text for k in ("信息公开", "政务公开", "依申请公开"))


class _CellRows:
    """Cells gathered as tuples and packed into a DataFrame every ``chunk`` rows: one dict per cell would
    not fit in memory for a national year (~28 million cells)."""

    _values = operator.itemgetter(*CELL_COLUMNS[1:])

    def __init__(self, chunk: int = 500_000):
        self.chunk, self.rows, self.parts = chunk, [], []

    def add(self, report_id: str, cells: list[dict]) -> None:
        values = self._values
        self.rows.extend((report_id, *values(c)) for c in cells)
        if len(self.rows) >= self.chunk:
            self._pack()

    def _pack(self) -> None:
        self.parts.append(pd.DataFrame.from_records(self.rows, columns=CELL_COLUMNS))
        self.rows = []

    def frame(self) -> pd.DataFrame:
        if self.rows or not self.parts:
            self._pack()
        return frames.concat(self.parts)


def _rejection(r, reason: str, detail: str | None, duplicate_of: str | None = None) -> dict:
    return {"source_path": r.source_path, "source_sha256": r.source_sha256, "reason": reason, "detail": detail,
            "duplicate_of": duplicate_of}


def _parse_rows(rows: list) -> dict[str, pd.DataFrame]:
    """Parse decoded files (raw rows, distinct content) into report, cell, section, claim and rejection frames."""
    reports, sections, claims, rejected = [], [], [], []
    cells = _CellRows()
    for r in rows:
        rid = report_id_for(r.source_sha256)
        try:
            layout = readers.read_any(r.text, r.blob, r.source_format)
            parsed = parse_layout(layout, r.text if r.source_format == "text" else None)
        except readers.Unreadable as exc:
            rejected.append(_rejection(r, exc.reason, exc.detail))
            continue
        except Exception as exc:  # a parser bug must not stop the other reports
            rejected.append(_rejection(r, "parse_error", f"{type(exc).__name__}: {exc}"))
            continue
        if parsed.template_version == "unknown" and not parsed.sections and not _looks_like_report(
                "\n".join(line for _, line in layout.prose)):
            rejected.append(_rejection(r, "not_a_report", "no national table, no report section heading and no "
                                                          "mention of 信息公开 or 政务公开"))
            continue
        reports.append({
            "report_id": rid, "source_path": r.source_path, "source_sha256": r.source_sha256,
            "agency_name": _given(r.manifest_agency) or parsed.agency_name,
            "report_year": int(_given(r.manifest_year) or 0) or parsed.report_year,
            "template_version": parsed.template_version, "title": parsed.title,
            "parse_status": parsed.parse_status, "quality_status": None, "encoding": r.encoding,
            "source_format": r.source_format, "source_size": r.source_size, "parser_version": PARSER_VERSION,
            "n_cells": len(parsed.cells),
            "parse_notes": "\n".join(parsed.notes + ([f"decoding: {r.detail}"] if r.detail else [])) or None,
            "preamble": parsed.preamble, "region": _given(r.manifest_region), "source_url": _given(r.source_url),
            "agency_id": agencies.agency_id(_given(r.manifest_agency) or parsed.agency_name),
            "source_mtime_ns": r.source_mtime_ns,
        })
        cells.add(rid, parsed.cells)
        sections.extend({"report_id": rid, "section_no": s.section_no, "heading": s.heading,
                         "body_text": s.body_text, "source_line": s.source_line} for s in parsed.sections)
        claims.extend({**c, "report_id": rid} for c in parsed.claims)
    return {
        "reports": pd.DataFrame(reports, columns=REPORT_COLUMNS),
        "cells": cells.frame(),
        "sections": pd.DataFrame(sections, columns=SECTION_COLUMNS),
        "claims": pd.DataFrame(claims, columns=CLAIM_COLUMNS),
        "rejections": pd.DataFrame(rejected, columns=REJECTION_COLUMNS),
    }


_FORKED_ROWS: list = []  # the rows to parse, inherited by forked workers instead of being pickled to them
_MIN_ROWS_PER_WORKER = 250


def _parse_slice(bounds: tuple[int, int]) -> dict[str, pd.DataFrame]:
    return _parse_rows(_FORKED_ROWS[bounds[0]:bounds[1]])


def parse_workers() -> int:
    """Processes that parse in parallel (GOVINFO_WORKERS; default: one per CPU)."""
    return max(1, int(os.environ.get("GOVINFO_WORKERS") or os.cpu_count() or 1))


def _parse_all(rows: list, workers: int) -> dict[str, pd.DataFrame]:
    """Parse ``rows`` in ``workers`` forked processes (in order), or here when few or where fork is missing."""
    import multiprocessing as mp

    workers = min(workers, len(rows) // _MIN_ROWS_PER_WORKER)
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        return _parse_rows(rows)
    global _FORKED_ROWS
    step = -(-len(rows) // (workers * 4))
    slices = [(i, min(i + step, len(rows))) for i in range(0, len(rows), step)]
    _FORKED_ROWS = rows
    try:  # ProcessPoolExecutor, not Pool: a worker that dies breaks the pool instead of hanging it
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_default_signals) as pool:
            parts = list(pool.map(_parse_slice, slices))
    except BrokenProcessPool:  # a worker was killed (out of memory, say): parse here instead
        parts = [_parse_rows(rows)]
    finally:
        _FORKED_ROWS = []
    return {name: frames.concat([p[name] for p in parts]) for name in parts[0]}


def _default_signals() -> None:
    """Workers forked inside a Dagster step inherit its signal handlers, which defer SIGTERM and SIGINT;
    a worker must stop when told to."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


def normalize(raw: pd.DataFrame, workers: int | None = None) -> dict[str, pd.DataFrame]:
    """Parse every decoded file (in ``workers`` processes); duplicates and failures become rejections."""
    rejected: list[dict] = []
    todo: list = []
    first_by_sha: dict[str, str] = {}
    unchanged_paths: set[str] = set()
    for r in raw.sort_values("source_path").itertuples(index=False):
        if getattr(r, "unchanged", False) is True:  # already in the warehouse, as it is now
            first_by_sha.setdefault(r.source_sha256, r.source_path)
            unchanged_paths.add(r.source_path)
        elif r.reason is not None:
            rejected.append(_rejection(r, r.reason, r.detail))
        elif r.source_sha256 in first_by_sha:
            rid = report_id_for(r.source_sha256)
            rejected.append(_rejection(r, "duplicate_content", f"same bytes as {first_by_sha[r.source_sha256]} "
                                                               f"(report {rid})", duplicate_of=rid))
        else:
            first_by_sha[r.source_sha256] = r.source_path
            todo.append(r)
    out = _parse_all(todo, parse_workers() if workers is None else workers)
    if rejected:
        out["rejections"] = pd.concat([pd.DataFrame(rejected, columns=REJECTION_COLUMNS), out["rejections"]],
                                      ignore_index=True).sort_values("source_path", ignore_index=True)
    # The ledger: every file seen, and whether it became a report or a rejection.
    report_paths = set(out["reports"]["source_path"])
    out["files"] = pd.DataFrame({
        "source_path": raw["source_path"], "source_sha256": raw["source_sha256"],
        "outcome": ["unchanged" if p in unchanged_paths else "report" if p in report_paths else "rejected"
                    for p in raw["source_path"]],
    })
    out["reports"]["report_year"] = out["reports"]["report_year"].astype("Int64")
    out["reports"]["source_size"] = out["reports"]["source_size"].astype("Int64")
    out["reports"]["source_mtime_ns"] = out["reports"]["source_mtime_ns"].astype("Int64")
    out["cells"]["value"] = out["cells"]["value"].astype("float64")
    for col in ("source_line", "source_page", "source_table", "source_row", "source_col", "source_offset"):
        out["cells"][col] = out["cells"][col].astype("Int64")
    return out


def check(normalized: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Rule results for every report, and each report's quality status."""
    reps = normalized["reports"]
    results = rules.evaluate(reps, normalized["cells"], normalized.get("claims"))
    status = pd.DataFrame({"report_id": reps["report_id"],
                           "quality_status": rules.quality_status(results, reps["report_id"]).to_numpy()})
    return {"results": results, "status": status}


def assemble(normalized: dict[str, pd.DataFrame], facts: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The batch the warehouse writes: normalized tables with quality status and rule results."""
    reps = normalized["reports"].drop(columns=["quality_status"]).merge(facts["status"], on="report_id", how="left")
    return {"reports": reps, "cells": normalized["cells"], "sections": normalized["sections"],
            "claims": normalized["claims"], "results": facts["results"], "rejections": normalized["rejections"]}
