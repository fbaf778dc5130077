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
from typing import cast

import numpy as np
import numpy.typing as npt
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


# A MinHash signature: N_HASHES 61-bit hashes.
Signature = npt.NDArray[np.uint64]


def signature(text: str, k: int = 4) -> Signature | None:
    """MinHash signature of the text's character k-grams (None for prose too short to judge)."""
    return signatures([text], k)[0]


def signatures(texts: list[str], k: int = 4) -> list[Signature | None]:
    """``signature`` of each text, worked out for all of them at once with numpy.

    A k-gram's hash is zlib.crc32 of its UTF-8 bytes, as it was when signatures were first stored. CRC-32 is
    linear, so that hash is the XOR of one table entry per character (the character's bytes followed by as
    many zero bytes as the gram's later characters take) and one per gram length: a few array lookups per
    gram instead of encoding and hashing each one in Python."""
    normal = [normalise(t) for t in texts]
    judged = [i for i, t in enumerate(normal) if len(t) >= _MIN_PROSE]
    out: list[Signature | None] = [None] * len(texts)
    if not judged:
        return out
    points = [np.frombuffer(normal[i].encode("utf-32-le"), dtype=np.uint32) for i in judged]
    lengths = np.array([len(p) for p in points])
    flat = np.concatenate(points)
    present = np.zeros(int(flat.max()) + 1, dtype=bool)
    present[flat] = True
    chars = np.flatnonzero(present)
    code = (np.cumsum(present) - 1)[flat]  # each character's row in the table
    width = 1 + (chars >= 0x80) + (chars >= 0x800) + (chars >= 0x10000)  # UTF-8 bytes of each character
    table = _char_table(chars, width, 4 * (k - 1))
    nbytes = width[code]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # grams start at every position that leaves k characters in the same text
    first = np.concatenate([np.arange(s, s + n - k + 1) for s, n in zip(starts, lengths, strict=True)])
    owner = np.repeat(np.arange(len(judged)), lengths - k + 1)
    hashed = np.zeros(len(first), dtype=np.uint32)
    after = np.zeros(len(first), dtype=np.int64)  # bytes of the gram's characters after position j
    for j in range(k - 1, -1, -1):
        hashed ^= table[code[first + j], after]
        after += nbytes[first + j]
    hashed ^= _zero_crc(after.max())[after]
    grams = np.sort(owner.astype(np.uint64) << np.uint64(32) | hashed.astype(np.uint64))
    grams = grams[_run_starts(grams)]  # each text's distinct grams
    report = (grams >> np.uint64(32)).astype(np.int64)
    # Texts share most of their grams (templated prose): each distinct gram is hashed N_HASHES ways once.
    distinct, which = np.unique(grams & np.uint64(0xFFFFFFFF), return_inverse=True)
    hashes = (distinct[:, None] * _A[None, :] + _B[None, :]) % np.uint64(_PRIME)
    bounds = np.searchsorted(report, np.arange(len(judged) + 1))
    for lo in range(0, len(judged), _SIGN_CHUNK):  # a bounded block of grams × hashes at a time
        hi = min(lo + _SIGN_CHUNK, len(judged))
        mins = np.minimum.reduceat(hashes[which[bounds[lo] : bounds[hi]]], bounds[lo:hi] - bounds[lo], axis=0)
        for i, row in zip(judged[lo:hi], mins, strict=True):
            out[i] = row
    return out


_MIN_PROSE = 50


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """True where a sorted array's value differs from the one before: each distinct value's first place."""
    return np.concatenate([[True], ordered[1:] != ordered[:-1]])


_SIGN_CHUNK = 64


def _char_table(chars: np.ndarray, width: np.ndarray, most_after: int) -> np.ndarray:
    """[character, n] -> CRC-32 register (from 0, no final XOR) after the character's UTF-8 bytes and n zero
    bytes."""
    table = np.empty((len(chars), most_after + 1), dtype=np.uint32)
    for i, c in enumerate(chars.tolist()):
        data = chr(c).encode("utf-8") + bytes(most_after)
        for n in range(most_after + 1):
            table[i, n] = zlib.crc32(data[: int(width[i]) + n], 0xFFFFFFFF) ^ 0xFFFFFFFF
    return table


def _zero_crc(most: int) -> np.ndarray:
    """[n] -> zlib.crc32 of n zero bytes: what the initial register adds to a message of n bytes."""
    return np.array([zlib.crc32(bytes(n)) for n in range(most + 1)], dtype=np.uint32)


def score(a: Signature, b: Signature) -> float:
    return float((a == b).mean())


def compare(reports: pd.DataFrame) -> pd.DataFrame:
    """Pairs worth reporting among ``reports`` (report_id, agency_id, report_year, prose); see compare_signed."""
    sigs = dict(zip(reports["report_id"], signatures(reports["prose"].tolist()), strict=True))
    return compare_signed(reports, sigs)


def compare_signed(
    reports: pd.DataFrame, sigs: dict[str, Signature | None], focus: set[str] | None = None
) -> pd.DataFrame:
    """Pairs worth reporting among ``reports`` (report_id, agency_id, report_year), given their signatures.

    Returns report_id, other_report_id, scope ('previous_year' or 'same_year'), score: every report
    against its body's previous-year report, and same-year pairs of different bodies that share an LSH
    bucket and score at least NEAR_DUPLICATE. With ``focus``, only pairs that involve one of those reports
    are looked for (a report of the focus, or the next-year report of the focus's body).
    """
    signed = reports[reports["report_id"].map(lambda r: sigs.get(r) is not None)].reset_index(drop=True)
    columns = ["report_id", "other_report_id", "scope", "score"]
    if signed.empty:
        return pd.DataFrame(columns=columns).astype({"score": float})
    ids = signed["report_id"].to_numpy(dtype=object)
    matrix = np.vstack(cast("list[Signature]", [sigs[r] for r in ids]))  # signed: not one of them is None
    in_focus = None if focus is None else signed["report_id"].isin(focus).to_numpy()
    row_of = pd.Series(np.arange(len(signed)), index=signed["report_id"])
    parts = []
    # Each report against its body's report of the year before (the last one listed, where there are two).
    bodies = reports[reports["agency_id"].notna() & reports["report_year"].notna()]
    last = bodies.drop_duplicates(["agency_id", "report_year"], keep="last")
    prev = signed.merge(
        last[["agency_id", "report_year", "report_id"]].assign(report_year=last["report_year"] + 1),
        on=["agency_id", "report_year"],
        suffixes=("", "_prev"),
    )
    prev = prev[prev["report_id_prev"].isin(row_of.index)]
    i, j = row_of[prev["report_id"]].to_numpy(), row_of[prev["report_id_prev"]].to_numpy()
    if in_focus is not None:
        keep = in_focus[i] | in_focus[j]
        i, j = i[keep], j[keep]
    parts.append(
        pd.DataFrame(
            {
                "report_id": ids[i],
                "other_report_id": ids[j],
                "scope": "previous_year",
                "score": (matrix[i] == matrix[j]).mean(axis=1) if len(i) else np.empty(0),
            }
        )
    )
    if len(signed) > 1:
        years = pd.factorize(signed["report_year"])[0].astype(np.uint64)
        agency = signed["agency_id"].to_numpy(dtype=object)
        first, second = _candidates(matrix, years, in_focus)
        other_body = agency[first] != agency[second]
        first, second = first[other_body], second[other_body]
        for lo in range(0, len(first), _SCORE_CHUNK):  # scored together, a block of pairs at a time
            a, b = first[lo : lo + _SCORE_CHUNK], second[lo : lo + _SCORE_CHUNK]
            scores = (matrix[a] == matrix[b]).mean(axis=1)
            near = scores >= NEAR_DUPLICATE
            a, b, scores = a[near], b[near], scores[near]
            parts.append(
                pd.DataFrame(
                    {
                        "report_id": np.concatenate([ids[a], ids[b]]),
                        "other_report_id": np.concatenate([ids[b], ids[a]]),
                        "scope": "same_year",
                        "score": np.concatenate([scores, scores]),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)[columns].astype({"score": float})


_SCORE_CHUNK = 200_000  # pairs scored at once: two blocks of 200,000 signatures, ~200 MB
_MIX = np.uint64(0x100000001B3)  # FNV-1a's prime: folds a band's hashes into one bucket key


def _candidates(
    matrix: np.ndarray, years: np.ndarray, in_focus: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of rows that share an LSH bucket (a band of ROWS hashes) in the same year; with
    ``in_focus``, only pairs with at least one row in focus.

    A band's hashes are folded into one 64-bit key per row, so that buckets are found by sorting numbers,
    not rows; two bands that fold to the same key by chance only add a candidate, which scoring drops."""
    n = len(matrix)
    firsts, seconds = [], []
    for band in range(BANDS):
        key = years.copy()
        for col in range(band * ROWS, (band + 1) * ROWS):
            key = (key ^ matrix[:, col]) * _MIX
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        starts = np.flatnonzero(_run_starts(ordered))
        sizes = np.diff(np.append(starts, n))
        bucket = np.repeat(np.arange(len(starts)), sizes)  # each sorted row's bucket
        chosen_at = sizes[bucket] > 1  # sorted rows in a shared bucket (and in focus, with one)
        if in_focus is not None:
            chosen_at &= in_focus[order]
        members, b = order[chosen_at], bucket[chosen_at]
        if not len(members):
            continue
        # every chosen row against every row of its bucket
        counts = sizes[b]
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        partner = order[np.repeat(starts[b], counts) + offsets]
        chosen = np.repeat(members, counts)
        firsts.append(np.minimum(chosen, partner)[chosen != partner])
        seconds.append(np.maximum(chosen, partner)[chosen != partner])
    if not firsts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    pairs = np.sort(np.concatenate(firsts).astype(np.int64) * n + np.concatenate(seconds))
    pairs = pairs[_run_starts(pairs)]  # a pair found in several bands once
    return pairs // n, pairs % n
