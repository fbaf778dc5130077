"""What a run reads."""

from __future__ import annotations

import pandas as pd

from govinfo_pipeline.parse.decode import decode
from govinfo_pipeline.parse.sources import (
    BINARY_MAGIC,
    HEAD_BYTES,
    SourceFile,
    _held_by_path,
    year_hint,
    year_hint_from_name,
)


def scan_years(
    files: list[SourceFile], manifest: dict[str, dict] | None = None, held: pd.DataFrame | None = None
) -> set[int]:
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
