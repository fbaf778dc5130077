"""Copy-paste detection (内容雷同): how alike two reports' prose is.

Each report's prose (its six sections, with digits folded so that a changed year or count does not hide a
copy) becomes a MinHash signature of its character 4-grams. Pairs are compared with the same body's
previous report, and — through locality-sensitive hashing, so that a year of 140,000 reports is not
compared pair by pair — with other bodies' reports of the same year.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import numpy as np
import pandas as pd

N_HASHES = 64
# LSH: 10 bands of 6 hashes. A pair at 0.9 similarity shares a band with probability 1-(1-0.9^6)^10 > 0.999;
# one at 0.5, 0.15: templated prose (a few hundred bodies writing alike) does not make every pair a candidate.
BANDS, ROWS = 10, 6
NEAR_DUPLICATE = 0.9
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20210131)
_A = _rng.integers(1, _PRIME, N_HASHES, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, N_HASHES, dtype=np.uint64)


def normalise(text: str) -> str:
    return _DIGITS.sub("#", _SPACE.sub("", unicodedata.normalize("NFKC", text or "")))


def signature(text: str, k: int = 4) -> np.ndarray | None:
    """MinHash signature of the text's character k-grams (None for prose too short to judge)."""
    t = normalise(text)
    if len(t) < 50:
        return None
    grams = np.fromiter({zlib.crc32(t[i:i + k].encode("utf-8")) for i in range(len(t) - k + 1)}, dtype=np.uint64)
    hashed = (grams[:, None] * _A[None, :] + _B[None, :]) % np.uint64(_PRIME)
    return hashed.min(axis=0)


def score(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).mean())


def compare(reports: pd.DataFrame) -> pd.DataFrame:
    """Pairs worth reporting among ``reports`` (report_id, agency_id, report_year, prose); see compare_signed."""
    sigs = {rid: signature(prose) for rid, prose in zip(reports["report_id"], reports["prose"], strict=True)}
    return compare_signed(reports, sigs)


def compare_signed(reports: pd.DataFrame, sigs: dict[str, np.ndarray | None],
                   focus: set[str] | None = None) -> pd.DataFrame:
    """Pairs worth reporting among ``reports`` (report_id, agency_id, report_year), given their signatures.

    Returns report_id, other_report_id, scope ('previous_year' or 'same_year'), score: every report
    against its body's previous-year report, and same-year pairs of different bodies that share an LSH
    bucket and score at least NEAR_DUPLICATE. With ``focus``, only same-year pairs that involve one of
    those reports are looked for.
    """
    agency = dict(zip(reports["report_id"], reports["agency_id"], strict=True))
    year_of = dict(zip(reports["report_id"], reports["report_year"], strict=True))
    rows = []
    by_key = {(a, y): rid for rid, a, y in zip(reports["report_id"], reports["agency_id"], reports["report_year"],
                                                strict=True) if a is not None and y == y}
    for rid, sig in sigs.items():
        a, y = agency[rid], year_of[rid]
        prev = by_key.get((a, y - 1)) if a is not None and y == y else None
        if sig is not None and prev is not None and sigs.get(prev) is not None:
            rows.append((rid, prev, "previous_year", score(sig, sigs[prev])))
    ids = [rid for rid, sig in sigs.items() if sig is not None and rid in year_of]
    if len(ids) > 1:
        matrix = np.vstack([sigs[rid] for rid in ids])
        years = pd.factorize(pd.Series([year_of[rid] for rid in ids]))[0].astype(np.uint64)
        bodies = np.array([agency[rid] for rid in ids], dtype=object)
        in_focus = None if focus is None else np.array([rid in focus for rid in ids])
        first, second = _candidates(matrix, years, in_focus)
        other_body = bodies[first] != bodies[second]
        first, second = first[other_body], second[other_body]
        for lo in range(0, len(first), _SCORE_CHUNK):  # scored together, a million pairs at a time
            a, b = first[lo:lo + _SCORE_CHUNK], second[lo:lo + _SCORE_CHUNK]
            scores = (matrix[a] == matrix[b]).mean(axis=1)
            for i, j, sc in zip(a[scores >= NEAR_DUPLICATE], b[scores >= NEAR_DUPLICATE],
                                scores[scores >= NEAR_DUPLICATE], strict=True):
                rows += [(ids[i], ids[j], "same_year", float(sc)), (ids[j], ids[i], "same_year", float(sc))]
    return pd.DataFrame(rows, columns=["report_id", "other_report_id", "scope", "score"]).astype({"score": float})


_SCORE_CHUNK = 1_000_000


def _candidates(matrix: np.ndarray, years: np.ndarray,
                in_focus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of rows that share an LSH bucket (a band of ROWS hashes) in the same year; with
    ``in_focus``, only pairs with at least one row in focus."""
    firsts, seconds = [], []
    for band in range(BANDS):
        key = np.column_stack([years, matrix[:, band * ROWS:(band + 1) * ROWS]])
        _, bucket, sizes = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        bucket = bucket.ravel()
        shared = np.flatnonzero(sizes[bucket] > 1)
        if not len(shared):
            continue
        ordered = shared[np.argsort(bucket[shared], kind="stable")]
        for group in np.split(ordered, np.flatnonzero(np.diff(bucket[ordered])) + 1):
            if in_focus is None:
                i, j = np.triu_indices(len(group), 1)
                firsts.append(group[i])
                seconds.append(group[j])
                continue
            chosen = group[in_focus[group]]
            a, b = np.repeat(chosen, len(group)), np.tile(group, len(chosen))
            firsts.append(np.minimum(a, b)[a != b])
            seconds.append(np.maximum(a, b)[a != b])
    if not firsts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    n = len(matrix)
    pairs = np.unique(np.concatenate(firsts).astype(np.int64) * n + np.concatenate(seconds))
    return pairs // n, pairs % n
