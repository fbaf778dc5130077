"""The rules that hold the prose against the tables: X6 (each figure the prose quotes equals its table
figure) and X9 (the prose says no application came, and the table counts none)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from govinfo_pipeline.parse import prose
from govinfo_pipeline.parse.values import NUMBER
from govinfo_pipeline.quality.results import TOLERANCE, result_frame, rule_level


def _where(claims: pd.DataFrame) -> pd.Series:
    """``prose line N: `` for each claim (its line as a whole number, even where a batch holds claims without one,
    which makes the column float); ``prose: `` where the format has no lines (a PDF)."""
    line = pd.to_numeric(claims["source_line"], errors="coerce")
    return line.map(lambda v: "prose: " if pd.isna(v) else f"prose line {int(v)}: ")


def _prose_vs_table(cells: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """X6: each figure the prose quotes must equal its table figure (one result per quote)."""
    quotes = claims[claims["figure"].isin(prose.FIGURES)]
    if quotes.empty:
        return result_frame([])
    targets = pd.DataFrame(
        [(f, s, r, c) for f, codes in prose.FIGURES.items() for s, r, c in codes],
        columns=["figure", "section", "row", "col"],
    )
    hit = (
        quotes[["report_id", "figure"]]
        .drop_duplicates()
        .merge(targets, on="figure")
        .merge(
            cells[["report_id", "section", "row", "col", "value", "cell_status"]],
            on=["report_id", "section", "row", "col"],
            how="inner",
        )
    )
    hit = hit.assign(v=hit["value"].fillna(0.0), is_num=hit["cell_status"] == NUMBER)
    table = hit.groupby(["report_id", "figure"]).agg(observed=("v", "sum"), n=("v", "size"), n_num=("is_num", "sum"))
    out = quotes.merge(table.reset_index(), on=["report_id", "figure"], how="inner")
    if out.empty:
        return result_frame([])
    passed = (out["value"] - out["observed"]).abs() <= TOLERANCE
    outcome = np.where(~passed, "fail", np.where(out["n_num"] < out["n"], "assumed_zero", "pass"))
    codes = (
        targets.assign(code=targets["section"] + "." + targets["row"] + "." + targets["col"])
        .groupby("figure")["code"]
        .agg(",".join)
    )
    return result_frame(
        pd.DataFrame(
            {
                "report_id": out["report_id"],
                "rule_id": "X6",
                "level": rule_level("X6"),
                "passed": passed,
                "outcome": outcome,
                "subject": out["figure"],
                "expected": out["value"],
                "observed": out["observed"],
                "operands": _where(out) + out["phrase"],
                "cells": out["figure"].map(codes),
                "message": "X6 ["
                + out["figure"]
                + "] the prose says "
                + out["phrase"].map(repr)
                + " (line "
                + out["source_line"].astype(str)
                + "), the table says "
                + out["observed"].map("{:g}".format)
                + np.where(passed, "", ": they disagree"),
            }
        )
    )


def _no_applications(cells: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """X9: the prose says no application was received, but the table counts some (or the reverse)."""
    said = claims[claims["figure"] == prose.NO_APPLICATIONS_FIGURE].drop_duplicates("report_id")
    if said.empty:
        return result_frame([])
    app = cells[(cells["section"] == "application") & (cells["row"].isin(["new_received", "carried_over"]))]
    nonzero = app[(app["cell_status"] == NUMBER) & (app["value"] > 0)]
    counts = nonzero.groupby("report_id").size()
    out = said.assign(observed=said["report_id"].map(counts).fillna(0).astype(float))
    passed = out["observed"] == 0
    return result_frame(
        pd.DataFrame(
            {
                "report_id": out["report_id"],
                "rule_id": "X9",
                "level": rule_level("X9"),
                "passed": passed,
                "outcome": np.where(passed, "pass", "fail"),
                "subject": "new_received,carried_over",
                "expected": 0.0,
                "observed": out["observed"],
                "operands": _where(out) + out["phrase"],
                "cells": "application.new_received.*,application.carried_over.*",
                "message": np.where(
                    passed,
                    "X9: the prose says no application was received and the table counts none",
                    "X9: the prose says no application was received (line "
                    + out["source_line"].astype(str)
                    + "), but "
                    + out["observed"].map("{:g}".format)
                    + " cells of 新收/上年结转 are above 0",
                ),
            }
        )
    )
