"""S1's pair finding against its definition, worked out pair by pair."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pandas as pd
import pytest

from govinfo_pipeline.quality import similarity as sim


def reference_signature(text: str, k: int = 4) -> np.ndarray | None:
    """The definition: MinHash over zlib.crc32 of each distinct k-gram's UTF-8 bytes."""
    t = sim.normalise(text)
    if len(t) < 50:
        return None
    grams = np.array(sorted({zlib.crc32(t[i : i + k].encode("utf-8")) for i in range(len(t) - k + 1)}), dtype=np.uint64)
    return ((grams[:, None] * sim._A[None, :] + sim._B[None, :]) % np.uint64(sim._PRIME)).min(axis=0)


def test_batch_signatures_equal_the_definition_for_every_kind_of_character():
    rng = np.random.default_rng(5)
    alphabet = list("ab1 \n\t政府信息公开é€ÅΩ") + ["\U00020000", "\U0001f600"]  # 1- to 4-byte UTF-8
    texts = ["".join(rng.choice(alphabet, size=int(n))) for n in rng.integers(0, 400, 300)]
    texts += ["x" * 49, "", "政" * 60, "（一）主动公开情况。" * 20, None]
    got = sim.signatures(texts)
    assert len(got) == len(texts)
    for text, sig in zip(texts, got, strict=True):
        want = reference_signature(text or "")
        assert (sig is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(sig, want)
    assert sim.signature("x" * 49) is None and sim.signature("政" * 60) is not None


def corpus() -> tuple[pd.DataFrame, dict]:
    """60 bodies over two years; some reports copy another body's (same year), some their own previous one."""
    rng = np.random.default_rng(7)
    chars = list("政府信息公开申请办理答复复议诉讼主动依法规范年度报告工作情况")
    words = ["".join(rng.choice(chars, 2)) for _ in range(400)]  # no digits: prose folds them

    def prose() -> str:
        return "".join(rng.choice(words, 300))

    rows, texts = [], {}
    for body in range(60):
        for year in (2020, 2021):
            rid = f"r{body}_{year}"
            rows.append((rid, f"a{body}", year))
            texts[rid] = prose()
    for body in range(0, 10):  # body b+30 copies body b in 2021 (exactly, or with a few words changed)
        src = texts[f"r{body}_2021"]
        texts[f"r{body + 30}_2021"] = src if body % 2 else src[:-12] + "改动了几个字"
    for body in range(10, 15):  # these bodies repeat their 2020 report in 2021
        texts[f"r{body}_2021"] = texts[f"r{body}_2020"]
    texts["r59_2021"] = "太短"
    reports = pd.DataFrame(rows, columns=["report_id", "agency_id", "report_year"])
    return reports, {rid: reference_signature(t) for rid, t in texts.items()}


def brute_force(reports: pd.DataFrame, sigs: dict) -> set[tuple]:
    out = set()
    by = {(a, y): r for r, a, y in reports.itertuples(index=False)}
    for r, a, y in reports.itertuples(index=False):
        p = by.get((a, y - 1))
        if sigs[r] is not None and p and sigs[p] is not None:
            out.add((r, p, "previous_year", round(sim.score(sigs[r], sigs[p]), 6)))
    for (r1, a1, y1), (r2, a2, y2) in itertools.combinations(reports.itertuples(index=False), 2):
        if y1 == y2 and a1 != a2 and sigs[r1] is not None and sigs[r2] is not None:
            s = sim.score(sigs[r1], sigs[r2])
            if s >= sim.NEAR_DUPLICATE:
                out |= {(r1, r2, "same_year", round(s, 6)), (r2, r1, "same_year", round(s, 6))}
    return out


def as_set(pairs: pd.DataFrame) -> set[tuple]:
    return {(a, b, c, round(d, 6)) for a, b, c, d in pairs.itertuples(index=False)}


def test_pairs_are_those_of_the_definition():
    reports, sigs = corpus()
    want = brute_force(reports, sigs)
    assert len([p for p in want if p[2] == "same_year"]) == 20  # the ten copies, both ways
    assert {p[0] for p in want if p[2] == "previous_year" and p[3] == 1.0} == {f"r{b}_2021" for b in range(10, 15)}
    assert as_set(sim.compare_signed(reports, sigs)) == want


@pytest.mark.parametrize("focus", [{"r3_2021"}, {"r12_2020", "r40_2021"}, set()])
def test_focus_keeps_exactly_the_pairs_that_involve_it(focus):
    reports, sigs = corpus()
    want = {p for p in brute_force(reports, sigs) if p[0] in focus or p[1] in focus}
    got = as_set(sim.compare_signed(reports, sigs, focus=focus))
    assert got == want
