"""The shape every rule result has, whichever rule made it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from govinfo_pipeline.parse import codebook

RESULT_COLUMNS = [
    "report_id",
    "rule_id",
    "level",
    "passed",
    "outcome",
    "subject",
    "expected",
    "observed",
    "operands",
    "cells",
    "message",
]


TOLERANCE = 1e-6


def rule_level(rule_id: str) -> str:
    return codebook.rules().get(rule_id, {}).get("level", "warning")


def result_frame(rows: Sequence[Mapping[str, object]] | pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in RESULT_COLUMNS:
        if c not in df:
            df[c] = None
    return df[RESULT_COLUMNS]
