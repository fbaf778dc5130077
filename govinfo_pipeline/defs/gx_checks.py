"""Running a Great Expectations suite as a Dagster asset check, and keeping its result."""

import json
import time

import dagster as dg
import pandas as pd

from govinfo_pipeline import store as wh
from govinfo_pipeline.defs.resources import Warehouse
from govinfo_pipeline.quality import gx
from govinfo_pipeline.quality.checkframes import distinct_rows


def suite_spec(suite: str, asset: str | list[str], blocking: bool = True) -> dg.AssetCheckSpec:
    """The check that runs ``suite`` on ``asset``; blocking checks stop garbage before the warehouse."""
    notes = gx.notes_text(gx.read_suite_json(suite).get("meta", {}).get("notes"))
    return dg.AssetCheckSpec(
        f"{suite}_suite",
        asset=asset,
        blocking=blocking,
        description=f"Great Expectations suite expectations/{suite}.json. {notes}",
    )


def partition_label(context: dg.AssetExecutionContext) -> str | None:
    if not context.has_partition_key_range:
        return None
    r = context.partition_key_range
    return r.start if r.start == r.end else f"{r.start}-{r.end}"


def run_suite(
    context: dg.AssetExecutionContext,
    df: pd.DataFrame,
    suite: str,
    asset: str | list[str],
    warehouse: Warehouse | None = None,
    params: dict | None = None,
    extra: dict | None = None,
) -> dg.AssetCheckResult:
    """Validate ``df``; ERROR when a critical expectation fails, WARN when only warnings do."""
    started = time.perf_counter()
    deciding = distinct_rows(df, suite)  # the same verdict as the whole frame, on far fewer rows
    result = gx.validate(deciding, suite, params)
    seconds = time.perf_counter() - started
    context.log.info(result.summary())
    if warehouse is not None:
        try:
            with warehouse.session() as engine:
                wh.record_validation(
                    engine,
                    {
                        "run_id": context.run_id,
                        "suite": suite,
                        "asset_key": dg.AssetKey.from_coercible(asset).to_user_string(),
                        "partitions": partition_label(context),
                        "success": result.success,
                        "critical_failed": result.critical_failed,
                        "evaluated": result.evaluated,
                        "unsuccessful": result.unsuccessful,
                        "rows": len(df),
                        "seconds": round(seconds, 4),
                        "failures": json.dumps(result.failures, ensure_ascii=False, default=str),
                    },
                )
        except Exception as exc:  # the check's verdict stands even if it cannot be stored
            context.log.warning(f"could not store the {suite} validation in the warehouse: {exc}")
    return dg.AssetCheckResult(
        check_name=f"{suite}_suite",
        asset_key=asset,
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR if result.critical_failed else dg.AssetCheckSeverity.WARN,
        description=result.summary(),
        metadata={
            "suite": f"expectations/{suite}.json",
            "rows": len(df),
            "validated_rows": len(deciding),
            "evaluated": result.evaluated,
            "unsuccessful": result.unsuccessful,
            "validation_seconds": round(seconds, 3),
            "failures": dg.MetadataValue.json(result.failures[:20]),
            **(extra or {}),
        },
    )
