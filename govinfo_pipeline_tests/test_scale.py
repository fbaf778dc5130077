"""What keeps a national year fast and bounded: unchanged files are not read again, parsing in worker
processes gives the same frames as parsing here, and large inputs are cut into batches that never separate
identical files."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import report, sources
from govinfo_pipeline.quality import checkframes, rules
from govinfo_pipeline.runner import plan
from govinfo_pipeline.store import writes
from govinfo_pipeline.synth import generator as synth


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scale") / "raw"
    synth.write_corpus(folder, 600, seed=7)
    (folder / synth.ORACLE_NAME).unlink()
    return folder


def test_parsing_in_worker_processes_gives_the_same_frames(corpus):
    raw = sources.read_files(sources.discover(corpus))
    here = parse_batch.normalize(raw, workers=1)
    forked = parse_batch.normalize(raw, workers=2)
    assert len(here["reports"]) == 600
    for name, frame in here.items():
        pd.testing.assert_frame_equal(frame, forked[name], obj=name)


def test_a_few_hundred_pdfs_are_worth_the_workers_where_text_files_are_not():
    from types import SimpleNamespace

    pdfs = [SimpleNamespace(source_format="pdf")] * 50  # 50 PDFs weigh as 500 text files: two workers
    texts = [SimpleNamespace(source_format="text")] * 50
    assert parse_batch.workers_for(pdfs, 4) == 2
    assert parse_batch.workers_for(texts, 4) == 0  # parsed here
    assert parse_batch.workers_for(pdfs + texts, 1) == 1


def test_parsing_pdfs_in_worker_processes_gives_the_same_frames(tmp_path):
    synth.write_corpus(tmp_path, 50, seed=11, formats=("pdf",))
    (tmp_path / synth.ORACLE_NAME).unlink()
    raw = sources.read_files(sources.discover(tmp_path))
    here, forked = parse_batch.normalize(raw, workers=1), parse_batch.normalize(raw, workers=2)
    assert len(here["reports"]) == 50 and len(here["cells"]) > 50 * 190
    for name, frame in here.items():
        pd.testing.assert_frame_equal(frame, forked[name], obj=name)


def test_gx_validates_a_few_deciding_rows_however_many_cells(corpus):
    normalized = parse_batch.normalize(sources.read_files(sources.discover(corpus)), workers=1)
    view = checkframes.cells_view(normalized["cells"], normalized["reports"])
    deciding = checkframes.distinct_rows(view, "normalized_cells")
    assert len(view) == 600 * 200 - 2 * sum(normalized["reports"]["template_version"] == "2019")  # 198 or 200 each
    assert len(deciding) * 20 < len(view)


def _held(raw: pd.DataFrame, year: int = 2020) -> pd.DataFrame:
    """What the warehouse would hold after loading ``raw``: one report per file."""
    return pd.DataFrame(
        {
            "report_id": [parse_batch.report_id_for(h) for h in raw["source_sha256"]],
            "source_path": raw["source_path"],
            "source_sha256": raw["source_sha256"],
            "parser_version": report.PARSER_VERSION,
            "source_size": raw["source_size"],
            "source_mtime_ns": raw["source_mtime_ns"],
            "report_year": year,
            "source_format": raw["source_format"],
            "loaded_at": pd.Timestamp("2026-01-01"),
        }
    )


def test_unchanged_files_are_not_read_again(sample_dir):
    folder = sample_dir
    first = sources.read_files(sources.discover(folder))
    assert first["read"].all() and len(first) == 5
    held = _held(first)
    edited = folder / first["source_path"].iloc[0]
    touched = folder / first["source_path"].iloc[1]
    edited.write_bytes(edited.read_bytes() + "\n补充说明。".encode())
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # same bytes, new mtime
    again = sources.mark_unchanged(sources.read_files(sources.discover(folder), held=held), held).set_index(
        "source_path"
    )
    assert again.loc[edited.name, "read"] and not again.loc[edited.name, "unchanged"]
    assert again.loc[touched.name, "read"] and again.loc[touched.name, "unchanged"]  # read, hash is the same
    others = again.drop(index=[edited.name, touched.name])
    assert not others["read"].any() and others["unchanged"].all()
    assert others["text"].isna().all() and (others["year_hint"] == 2020).all()  # the year the warehouse holds
    assert plan.make_plan(folder, held).to_read == 2
    # A parser upgrade makes every file new again.
    assert plan.make_plan(folder, held.assign(parser_version="0")).to_read == 5


def test_years_are_scanned_from_file_heads(corpus):
    raw = sources.read_files(sources.discover(corpus))
    planned = plan.make_plan(corpus).years
    hints = raw["year_hint"].astype(object).where(raw["year_hint"].notna(), None)
    assert planned == dict(zip(raw["source_path"], hints, strict=True))  # the head tells what the whole file does


def test_batches_never_separate_identical_files(tmp_path):
    sizes = [5, 3, 3, 3, 9, 1, 3, 7, 7, 2]
    for i, size in enumerate(sizes):
        (tmp_path / f"f{i:02d}.txt").write_bytes(b"x" * size)
    files = sources.discover(tmp_path)
    cut = plan.batches(files, 3)
    assert sorted(f.rel for b in cut for f in b) == sorted(f.rel for f in files)
    groups = [{f.path.stat().st_size for f in b} for b in cut]
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            assert not a & b  # one size, one batch
    # sorted sizes 1 2 3 | 3 3 3 (full, but the next file has the same size: it stays) | 5 7 7 | 9
    assert [len(b) for b in cut] == [6, 3, 1]
    # A plan over more files than a batch holds runs them batch by batch, each batch with the files' years.
    planned = plan.make_plan(tmp_path, None, max_files=3)
    assert [len(b.files) for b in planned.batches] == [6, 3, 1]
    assert all(b.years == (plan.last_year(),) for b in planned.batches)  # no year in these files: the latest


FRAMES = ("reports", "cells", "sections", "claims", "results")


def _with_copies(batch: dict) -> dict:
    """The batch plus copied reports: 40 under another body in the same year (same_year pairs), and 40 by the
    same body a year later (previous_year pairs)."""
    reports = batch["reports"].sort_values("report_id").reset_index(drop=True)
    copies = []
    for k, scope in enumerate(("other_body", "next_year")):
        src = reports.iloc[k * 40 : (k + 1) * 40]
        new_id = {rid: f"z{k}{rid[:14]}" for rid in src["report_id"]}  # not hex: never an existing id
        rep = src.assign(report_id=src["report_id"].map(new_id), source_path="copy/" + src["source_path"] + str(k))
        if scope == "other_body":
            rep = rep.assign(agency_id="copy" + rep["agency_id"].str[4:])
        else:
            rep = rep.assign(report_year=rep["report_year"] + 1)
        copies.append(
            {"reports": rep}
            | {
                name: batch[name][batch[name]["report_id"].isin(new_id)].assign(
                    report_id=lambda d, m=new_id: d["report_id"].map(m)
                )
                for name in FRAMES[1:]
            }
        )
    return {
        name: pd.concat([frame, *(c[name] for c in copies)], ignore_index=True) if name in FRAMES else frame
        for name, frame in batch.items()
    }


def test_copy_paste_judged_batch_by_batch_equals_judging_all_at_once(corpus, tmp_path):
    """S1 rewrites only what a new batch can change; two batches in turn must leave what one batch leaves."""
    import sqlalchemy as sa

    from govinfo_pipeline import store as wh

    normalized = parse_batch.normalize(sources.read_files(sources.discover(corpus)), workers=1)
    batch = _with_copies(writes.assemble(normalized, rules.check(normalized)))
    ids = sorted(batch["reports"]["report_id"])
    originals = [rid for rid in ids if not rid.startswith("z")]
    batches = [set(originals[::2]), set(originals[1::2]), set(ids) - set(originals)]  # copies come last
    years = sorted({int(y) for y in batch["reports"]["report_year"].dropna()})

    def part(keep: set) -> dict:
        return {k: (v[v["report_id"].isin(keep)] if "report_id" in v else v.iloc[0:0]) for k, v in batch.items()}

    def contents(engine) -> dict:
        with engine.connect() as conn:
            return {
                sql: sorted(map(tuple, conn.execute(sa.text(sql)).fetchall()))
                for sql in (
                    "SELECT report_id, other_report_id, scope, ROUND(score, 6) FROM report_similarity",
                    "SELECT report_id, subject, passed, observed, operands FROM quality_results WHERE rule_id = 'S1'",
                    "SELECT report_id, quality_status FROM reports",
                )
            }

    at_once = wh.connect(f"duckdb:///{tmp_path / 'once.duckdb'}")
    wh.ensure_schema(at_once)
    wh.write(at_once, batch)
    wh.copy_paste(at_once, years)
    in_turn = wh.connect(f"duckdb:///{tmp_path / 'turn.duckdb'}")
    wh.ensure_schema(in_turn)
    for one in batches:
        wh.write(in_turn, part(one))
        wh.copy_paste(in_turn, years, new_ids=sorted(one))
    once, turn = contents(at_once), contents(in_turn)
    pairs = next(iter(once.values()))
    assert {p[2] for p in pairs} == {"same_year", "previous_year"} and len(pairs) >= 80  # the copies pair up
    assert once == turn
    at_once.dispose()
    in_turn.dispose()


def test_workers_finish_when_the_parent_defers_sigterm(corpus):
    """Dagster defers SIGTERM in a step; forked parse workers inherit that and must still stop."""
    import faulthandler
    import signal

    raw = sources.read_files(sources.discover(corpus))
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    faulthandler.dump_traceback_later(300, exit=True)  # a hang fails the run instead of stalling it
    try:
        for _ in range(3):
            assert len(parse_batch.normalize(raw, workers=2)["reports"]) == 600
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGTERM, previous)


def test_looking_up_given_files_finds_what_the_walk_finds(tmp_path):
    """``discover(root, only=...)`` (one report re-read without walking the folder) = the walk, filtered."""
    root, outside = tmp_path / "in", tmp_path / "out"
    (root / "2020" / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("x", encoding="utf-8")
    (outside / "dir").mkdir()
    (outside / "dir" / "f.txt").write_text("x", encoding="utf-8")
    for rel in ("a.txt", "2020/b.txt", "2020/sub/报告 (副本).txt", ".hidden/c.txt", ".dot.txt", "a..b.txt"):
        (root / rel).write_text("x", encoding="utf-8")
    os.symlink(outside / "secret.txt", root / "leaves.txt")
    os.symlink(root / "a.txt", root / "2020" / "inside.txt")
    os.symlink(outside / "dir", root / "linked_dir")
    os.symlink(root / "missing", root / "dangling.txt")
    walk = sources.discover(root)
    asked = [
        "a.txt",
        "2020/b.txt",
        "2020/sub/报告 (副本).txt",
        ".hidden/c.txt",
        ".dot.txt",
        "a..b.txt",
        "leaves.txt",
        "2020/inside.txt",
        "linked_dir/f.txt",
        "linked_dir",
        "dangling.txt",
        "2020",
        "../out/secret.txt",
        "2020/../a.txt",
        "./a.txt",
        "nope.txt",
        "2020//b.txt",
        "",
        "/a.txt",
        str(root / "a.txt"),
        "//a.txt",
    ]
    for only in ([a] for a in asked):
        assert sources.discover(root, only=only) == [f for f in walk if f.rel in set(only)], only
    assert sources.discover(root, only=asked) == [f for f in walk if f.rel in set(asked)]
    assert {f.rel for f in sources.discover(root, only=asked)} == {
        "a.txt",
        "2020/b.txt",
        "2020/sub/报告 (副本).txt",
        "a..b.txt",
        "leaves.txt",
        "2020/inside.txt",
        "dangling.txt",
    }
    assert next(f for f in sources.discover(root, only=["leaves.txt"])).reject[0] == "outside_input"


def test_fingerprints_of_given_files_are_those_rows_of_all_fingerprints(sample_dir, tmp_path, dagster_home):
    """Looking up the fingerprints of some files (and report ids) gives exactly their rows of the full read."""
    from govinfo_pipeline import store as wh
    from govinfo_pipeline.launch import run_pipeline

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert run_pipeline(str(sample_dir), url).success
    engine = wh.connect(url)
    everything, _ = wh.existing_fingerprints(engine)
    paths = sorted(everything["source_path"])[:2] + ["not/held.txt"]
    other_id = sorted(everything["report_id"])[-1]
    some, rej = wh.existing_fingerprints(engine, paths=paths, ids=[other_id])
    want = everything[everything["source_path"].isin(paths) | (everything["report_id"] == other_id)]
    assert sorted(some["report_id"]) == sorted(want["report_id"]) and 2 <= len(some) <= 3
    assert rej.empty and list(rej.columns) == ["source_path", "source_sha256", "reason", "duplicate_of"]
    none, _ = wh.existing_fingerprints(engine, paths=[])
    assert none.empty and list(none.columns) == list(everything.columns)
    engine.dispose()
