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
BANDS, ROWS = 16, 4  # LSH: 16 bands of 4 hashes; pairs above ~0.6 similarity are very likely candidates
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


def compare_signed(reports: pd.DataFrame, sigs: dict[str, np.ndarray | None]) -> pd.DataFrame:
    """Pairs worth reporting among ``reports`` (report_id, agency_id, report_year), given their signatures.

    Returns report_id, other_report_id, scope ('previous_year' or 'same_year'), score: every report
    against its body's previous-year report, and same-year pairs of different bodies that share an LSH
    bucket and score at least NEAR_DUPLICATE.
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
    buckets: dict[tuple, list[str]] = {}
    for rid, sig in sigs.items():
        if sig is None:
            continue
        year = year_of[rid]
        for band in range(BANDS):
            buckets.setdefault((year, band, sig[band * ROWS:(band + 1) * ROWS].tobytes()), []).append(rid)
    seen = set()
    for members in buckets.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                pair = (a, b) if a < b else (b, a)
                if pair in seen or agency[a] == agency[b]:
                    continue
                seen.add(pair)
                s = score(sigs[a], sigs[b])
                if s >= NEAR_DUPLICATE:
                    rows += [(a, b, "same_year", s), (b, a, "same_year", s)]
    return pd.DataFrame(rows, columns=["report_id", "other_report_id", "scope", "score"]).astype({"score": float})
