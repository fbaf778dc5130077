"""What keeps a national year fast and bounded: unchanged files are not read again, parsing in worker
processes gives the same frames as parsing here, and large inputs are cut into batches that never separate
identical files."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from govinfo_pipeline.lib import checkframes, ingest, synth


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scale") / "raw"
    synth.write_corpus(folder, 600, seed=7)
    (folder / synth.ORACLE_NAME).unlink()
    return folder


def test_parsing_in_worker_processes_gives_the_same_frames(corpus):
    raw = ingest.read_files(ingest.discover(corpus))
    here = ingest.normalize(raw, workers=1)
    forked = ingest.normalize(raw, workers=2)
    assert len(here["reports"]) == 600
    for name, frame in here.items():
        pd.testing.assert_frame_equal(frame, forked[name], obj=name)


def test_gx_validates_a_few_deciding_rows_however_many_cells(corpus):
    normalized = ingest.normalize(ingest.read_files(ingest.discover(corpus)), workers=1)
    view = checkframes.cells_view(normalized["cells"], normalized["reports"])
    deciding = checkframes.distinct_rows(view, "normalized_cells")
    assert len(view) == 600 * 200 - 2 * sum(normalized["reports"]["template_version"] == "2019")  # 198 or 200 each
    assert len(deciding) * 20 < len(view)


def _held(raw: pd.DataFrame, year: int = 2020) -> pd.DataFrame:
    """What the warehouse would hold after loading ``raw``: one report per file."""
    return pd.DataFrame({
        "report_id": [ingest.report_id_for(h) for h in raw["source_sha256"]], "source_path": raw["source_path"],
        "source_sha256": raw["source_sha256"], "parser_version": ingest.PARSER_VERSION,
        "source_size": raw["source_size"], "source_mtime_ns": raw["source_mtime_ns"], "report_year": year,
        "source_format": raw["source_format"], "loaded_at": pd.Timestamp("2026-01-01")})


def test_unchanged_files_are_not_read_again(sample_dir):
    folder = sample_dir
    first = ingest.read_files(ingest.discover(folder))
    assert first["read"].all() and len(first) == 5
    held = _held(first)
    edited = folder / first["source_path"].iloc[0]
    touched = folder / first["source_path"].iloc[1]
    edited.write_bytes(edited.read_bytes() + "\n补充说明。".encode())
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # same bytes, new mtime
    again = ingest.mark_unchanged(ingest.read_files(ingest.discover(folder), held=held), held).set_index(
        "source_path")
    assert again.loc[edited.name, "read"] and not again.loc[edited.name, "unchanged"]
    assert again.loc[touched.name, "read"] and again.loc[touched.name, "unchanged"]  # read, hash is the same
    others = again.drop(index=[edited.name, touched.name])
    assert not others["read"].any() and others["unchanged"].all()
    assert others["text"].isna().all() and (others["year_hint"] == 2020).all()  # the year the warehouse holds
    assert ingest.to_read(ingest.discover(folder), held) == 2
    # A parser upgrade makes every file new again.
    assert ingest.to_read(ingest.discover(folder), held.assign(parser_version="0")) == 5


def test_years_are_scanned_from_file_heads(corpus):
    raw = ingest.read_files(ingest.discover(corpus))
    assert ingest.scan_years(ingest.discover(corpus)) == set(raw["year_hint"].dropna().astype(int))


def test_batches_never_separate_identical_files(tmp_path):
    sizes = [5, 3, 3, 3, 9, 1, 3, 7, 7, 2]
    for i, size in enumerate(sizes):
        (tmp_path / f"f{i:02d}.txt").write_bytes(b"x" * size)
    files = ingest.discover(tmp_path)
    cut = ingest.batches(files, 3)
    assert sorted(f.rel for b in cut for f in b) == sorted(f.rel for f in files)
    groups = [{f.path.stat().st_size for f in b} for b in cut]
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            assert not a & b  # one size, one batch
    # sorted sizes 1 2 3 | 3 3 3 (full, but the next file has the same size: it stays) | 5 7 7 | 9
    assert [len(b) for b in cut] == [6, 3, 1]
