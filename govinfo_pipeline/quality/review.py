"""Reviewed cells: a person's corrections laid over the cells as read, and the rules evaluated again on them.

Nothing here changes what was read: ``apply_corrections`` returns a new frame, and ``reevaluate`` compares the
rules on the cells as read with the rules on the reviewed cells. A correction's kind says what the reviewer found:

* ``misread``: the source says something else; its value and status replace the reader's in the reviewed layer;
* ``source_error``: the reading is right but the source itself is wrong; the value stays as written, and a rule
  that fails on it stays failed, marked as an error of the source;
* ``confirmed``: the reading is right and so is the failure it causes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from govinfo_pipeline.parse.values import BLANK, NONE, NUMBER, parse_cell
from govinfo_pipeline.quality.rules import evaluate

KINDS = ("misread", "source_error", "confirmed")
CELL_KEY = ["report_id", "section", "row", "col"]
# What a re-evaluated result says about the review: ordered by how much it needs a person still.
REVIEW_STATES = ("new_failure", "still_fails", "source_error", "confirmed", "resolved", "corrected")


class BadCorrection(ValueError):
    """A correction that cannot be applied as given (unknown kind, a value that is not a number)."""


def corrected_value(kind: str, typed: str | None) -> tuple[float | None, str | None]:
    """The value and status a reviewer's typed text stands for: a number, blank, or 无 (only for ``misread``)."""
    if kind not in KINDS:
        raise BadCorrection(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    if kind != "misread":
        return None, None
    value, _unit, status = parse_cell(typed if typed is not None else "", "signed_count")
    if status not in (NUMBER, BLANK, NONE):
        raise BadCorrection(f"{typed!r} is not a number, blank or 无")
    return value, status


def in_force(corrections: pd.DataFrame) -> pd.DataFrame:
    """The correction in force for each cell of each file version: the latest one saved."""
    if corrections.empty:
        return corrections
    ordered = corrections.sort_values(["corrected_at", "correction_id"], kind="stable")
    return ordered.drop_duplicates([*CELL_KEY, "source_sha256"], keep="last").reset_index(drop=True)


def apply_corrections(cells: pd.DataFrame, corrections: pd.DataFrame) -> pd.DataFrame:
    """The cells with the corrections in force laid over them (``corrections`` already matched to the files'
    sha256). Adds ``value_source`` ('reader' or 'reviewer'), ``review_kind``, ``read_value`` and ``read_status``."""
    out = cells.assign(
        value_source="reader", review_kind=None, read_value=cells["value"], read_status=cells["cell_status"]
    )
    if corrections.empty or cells.empty:
        return out
    force = in_force(corrections)[[*CELL_KEY, "kind", "value", "cell_status"]]
    merged = out.merge(force, on=CELL_KEY, how="left", suffixes=("", "_fix"), indicator=True)
    misread = (merged["kind"] == "misread").to_numpy()
    out["review_kind"] = merged["kind"].where(merged["_merge"] == "both", None).to_numpy()
    out["value"] = np.where(misread, merged["value_fix"], merged["value"]).astype("float64")
    out["cell_status"] = np.where(misread, merged["cell_status_fix"], merged["cell_status"])
    out["value_source"] = np.where(misread, "reviewer", "reader")
    return out


def _touches(cells_field: pd.Series, codes: set[str]) -> pd.Series:
    """Whether each result's cell list names one of ``codes``."""
    return cells_field.fillna("").map(lambda s: bool(codes & {c.strip() for c in s.split(",")}))


def reevaluate(
    reports: pd.DataFrame, cells: pd.DataFrame, claims: pd.DataFrame | None, corrections: pd.DataFrame
) -> pd.DataFrame:
    """The rules on the cells as read and on the reviewed cells, side by side, for the reports that have
    corrections: one row per result that failed either way or reads a reviewed cell, with its ``review`` state."""
    columns = [
        "report_id",
        "rule_id",
        "level",
        "subject",
        "operands",
        "cells",
        "read_outcome",
        "outcome",
        "passed",
        "expected",
        "observed",
        "review",
        "message",
    ]
    force = in_force(corrections)
    if force.empty:
        return pd.DataFrame(columns=columns)
    ids = set(force["report_id"])
    reports, cells = reports[reports["report_id"].isin(ids)], cells[cells["report_id"].isin(ids)]
    claims = None if claims is None else claims[claims["report_id"].isin(ids)]
    key = ["report_id", "rule_id", "subject", "operands"]
    read = evaluate(reports, cells, claims)
    reviewed = evaluate(reports, apply_corrections(cells, force), claims)
    both = reviewed.merge(
        read[[*key, "outcome", "cells", "level"]].rename(
            columns={"outcome": "read_outcome", "cells": "read_cells", "level": "read_level"}
        ),
        on=key,
        how="outer",
    )
    both["cells"] = both["cells"].fillna(both["read_cells"])
    both["level"] = both["level"].fillna(both["read_level"])
    rows = []
    for rid, part in both.groupby("report_id", sort=False):
        mine = force[force["report_id"] == rid]
        code = mine["section"] + "." + mine["row"] + "." + mine["col"]
        by_kind = {k: set(code[mine["kind"] == k]) for k in KINDS}
        touched = _touches(part["cells"], set(code))
        read_fail, now_fail = part["read_outcome"].eq("fail"), part["outcome"].eq("fail")
        review = np.select(
            [
                read_fail & ~now_fail,
                ~read_fail & now_fail,
                read_fail & now_fail & _touches(part["cells"], by_kind["source_error"]),
                read_fail & now_fail & _touches(part["cells"], by_kind["confirmed"]),
                read_fail & now_fail,
                touched,
            ],
            ["resolved", "new_failure", "source_error", "confirmed", "still_fails", "corrected"],
            default="",
        )
        rows.append(part.assign(review=review)[lambda d: d["review"] != ""])
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    return out[columns].reset_index(drop=True)
