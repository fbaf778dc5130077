"""Stage 2, normalized: each report's metadata, section prose and every table cell."""

import dagster as dg
import pandas as pd

from govinfo_pipeline.defs.gx_checks import run_suite, suite_spec
from govinfo_pipeline.defs.partitions import batch_policy, year_partitions
from govinfo_pipeline.defs.resources import Warehouse
from govinfo_pipeline.parse.batch import normalize
from govinfo_pipeline.progress import meter
from govinfo_pipeline.quality import checkframes as cf

OUTS = {
    "reports": "One row per report: agency, year, template version, title, parse status.",
    "cells": "Every table cell, long format: (section, row, col, value, unit, cell_status, raw_text, source_line).",
    "sections": "The six sections' headings and prose.",
    "prose_numbers": "Figures the prose quotes (新收…N件, 办结N件, 行政复议N件 …), each with its line.",
    "rejections": "Files that could not become a report, with the reason.",
    "files": "The ledger: every file seen, and whether it became a report or a rejection.",
}


@dg.multi_asset(
    group_name="normalized",
    partitions_def=year_partitions,
    backfill_policy=batch_policy,
    outs={
        name: dg.AssetOut(key_prefix="normalized", description=desc, kinds={"pandas"}) for name, desc in OUTS.items()
    },
    ins={"raw_files": dg.AssetIn()},
    check_specs=[
        suite_spec("normalized_reports", ["normalized", "reports"]),
        suite_spec("normalized_cells", ["normalized", "cells"]),
        suite_spec("normalized_cell_counts", ["normalized", "cells"]),
        suite_spec("raw_duplicates", ["normalized", "rejections"]),
    ],
)
def normalized(context: dg.AssetExecutionContext, raw_files: pd.DataFrame, warehouse: Warehouse):
    parse = meter("parse", len(raw_files), context.run.tags, context.log.info)
    tables = normalize(raw_files, progress=parse.add)
    timing = parse.finish()
    tables["prose_numbers"] = tables.pop("claims")
    for name in OUTS:
        df = tables[name]
        meta: dict[str, dg.MetadataValue | int | float] = {"dagster/row_count": len(df)}
        if name == "files":
            meta["seconds"], meta["files_per_second"] = timing["seconds"], timing["per_second"]
        if name == "reports" and not df.empty:
            meta["by_parse_status"] = dg.MetadataValue.json(df["parse_status"].value_counts().to_dict())
            meta["by_template"] = dg.MetadataValue.json(df["template_version"].value_counts().to_dict())
        if name == "files":
            meta["reports"] = int((df["outcome"] == "report").sum())
            meta["rejected"] = int((df["outcome"] == "rejected").sum())
            meta["unchanged"] = int((df["outcome"] == "unchanged").sum())
        if name == "rejections" and not df.empty:
            meta["by_reason"] = dg.MetadataValue.json(df["reason"].value_counts().to_dict())
        yield dg.Output(df, output_name=name, metadata=meta)
    reports, cells = tables["reports"], tables["cells"]
    yield run_suite(context, cf.reports_view(reports), "normalized_reports", ["normalized", "reports"], warehouse)
    yield run_suite(context, cf.cells_view(cells, reports), "normalized_cells", ["normalized", "cells"], warehouse)
    yield run_suite(
        context, cf.cell_counts(cells, reports), "normalized_cell_counts", ["normalized", "cells"], warehouse
    )
    yield run_suite(
        context,
        cf.duplicate_accounting(raw_files, reports, tables["rejections"]),
        "raw_duplicates",
        ["normalized", "rejections"],
        warehouse,
    )
