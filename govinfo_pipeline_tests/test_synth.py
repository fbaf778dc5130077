"""The synthetic corpus (``synth/generator.py``) through the real ingest stages: decode, parse, check.

The oracle comes from the generator's own construction (the numbers it chose and the text it
wrote), never from the parser. Every expected cell must come back exactly (value, unit, status,
raw text), every planted (rule_id, subject) failure must be found, and nothing else may fail except
the warnings the generator causes on purpose (K1 for a table left blank, X7 for an amount without
a unit).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from types import SimpleNamespace

import pandas as pd
import pytest

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import codebook, prose, sources
from govinfo_pipeline.quality import rules
from govinfo_pipeline.synth import generator as synth

N = 300
SEED = 20250331


def _utf8_lookalike_lines(data: bytes) -> bool:
    """A GB18030 file with a non-ASCII line that is also valid UTF-8 (e.g. "\\t251000元": 元 = d4 aa)."""
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def _ingest(folder, counts) -> SimpleNamespace:
    """Decode, parse and check a written corpus the way the pipeline does."""
    oracle = json.loads((folder / synth.ORACLE_NAME).read_text(encoding="utf-8"))
    files = [f for f in sources.discover(folder) if f.rel != synth.ORACLE_NAME]
    raw = sources.read_files(files)
    normalized = parse_batch.normalize(raw)
    facts = rules.check(normalized)
    # GB18030 files the decoder reads line by line as "mixed" (see test_gb18030_lines_that_look_like_utf8)
    trap = {
        name
        for name, f in oracle["files"].items()
        if f["encoding"] == "gb18030" and _utf8_lookalike_lines((folder / name).read_bytes())
    }
    by_path = normalized["reports"].set_index("source_path")
    return SimpleNamespace(
        folder=folder,
        counts=counts,
        oracle=oracle,
        raw=raw,
        normalized=normalized,
        facts=facts,
        trap=trap,
        by_path=by_path,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    return _ingest(folder, synth.write_corpus(folder, N, seed=SEED))


@pytest.fixture(scope="module")
def trap_corpus(tmp_path_factory):
    """The first few GB18030 reports of the stream with a line that is also valid UTF-8 (about 1 in 100)."""
    folder = tmp_path_factory.mktemp("synth_trap")
    picked = []
    for rep in synth.generate(3000, seed=SEED):
        if rep.encoding == "gb18030" and _utf8_lookalike_lines(rep.data):
            picked.append(rep)
            if len(picked) == 6:
                break
    return _ingest(folder, synth.write_reports(folder, picked))


def _cell_mismatches(corpus, names) -> list[tuple]:
    cells = corpus.normalized["cells"]
    got = {
        (r.report_id, r.section, r.row, r.col): (r.value, r.unit, r.cell_status, r.raw_text) for r in cells.itertuples()
    }
    codes = corpus.oracle["cell_codes"]
    bad = []
    for name in names:
        f = corpus.oracle["files"][name]
        for (s, r, c), (value, unit, status, raw) in zip(codes[f["template_version"]], f["cells"], strict=True):
            g = got.get((f["report_id"], s, r, c))
            if g is None:
                bad.append((name, f"{s}.{r}.{c}", raw, (value, unit, status), None))
                continue
            gv, gu, gs, graw = g
            same_value = (value is None and (gv is None or math.isnan(gv))) or (
                value is not None and gv is not None and abs(gv - value) <= 1e-9
            )
            same_unit = (unit is None and (gu is None or gu is pd.NA or gu != gu)) or gu == unit
            if not (same_value and same_unit and gs == status and graw == raw):
                bad.append((name, f"{s}.{r}.{c}", raw, (value, unit, status), (gv, gu, gs, graw)))
    return bad


def _failures(corpus) -> dict[str, set[tuple[str, str]]]:
    res = corpus.facts["results"]
    failed = res[res["passed"].eq(False).fillna(False)]
    paths = corpus.normalized["reports"].set_index("report_id")["source_path"]
    out: dict[str, set[tuple[str, str]]] = {name: set() for name in corpus.oracle["files"]}
    for r in failed.itertuples():
        out[paths[r.report_id]].add((r.rule_id, r.subject))
    return out


def test_corpus_shape(corpus):
    counts, oracle = corpus.counts, corpus.oracle
    assert counts["files"] == N == len(oracle["files"]) == counts["distinct_report_ids"]
    assert counts["cells"] == sum(len(f["cells"]) for f in oracle["files"].values())
    assert set(counts["by_template"]) == {"2019", "2021"}
    assert min(counts["by_template"].values()) > N // 4
    years = {int(y) for y in counts["by_year"]}
    assert {2019, 2020, 2022} <= years and years <= set(range(2019, 2026))
    # exactly 20 % of the reports break one rule, each rule equally often
    assert counts["faulty_reports"] == N // 5
    kinds = len(synth.FAULT_KINDS)
    assert set(counts["by_fault"]) == set(synth.FAULT_KINDS) and sum(counts["by_fault"].values()) == N // 5
    assert set(counts["by_fault"].values()) <= {N // 5 // kinds, N // 5 // kinds + 1}
    assert {"utf-8", "utf-8-sig", "gb18030"} <= set(counts["by_encoding"])
    for f in oracle["files"].values():
        t, y = f["template_version"], f["report_year"]
        assert (t == "2019" and y in (2019, 2020)) or (t == "2021" and 2021 <= y <= 2025) or f["fault"] == "T1"
        assert len(f["cells"]) == len(codebook.cells(t))


def test_nothing_is_rejected_and_every_report_parses(corpus):
    assert corpus.normalized["rejections"].empty
    reps = corpus.by_path
    assert len(reps) == N
    clean = [n for n in corpus.oracle["files"] if n not in corpus.trap]
    assert set(reps.loc[clean, "parse_status"]) == {"parsed"}
    assert set(corpus.raw["encoding"]) >= {"utf-8", "utf-8-sig", "gb18030"}


def test_metadata(corpus):
    reps = corpus.by_path
    wrong = []
    for name, f in corpus.oracle["files"].items():
        r = reps.loc[name]
        got = (r["agency_name"], int(r["report_year"]), r["template_version"], r["report_id"])
        want = (f["agency_name"], f["report_year"], f["template_version"], f["report_id"])
        if got != want:
            wrong.append((name, want, got))
    assert wrong == []


def test_every_expected_cell_is_parsed_exactly(corpus):
    """Value, unit, status and raw text of all cells (outside the GB18030 decoder trap)."""
    names = [n for n in corpus.oracle["files"] if n not in corpus.trap]
    assert len(names) > N * 0.9
    bad = _cell_mismatches(corpus, names)
    assert bad == [], f"{len(bad)} cells differ, e.g. {bad[:5]}"


def test_trap_corpus_holds_gb18030_files_with_utf8_lookalike_lines(trap_corpus):
    """Precondition of the test below; these files are plain GB18030, each of them decodes as such."""
    assert len(trap_corpus.trap) == 6
    for name in trap_corpus.trap:
        data = (trap_corpus.folder / name).read_bytes()
        assert data.decode("gb18030").encode("gb18030") == data


def test_gb18030_lines_that_look_like_utf8(trap_corpus):
    """A GB18030 file in which some line is also valid UTF-8 ("\t251000元": 元 is d4 aa, 'Ԫ' in UTF-8;
    a label wrapped as "2.没" / "5.要") is GB18030, not mixed: no line comes out garbled."""
    assert set(trap_corpus.raw["encoding"]) == {"gb18030"}
    bad = _cell_mismatches(trap_corpus, sorted(trap_corpus.trap))
    assert bad == [], f"{len(bad)} cells differ, e.g. {bad[:5]}"


def test_planted_failures_are_found_and_nothing_else_fails(corpus):
    """Per report: the failed (rule_id, subject) pairs are exactly the planted and incidental ones."""
    failures = _failures(corpus)
    wrong = []
    for name, f in corpus.oracle["files"].items():
        if name in corpus.trap:
            continue
        want = {tuple(p) for p in f["planted"]} | {tuple(p) for p in f["incidental"]}
        if failures[name] != want:
            wrong.append((name, f["fault"], sorted(want - failures[name]), sorted(failures[name] - want)))
    assert wrong == [], f"{len(wrong)} reports (name, fault, missed, unexpected): {wrong[:5]}"


def test_every_planted_failure_is_found(corpus):
    failures = _failures(corpus)
    missed = [
        (name, tuple(p))
        for name, f in corpus.oracle["files"].items()
        for p in f["planted"]
        if tuple(p) not in failures[name]
    ]
    assert missed == []
    found_rules = Counter(rule for f in corpus.oracle["files"].values() for rule, _ in f["planted"])
    assert set(found_rules) == set(synth.FAULT_KINDS)


def test_reports_without_a_planted_failure_have_no_error(corpus):
    res = corpus.facts["results"]
    errors = res[res["passed"].eq(False).fillna(False) & (res["level"] == "error")]
    paths = corpus.normalized["reports"].set_index("report_id")["source_path"]
    offenders = sorted(
        {paths[r] for r in errors["report_id"]}
        - {name for name, f in corpus.oracle["files"].items() if f["planted"]}
        - corpus.trap
    )
    assert offenders == []
    status = corpus.facts["status"].assign(path=lambda d: d["report_id"].map(paths)).set_index("path")
    for name, f in corpus.oracle["files"].items():
        if name in corpus.trap:
            continue
        planted_errors = any(codebook.rules()[rule]["level"] == "error" for rule, _ in f["planted"])
        expected = "errors" if planted_errors else "warnings" if f["planted"] or f["incidental"] else "passed"
        assert status.loc[name, "quality_status"] == expected, name


def test_planted_sets_follow_the_fault(corpus):
    for name, f in corpus.oracle["files"].items():
        planted = {tuple(p) for p in f["planted"]}
        if f["fault"] is None:
            assert planted == set(), name
        elif f["fault"] == "T1":
            assert planted == {("T1", "template_version")}
            assert (f["report_year"], f["template_version"]) == (2022, "2019")
        elif f["fault"] == "X6":
            assert len(planted) == 1 and next(iter(planted))[0] == "X6"
            assert next(iter(planted))[1] in prose.FIGURES
        else:  # one rule id, on one or more subjects
            assert planted and {rule for rule, _ in planted} == {f["fault"]}, (name, planted)


def test_compare_scores_the_run(corpus):
    clean = {k: v for k, v in corpus.oracle["files"].items() if k not in corpus.trap}
    oracle = {**corpus.oracle, "files": clean}
    score = synth.compare(oracle, corpus.normalized["cells"], corpus.facts["results"])
    assert score["cells_expected"] == sum(len(f["cells"]) for f in clean.values())
    assert score["cells_correct"] == score["cells_expected"], score["cells_wrong_examples"]
    assert score["rule_failures_expected"] == sum(len(f["planted"]) for f in clean.values()) > 0
    assert score["rule_failures_found"] == score["rule_failures_expected"]
    assert score["unexpected_failures"] == 0
    # and on the whole oracle (a path works too), the trap files are what it reports as wrong
    whole = synth.compare(corpus.folder / synth.ORACLE_NAME, corpus.normalized["cells"], corpus.facts["results"])
    assert {w["file"] for w in whole["cells_wrong_examples"]} <= corpus.trap


def test_variety_of_the_text(corpus):
    """The forms the brief asks for are in the corpus (read from the generator's own output)."""
    raws = Counter()
    for f in corpus.oracle["files"].values():
        for *_, raw in f["cells"]:
            raws[raw] += 1
    texts = "\n".join(rep.data.decode(rep.encoding) for rep in synth.generate(N, seed=SEED))
    assert raws[""] and raws["\u00a0"] and raws["\u3000\u3000"] and raws["无"]
    assert any(r.endswith("（增）") for r in raws) and any(r.endswith("（减）") for r in raws)
    assert any(r.startswith("+") and r[1:].isdigit() for r in raws)
    assert any(r.endswith("万元") for r in raws) and any(r.endswith("元") and not r.endswith("万元") for r in raws)
    for needle in (
        "本年新\n制作数量",
        "结果\n维持",
        "三\n、\n本\n年",
        "本年制发件数",
        "本年废止件数",
        "现行有效件数",
        "本年处理决定数量",
        "本年收费金额（单位：万元）",
        "1.申请人无正当理由逾期不补正",
        "3.其他",
        "新收到政府信息公开申请共计",
        "上年度结转",
        "共办结",
        "予以公开",
        "件结转下一年度继续办理",
        "提起行政复议有",
        "一、总体情况",
        "3、 收到和处理政府信息公开申请情况",
        "\r\n",
    ):
        assert needle in texts, needle


def test_deterministic():
    a = list(synth.generate(60, seed=7))
    b = list(synth.generate(60, seed=7))
    assert [(r.name, r.data, r.planted, r.expected_cells) for r in a] == [
        (r.name, r.data, r.planted, r.expected_cells) for r in b
    ]
    c = list(synth.generate(60, seed=8))
    assert [r.data for r in a] != [r.data for r in c]
    # report i depends only on (seed, i): a smaller corpus is a prefix of a larger one
    assert [r.data for r in synth.generate(25, seed=7)] == [r.data for r in a[:25]]


def test_write_corpus_is_deterministic(tmp_path):
    synth.write_corpus(tmp_path / "a", 20, seed=3)
    synth.write_corpus(tmp_path / "b", 20, seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 21
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_arguments():
    only_2021 = list(synth.generate(40, seed=1, templates=("2021",)))
    assert {r.expected_meta["template_version"] for r in only_2021} == {"2021"}
    assert "T1" not in {r.fault for r in only_2021}
    assert not any(r.fault for r in synth.generate(20, seed=1, fault_share=0))
    with pytest.raises(ValueError):
        next(synth.generate(1, formats=("xls",)))
    with pytest.raises(ValueError):
        next(synth.generate(1, templates=("2017",)))
    assert set(synth.figure_names()) <= set(prose.FIGURES)
