"""Finding the input files and reading them: hash, format by content, decoded text, or the reason why not."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from govinfo_pipeline.parse import limits, readers
from govinfo_pipeline.parse.decode import decode
from govinfo_pipeline.parse.layout import read_layout
from govinfo_pipeline.parse.report import PARSER_VERSION, TITLE_LINES, find_title, find_year

DEFAULT_MAX_BYTES = 200 * 1024 * 1024


IGNORED_NAMES = frozenset({"manifest.csv", ".gitkeep", ".DS_Store", "Thumbs.db"})


RAW_COLUMNS = [
    "source_path",
    "source_sha256",
    "source_size",
    "source_format",
    "encoding",
    "text",
    "blob",
    "year_hint",
    "reason",
    "detail",
    "manifest_agency",
    "manifest_region",
    "manifest_year",
    "source_url",
    "unchanged",
    "source_mtime_ns",
    "read",
]


MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # relative to the input folder, POSIX style
    reject: tuple[str, str] | None = None  # (reason, detail) decided before reading


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


def _walk_order(f: SourceFile) -> tuple[tuple[int, str], ...]:
    """The walk's order: a folder's files (sorted), then its subfolders (sorted), depth first."""
    *folders, name = f.rel.split("/")
    return (*((1, d) for d in folders), (0, name))


def _source_file(root: Path, path: Path) -> SourceFile:
    rel = path.relative_to(root).as_posix()
    if not rel.isascii() and limits.has_lone_surrogate(rel):  # a name in bytes that are not UTF-8 (a GBK name)
        rel = os.fsencode(rel).decode("utf-8", "backslashreplace")  # storable, and the same in every run
    if path.is_symlink():
        try:
            target = path.resolve()
        except (OSError, RuntimeError) as exc:  # a loop of symlinks (RuntimeError before Python 3.13)
            return SourceFile(path, rel, ("unreadable", f"symlink that cannot be resolved: {exc}"))
        if not target.is_relative_to(root):
            return SourceFile(
                path, rel, ("outside_input", f"symlink to {target.name} outside the input folder; not followed")
            )
    return SourceFile(path, rel)


def _lookup(root: Path, rel: str) -> SourceFile | None:
    """The file ``rel`` as ``discover``'s walk would list it, or None where the walk would not."""
    pure = PurePosixPath(rel)
    parts = pure.parts
    if (
        not parts
        or pure.is_absolute()
        or rel != pure.as_posix()
        or parts[-1] in IGNORED_NAMES
        or any(p in ("..", ".") or p.startswith(".") for p in parts)
    ):
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


def file_year(
    rel: str, text: str | None = None, manifest_year: int | None = None, held_year: int | None = None
) -> int | None:
    """The report year of a file: the one place that decides it. The manifest's year first, then the year of
    the report the warehouse holds for the unchanged file, then the year in the title lines of its text, then
    a year in its path (PDF and Word files, whose text is read later, have only that)."""
    return manifest_year or held_year or (text and year_hint(text)) or year_hint_from_name(rel)


HEAD_BYTES = 16 * 1024  # enough for the 4,000 characters year_hint reads, in any encoding


BINARY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def read_manifest(input_dir: Path) -> dict[str, dict[str, Any]]:
    """``manifest.csv`` beside the files (path, agency, region, year, source_url), by relative path.

    Paths are confined to the input folder: an absolute path or one climbing out with ``..`` is ignored.
    """
    path = input_dir / MANIFEST
    if not path.is_file():
        return {}
    import csv

    out: dict[str, dict[str, Any]] = {}
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


# path -> (size, mtime_ns, sha256, year, format) of the report the warehouse holds for the file
Fingerprint = tuple[int, int, str, int | None, str | None]


def held_by_path(held: pd.DataFrame | None) -> dict[str, Fingerprint]:
    """Reports the warehouse holds from this parser version: path -> (size, mtime_ns, sha256, year, format)."""
    if held is None or held.empty or "source_mtime_ns" not in held:
        return {}
    current = held[(held["parser_version"] == PARSER_VERSION) & held["source_mtime_ns"].notna()]
    return {
        p: (int(s), int(m), h, None if pd.isna(y) else int(y), f)
        for p, s, m, h, y, f in zip(
            current["source_path"],
            current["source_size"],
            current["source_mtime_ns"],
            current["source_sha256"],
            current["report_year"],
            current["source_format"],
            strict=True,
        )
    }


def read_files(
    files: list[SourceFile],
    max_bytes: int = DEFAULT_MAX_BYTES,
    manifest: dict[str, dict[str, Any]] | None = None,
    held: pd.DataFrame | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Hash each file and tell its format by content: PDF and DOCX are kept as bytes; text, HTML and
    Markdown are decoded. Unreadable, empty, oversized or undecodable files get a reason.

    A file the warehouse already holds (``held``: same path, size and modification time, same parser
    version) is not read again: it is marked ``unchanged`` with its stored hash and year, ``read`` False."""
    rows: list[dict[str, Any]] = []
    manifest = manifest or {}
    known = held_by_path(held)
    bounds = limits.Limits.current()
    for f in files:
        if progress:
            progress(1)
        row: dict[str, Any] = (
            {c: None for c in RAW_COLUMNS} | {"source_path": f.rel, "read": False} | manifest.get(f.rel, {})
        )
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
                row.update(
                    source_sha256=same[2],
                    year_hint=file_year(f.rel, None, row["manifest_year"], same[3]),
                    source_format=same[4],
                    unchanged=True,
                )
                continue
            if size > max_bytes:
                row["reason"], row["detail"] = "too_large", f"{size} bytes, over GOVINFO_MAX_FILE_BYTES ({max_bytes})"
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
            row["source_format"] = binary
            if hit := limits.check_binary(binary, data, bounds):
                row["reason"], row["detail"] = hit
                continue
            row["blob"] = data
            row["year_hint"] = file_year(f.rel, None, row["manifest_year"])
            continue
        decoded = decode(data)
        row["encoding"] = decoded.encoding
        if decoded.text is None:
            row["reason"], row["detail"] = decoded.reason, decoded.detail
            continue
        fmt = row["source_format"] = readers.sniff_text(decoded.text)
        text, cleaned = limits.clean_text(decoded.text, fmt)
        if hit := limits.check_text(fmt, text, bounds):
            row["reason"], row["detail"] = hit
            continue
        row["text"] = text
        # a note on how the text was read, e.g. a truncated last character, NUL characters dropped
        row["detail"] = "; ".join(n for n in (decoded.detail, cleaned) if n) or None
        row["year_hint"] = file_year(f.rel, text, row["manifest_year"])
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
    flags = [a or (p, h) in known for a, p, h in zip(already, raw["source_path"], raw["source_sha256"], strict=True)]
    return raw.assign(unchanged=flags)
