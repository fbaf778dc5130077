"""Stage 3, facts: the consistency rules per report, and each report's quality status."""

import dagster as dg
import pandas as pd

from govinfo_pipeline.defs.gx_checks import run_suite, suite_spec
from govinfo_pipeline.defs.partitions import batch_policy, year_partitions
from govinfo_pipeline.defs.resources import Warehouse
from govinfo_pipeline.progress import meter
from govinfo_pipeline.quality.checkframes import results_view
from govinfo_pipeline.quality.rules import check


@dg.multi_asset(
    group_name="facts",
    partitions_def=year_partitions,
    backfill_policy=batch_policy,
    outs={
        "rule_results": dg.AssetOut(
            key_prefix="facts",
            kinds={"pandas"},
            description="One row per rule evaluated per report (and per column or row).",
        ),
        "report_quality": dg.AssetOut(
            key_prefix="facts",
            kinds={"pandas"},
            description="Each report's quality status: passed, warnings or errors.",
        ),
    },
    ins={
        "reports": dg.AssetIn(key=["normalized", "reports"]),
        "cells": dg.AssetIn(key=["normalized", "cells"]),
        "prose_numbers": dg.AssetIn(key=["normalized", "prose_numbers"]),
    },
    check_specs=[suite_spec("facts_rule_results", ["facts", "rule_results"])],
)
def facts(
    context: dg.AssetExecutionContext,
    reports: pd.DataFrame,
    cells: pd.DataFrame,
    prose_numbers: pd.DataFrame,
    warehouse: Warehouse,
):
    checking = meter("check", len(reports), context.run.tags, context.log.info)
    out = check({"reports": reports, "cells": cells, "claims": prose_numbers})
    checking.add(len(reports))  # the rules run on the whole batch at once
    timing = checking.finish()
    results, status = out["results"], out["status"]
    failed = results[results["passed"].eq(False).fillna(False)]
    yield dg.Output(
        results,
        output_name="rule_results",
        metadata={
            "dagster/row_count": len(results),
            "failures_by_rule": dg.MetadataValue.json(failed["rule_id"].value_counts().to_dict()),
            "outcomes": dg.MetadataValue.json(results["outcome"].value_counts().to_dict()),
        },
    )
    yield dg.Output(
        status,
        output_name="report_quality",
        metadata={
            "dagster/row_count": len(status),
            "by_status": dg.MetadataValue.json(status["quality_status"].value_counts().to_dict()),
            "seconds": timing["seconds"],
            "reports_per_second": timing["per_second"],
        },
    )
    yield run_suite(
        context,
        results_view(results),
        "facts_rule_results",
        ["facts", "rule_results"],
        warehouse,
        extra={
            "failures_by_rule": dg.MetadataValue.json(failed["rule_id"].value_counts().to_dict()),
            "worst_reports": dg.MetadataValue.json(worst_reports(reports, failed)),
        },
    )


def worst_reports(reports: pd.DataFrame, failed: pd.DataFrame, n: int = 10) -> list[dict]:
    """The reports with the most failed error rules, then warnings."""
    if failed.empty:
        return []
    counts = failed.pivot_table(
        index="report_id", columns="level", values="rule_id", aggfunc="count", fill_value=0
    ).reindex(columns=["error", "warning"], fill_value=0)
    top = counts.sort_values(["error", "warning"], ascending=False).head(n)
    names = reports.set_index("report_id")
    return [
        {
            "report_id": rid,
            "source_path": names.at[rid, "source_path"],
            "agency": names.at[rid, "agency_name"],
            "errors": int(row["error"]),
            "warnings": int(row["warning"]),
            "rules": sorted(set(failed.loc[failed["report_id"] == rid, "rule_id"])),
        }
        for rid, row in top.iterrows()
    ]
