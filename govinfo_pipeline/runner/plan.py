"""What a run reads: the one place that decides it.

A ``RunPlan`` is made once per run, from the input folder and what the warehouse holds: the files, the year of
each, which of them the warehouse holds unchanged, and the batches (runs) they are read in. The CLI, the
``new_files`` sensor and the ``raw_files`` asset all make it here; the CLI hands its plan to the run, so the
asset does not make it again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import uuid
from pathlib import Path

import pandas as pd

from govinfo_pipeline.parse.decode import decode
from govinfo_pipeline.parse.sources import (
    BINARY_MAGIC,
    HEAD_BYTES,
    SourceFile,
    discover,
    file_year,
    held_by_path,
    read_manifest,
)
from govinfo_pipeline.store.sessions import open_warehouse, unavailable
from govinfo_pipeline.store.writes import existing_fingerprints

FIRST_YEAR = 2008  # the Regulation took effect on 2008-05-01: the first year partition


def last_year() -> int:
    """The latest report year there can be (the current year, whose partition exists already)."""
    return dt.date.today().year


def valid_year(year: int | None) -> bool:
    """A year that has a partition (2008 up to this year)."""
    return year is not None and FIRST_YEAR <= year <= last_year()


class PlanError(ValueError):
    """The run cannot be planned as asked (a named file is not in the input folder)."""


@dataclasses.dataclass(frozen=True)
class Batch:
    """One run of a plan: its year partitions, and its files (relative paths)."""

    years: tuple[int, ...]
    files: tuple[str, ...]


@dataclasses.dataclass
class RunPlan:
    """The files a run reads, their fingerprints, the year of each, and the batches."""

    root: Path
    files: list[SourceFile]
    years: dict[str, int | None]  # file -> report year (None: it cannot be told; read in every run)
    held: pd.DataFrame  # the reports the warehouse holds (of these files)
    manifest: dict[str, dict]
    given: bool  # the files were named (one report re-materialized), rather than found by walking
    unchanged: frozenset[str]  # files the warehouse holds with the same size and modification time
    batches: list[Batch]

    @property
    def to_read(self) -> int:
        """How many files the run reads (all but those the warehouse holds unchanged)."""
        return len(self.files) - len(self.unchanged)

    def report_years(self) -> list[int]:
        """The year partitions the plan's files belong to."""
        return sorted({y for y in self.years.values() if y is not None and valid_year(y)})

    def files_for(self, years: set[int] | list[int]) -> list[SourceFile]:
        """The files a run over ``years`` reads: those of the years, and those whose year cannot be told. Named
        files are read whatever their year."""
        wanted = set(years)
        return [f for f in self.files if self.given or not valid_year(self.years[f.rel]) or self.years[f.rel] in wanted]

    def by_year(self) -> dict[int, list[str]]:
        """Files per year partition; a file whose year cannot be told goes to the latest year."""
        out: dict[int, list[str]] = {}
        for f in self.files:
            year = self.years[f.rel]
            out.setdefault(year if year is not None and valid_year(year) else last_year(), []).append(f.rel)
        return out

    def part(self, batch: Batch) -> RunPlan:
        """The plan of one batch: its files only."""
        keep = set(batch.files)
        files = [f for f in self.files if f.rel in keep] if keep else self.files
        rels = {f.rel for f in files}
        held = self.held[self.held["source_path"].isin(rels)] if "source_path" in self.held else self.held
        return dataclasses.replace(
            self,
            files=files,
            years={r: self.years[r] for r in rels},
            held=held.reset_index(drop=True),
            given=self.given or bool(keep),
            unchanged=self.unchanged & rels,
            batches=[batch],
        )

    def save(self, folder: str | Path) -> str:
        """Keep the plan where every process running a step can read it; its path goes into the run config."""
        path = Path(folder, "plans", f"{uuid.uuid4().hex}.pkl")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return str(path)

    def describe(self) -> dict:
        """The plan as plain data (``govinfo run --plan``; tests compare plans by it)."""
        return {
            "input": str(self.root),
            "files": len(self.files),
            "to_read": self.to_read,
            "years": {str(y): sorted(rels) for y, rels in sorted(self.by_year().items())},
            "batches": [{"years": list(b.years), "files": len(b.files) or len(self.files)} for b in self.batches],
        }


def load(path: str | Path) -> RunPlan:
    with Path(path).open("rb") as fh:
        plan = pickle.load(fh)
    if not isinstance(plan, RunPlan):
        raise PlanError(f"{path} does not hold a run plan")
    return plan


def _stat(f: SourceFile) -> tuple[int, int] | None:
    try:
        st = f.path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _head_text(f: SourceFile) -> str | None:
    """The decoded head of a text file (enough for its title lines); None for PDF and Word files."""
    try:
        with f.path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    return None if head.startswith(BINARY_MAGIC) else decode(head).text


def batches(files: list[SourceFile], max_files: int) -> list[list[SourceFile]]:
    """``files`` cut into batches of about ``max_files`` (one run each, so that memory stays bounded however
    large the year), never separating files of the same size, so that identical files (duplicates) always
    meet in one batch and the second is rejected as a duplicate of the first."""
    out: list[list[SourceFile]] = []
    last = None
    sized = [((_stat(f) or (-1, 0))[0], f) for f in files]
    for size, f in sorted(sized, key=lambda x: (x[0], x[1].rel)):
        if not out or (len(out[-1]) >= max_files and size != last):
            out.append([])
        out[-1].append(f)
        last = size
    return out


def make_plan(
    root: Path,
    held: pd.DataFrame | None = None,
    files: list[str] | None = None,
    max_files: int | None = None,
    years: list[int] | None = None,
) -> RunPlan:
    """Plan a run over ``root``: every file found, or just ``files`` (relative paths); ``held`` is what the
    warehouse holds (None: nothing yet). More files to read than ``max_files`` become several batches.
    ``years`` fixes the run's year partitions instead of those the files are found to belong to."""
    found = discover(root, only=files or None)
    if files:
        missing = set(files) - {f.rel for f in found}
        if missing:
            raise PlanError(f"not found in {root}: {', '.join(sorted(missing))}")
    manifest = read_manifest(root)
    known = held_by_path(held)
    held = held if held is not None else pd.DataFrame(columns=["source_path"])
    file_years: dict[str, int | None] = {}
    unchanged: set[str] = set()
    for f in found:
        manifest_year = manifest.get(f.rel, {}).get("manifest_year")
        if f.reject:
            file_years[f.rel] = manifest_year
            continue
        same, st = known.get(f.rel), _stat(f)
        if same and st and same[:2] == st:
            unchanged.add(f.rel)
            file_years[f.rel] = file_year(f.rel, None, manifest_year, same[3])
        elif manifest_year:
            file_years[f.rel] = manifest_year
        else:
            file_years[f.rel] = file_year(f.rel, _head_text(f))
    plan = RunPlan(root, found, file_years, held, manifest, bool(files), frozenset(unchanged), [])
    if years:
        plan.batches = [Batch(tuple(sorted(years)), tuple(files or ()))]
    elif files or max_files is None or plan.to_read <= max_files:
        plan.batches = [Batch(tuple(plan.report_years() or [last_year()]), tuple(files or ()))]
    else:
        plan.batches = [
            Batch(
                tuple(plan.part(Batch((), tuple(f.rel for f in b))).report_years() or [last_year()]),
                tuple(f.rel for f in b),
            )
            for b in batches(found, max_files)
        ]
    return plan


def plan_run(
    root: Path, url: str, files: list[str] | None = None, years: list[int] | None = None, max_files: int | None = None
) -> RunPlan:
    """Plan a run against the warehouse at ``url``: it is opened (created if missing, its schema checked) and
    asked what it holds. A warehouse that cannot be used raises ``WarehouseUnavailable``: it is never taken for
    an empty one."""
    try:
        with open_warehouse(url) as engine:
            held, _ = existing_fingerprints(engine, paths=files or None)
    except Exception as exc:
        raise unavailable(url, exc) from exc
    return make_plan(root, held, files, max_files, years)
