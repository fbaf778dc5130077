"""Parsing a batch of decoded files into report, cell, section, claim and rejection frames.

One bad file never stops a batch: it becomes a rejection record with its reason.
"""

from __future__ import annotations

import operator
import re
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import pandas as pd

from govinfo_pipeline import settings
from govinfo_pipeline.parse import agencies, frames, readers
from govinfo_pipeline.parse.layout import Layout, read_layout
from govinfo_pipeline.parse.report import PARSER_VERSION, ParsedReport, parse_layout
from govinfo_pipeline.parse.tables import CellRecord

_T = TypeVar("_T")

# A row of the raw frame (``sources.RAW_COLUMNS``) from ``DataFrame.itertuples``: a namedtuple class that
# pandas makes at run time, so its fields have no static types.
RawRow = Any

REJECTION_COLUMNS = ["source_path", "source_sha256", "reason", "detail", "duplicate_of"]


REPORT_COLUMNS = [
    "report_id",
    "source_path",
    "source_sha256",
    "agency_name",
    "agency_name_source",
    "report_year",
    "template_version",
    "title",
    "parse_status",
    "quality_status",
    "encoding",
    "source_format",
    "source_size",
    "parser_version",
    "n_cells",
    "parse_notes",
    "preamble",
    "region",
    "source_url",
    "agency_id",
    "source_mtime_ns",
]


CELL_COLUMNS = [
    "report_id",
    "section",
    "row",
    "col",
    "value",
    "unit",
    "cell_status",
    "raw_text",
    "source_line",
    "source_page",
    "source_table",
    "source_row",
    "source_col",
    "source_offset",
    "cell_flag",
    "box_x0",
    "box_top",
    "box_x1",
    "box_bottom",
    "ocr_confidence",
]


SECTION_COLUMNS = ["report_id", "section_no", "heading", "body_text", "source_line"]


CLAIM_COLUMNS = ["report_id", "figure", "value", "phrase", "source_line"]


def report_id_for(sha256: str) -> str:
    """A report's id: derived from its content hash, so the same bytes always give the same id."""
    return sha256[:16]


def _given(value: _T) -> _T | None:
    """A manifest value, or None where the manifest says nothing (pandas gives NaN for those)."""
    return None if value is None or (isinstance(value, float) and value != value) else value


def _looks_like_report(text: str) -> bool:
    return any(k in text for k in ("信息公开", "政务公开", "依申请公开"))


class _CellRows:
    """Cells gathered as tuples and packed into a DataFrame every ``chunk`` rows: one dict per cell would
    not fit in memory for a national year (~28 million cells)."""

    _values = operator.itemgetter(*CELL_COLUMNS[1:])

    def __init__(self, chunk: int = 500_000) -> None:
        self.chunk = chunk
        self.rows: list[tuple[object, ...]] = []
        self.parts: list[pd.DataFrame] = []

    def add(self, report_id: str, cells: list[CellRecord]) -> None:
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


def _rejection(r: RawRow, reason: str, detail: str | None, duplicate_of: str | None = None) -> dict[str, str | None]:
    return {
        "source_path": r.source_path,
        "source_sha256": r.source_sha256,
        "reason": reason,
        "detail": detail,
        "duplicate_of": duplicate_of,
    }


_TAG = re.compile(r"<[^>]*>")


def _read_and_parse(r: RawRow) -> tuple[Layout, ParsedReport]:
    """The file's Layout and parse. A reader that breaks down on a decoded file does not lose the report: the
    text is read as plain text instead (markup stripped), and a parse that breaks down keeps the prose; either
    way the exception is in the notes and the report is not 'parsed'."""
    text = r.text if r.source_format == "text" else None
    try:
        layout = readers.read_any(r.text, r.blob, r.source_format)
    except readers.Unreadable:
        raise
    except Exception as exc:
        if r.text is None:
            raise
        plain = _TAG.sub("\n", r.text) if r.source_format == "html" else r.text
        layout = read_layout(plain)
        layout.source_format = r.source_format
        layout.notes.append(
            f"the {r.source_format} reader failed ({type(exc).__name__}: {exc}); the file was read as plain text"
        )
        text = plain
    try:
        parsed = parse_layout(layout, text)
    except Exception as exc:
        if r.text is None:
            raise
        note = f"the report could not be parsed ({type(exc).__name__}: {exc}); its prose is kept"
        prose = "\n".join(line for _, line in layout.prose)
        parsed = ParsedReport(None, None, "unknown", None, "failed", prose, [], [], [*layout.notes, note], [])
    if parsed.parse_status == "parsed" and any("reader failed" in n for n in layout.notes):
        parsed.parse_status = "partial"
    return layout, parsed


Progress = Callable[[int], None]


def _no_progress(n: int) -> None:
    pass


def _parse_rows(rows: list[RawRow], progress: Progress = _no_progress) -> dict[str, pd.DataFrame]:
    """Parse decoded files (raw rows, distinct content) into report, cell, section, claim and rejection frames;
    ``progress(1)`` after each file."""
    reports: list[dict[str, object]] = []
    sections: list[dict[str, object]] = []
    claims: list[dict[str, object]] = []
    rejected: list[dict[str, str | None]] = []
    cells = _CellRows()
    for r in rows:
        progress(1)
        rid = report_id_for(r.source_sha256)
        try:
            layout, parsed = _read_and_parse(r)
        except readers.Unreadable as exc:
            rejected.append(_rejection(r, exc.reason, exc.detail))
            continue
        except Exception as exc:  # nothing could be read at all (a binary file whose reader broke down)
            rejected.append(_rejection(r, "parse_error", f"{type(exc).__name__}: {exc}"))
            continue
        if (
            parsed.template_version == "unknown"
            and not parsed.sections
            and not _looks_like_report("\n".join(line for _, line in layout.prose))
        ):
            rejected.append(
                _rejection(
                    r,
                    "not_a_report",
                    "no national table, no report section heading and no mention of 信息公开 or 政务公开",
                )
            )
            continue
        reports.append(
            {
                "report_id": rid,
                "source_path": r.source_path,
                "source_sha256": r.source_sha256,
                "agency_name": _given(r.manifest_agency) or parsed.agency_name,
                "agency_name_source": "manifest" if _given(r.manifest_agency) else parsed.agency_source,
                "report_year": int(_given(r.manifest_year) or 0) or parsed.report_year,
                "template_version": parsed.template_version,
                "title": parsed.title,
                "parse_status": parsed.parse_status,
                "quality_status": None,
                "encoding": r.encoding,
                "source_format": r.source_format,
                "source_size": r.source_size,
                "parser_version": PARSER_VERSION,
                "n_cells": len(parsed.cells),
                "parse_notes": "\n".join(parsed.notes + ([f"decoding: {r.detail}"] if r.detail else [])) or None,
                "preamble": parsed.preamble,
                "region": _given(r.manifest_region),
                "source_url": _given(r.source_url),
                "agency_id": agencies.agency_id(_given(r.manifest_agency) or parsed.agency_name),
                "source_mtime_ns": r.source_mtime_ns,
            }
        )
        cells.add(rid, parsed.cells)
        sections.extend(
            {
                "report_id": rid,
                "section_no": s.section_no,
                "heading": s.heading,
                "body_text": s.body_text,
                "source_line": s.source_line,
            }
            for s in parsed.sections
        )
        claims.extend({**c, "report_id": rid} for c in parsed.claims)
    return {
        "reports": pd.DataFrame(reports, columns=REPORT_COLUMNS),
        "cells": cells.frame(),
        "sections": pd.DataFrame(sections, columns=SECTION_COLUMNS),
        "claims": pd.DataFrame(claims, columns=CLAIM_COLUMNS),
        "rejections": pd.DataFrame(rejected, columns=REJECTION_COLUMNS),
    }


_FORKED_ROWS: list[RawRow] = []  # the rows to parse, inherited by forked workers instead of being pickled to them


_MIN_ROWS_PER_WORKER = 250
_PDF_WEIGHT = 10


def _parse_slice(bounds: tuple[int, int]) -> dict[str, pd.DataFrame]:
    return _parse_rows(_FORKED_ROWS[bounds[0] : bounds[1]])


def parse_workers() -> int:
    """Processes that parse in parallel (GOVINFO_WORKERS; default: one per CPU)."""
    return settings.current().workers


_MAX_SLICE = 500  # rows a worker parses at a time: progress is told per slice


def workers_for(rows: list[RawRow], workers: int) -> int:
    """How many of ``workers`` a batch is worth: one per ``_MIN_ROWS_PER_WORKER`` text files, a PDF counting as
    ``_PDF_WEIGHT`` of them (it costs some tens of text files to read), so a few hundred PDFs use the workers."""
    weight = sum(_PDF_WEIGHT if r.source_format == "pdf" else 1 for r in rows)
    return min(workers, weight // _MIN_ROWS_PER_WORKER)


def _parse_all(rows: list[RawRow], workers: int, progress: Progress = _no_progress) -> dict[str, pd.DataFrame]:
    """Parse ``rows`` in ``workers`` forked processes (in order), or here when few or where fork is missing."""
    import multiprocessing as mp

    workers = workers_for(rows, workers)
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        return _parse_rows(rows, progress)
    global _FORKED_ROWS
    step = min(-(-len(rows) // (workers * 4)), _MAX_SLICE)
    slices = [(i, min(i + step, len(rows))) for i in range(0, len(rows), step)]
    _FORKED_ROWS = rows
    try:  # ProcessPoolExecutor, not Pool: a worker that dies breaks the pool instead of hanging it
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_default_signals) as pool:
            parts = []
            for (start, end), part in zip(slices, pool.map(_parse_slice, slices), strict=True):
                parts.append(part)
                progress(end - start)
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


def normalize(
    raw: pd.DataFrame, workers: int | None = None, progress: Progress = _no_progress
) -> dict[str, pd.DataFrame]:
    """Parse every decoded file (in ``workers`` processes); duplicates and failures become rejections.
    ``progress`` is told of every file settled (those needing no parse at once)."""
    rejected: list[dict[str, str | None]] = []
    todo: list[RawRow] = []
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
            rejected.append(
                _rejection(
                    r,
                    "duplicate_content",
                    f"same bytes as {first_by_sha[r.source_sha256]} (report {rid})",
                    duplicate_of=rid,
                )
            )
        else:
            first_by_sha[r.source_sha256] = r.source_path
            todo.append(r)
    progress(len(raw) - len(todo))
    out = _parse_all(todo, parse_workers() if workers is None else workers, progress)
    if rejected:
        out["rejections"] = pd.concat(
            [pd.DataFrame(rejected, columns=REJECTION_COLUMNS), out["rejections"]], ignore_index=True
        ).sort_values("source_path", ignore_index=True)
    # The ledger: every file seen, and whether it became a report or a rejection.
    report_paths = set(out["reports"]["source_path"])
    out["files"] = pd.DataFrame(
        {
            "source_path": raw["source_path"],
            "source_sha256": raw["source_sha256"],
            "outcome": [
                "unchanged" if p in unchanged_paths else "report" if p in report_paths else "rejected"
                for p in raw["source_path"]
            ],
        }
    )
    out["reports"]["report_year"] = out["reports"]["report_year"].astype("Int64")
    out["reports"]["source_size"] = out["reports"]["source_size"].astype("Int64")
    out["reports"]["source_mtime_ns"] = out["reports"]["source_mtime_ns"].astype("Int64")
    for col in ("value", "box_x0", "box_top", "box_x1", "box_bottom", "ocr_confidence"):
        out["cells"][col] = out["cells"][col].astype("float64")
    for col in ("source_line", "source_page", "source_table", "source_row", "source_col", "source_offset"):
        out["cells"][col] = out["cells"][col].astype("Int64")
    return out
