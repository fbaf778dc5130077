"""Stage 1, raw: find the input files, hash and decode them."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from govinfo_pipeline import store as wh
from govinfo_pipeline.defs.gx_checks import run_suite, suite_spec
from govinfo_pipeline.defs.partitions import batch_policy, partition_years, year_partitions
from govinfo_pipeline.defs.resources import SourceFolder, Warehouse
from govinfo_pipeline.parse.sources import mark_unchanged, read_files
from govinfo_pipeline.progress import meter
from govinfo_pipeline.quality.checkframes import raw_view
from govinfo_pipeline.runner import plan as run_plan


class RawConfig(dg.Config):
    files: list[str] = Field(
        default_factory=list,
        description="Only these files, as paths relative to the input folder (e.g. one report). "
        "Empty: every file of the selected years.",
    )
    plan: str | None = Field(
        default=None,
        description="The run plan made by `govinfo run` (a file under the batch folder). Without one, the asset "
        "plans the run itself, as the CLI would.",
    )


@dg.asset(
    group_name="raw",
    partitions_def=year_partitions,
    backfill_policy=batch_policy,
    kinds={"python", "pandas"},
    description="Every input file of the selected years: path, sha256, size, decoded text and encoding, "
    "or the reason it could not be read. Files whose year cannot be told are read in every run.",
    check_specs=[suite_spec("raw_files", "raw_files")],
)
def raw_files(context: dg.AssetExecutionContext, config: RawConfig, source: SourceFolder, warehouse: Warehouse):
    root = Path(source.path)
    if not root.is_dir():
        raise dg.Failure(f"input folder {root} does not exist or is not a folder")
    if config.plan and Path(config.plan).exists():  # (a run re-executed from the UI plans again)
        plan = run_plan.load(config.plan)
    else:
        with warehouse.session() as engine:  # a run of given files (one report) looks up only theirs
            held, _ = wh.existing_fingerprints(engine, paths=config.files or None)
        try:
            plan = run_plan.make_plan(root, held, files=config.files or None)
        except run_plan.PlanError as exc:
            raise dg.Failure(str(exc)) from exc
    files = plan.files_for(partition_years(context))
    read = meter("read", len(files), context.run.tags, context.log.info)
    raw = read_files(files, source.max_file_bytes, manifest=plan.manifest, held=plan.held, progress=read.add)
    raw = mark_unchanged(raw, plan.held)
    timing = read.finish()
    yield dg.Output(
        raw,
        metadata={
            "files": len(raw),
            "decoded": int(raw["text"].notna().sum()),
            "unreadable": int(raw["reason"].notna().sum()),
            "unchanged": int(raw["unchanged"].sum()),
            "read": int(raw["read"].sum()),
            "input_folder": str(root),
            "dagster/row_count": len(raw),
            "seconds": timing["seconds"],
            "files_per_second": timing["per_second"],
        },
    )
    yield run_suite(
        context, raw_view(raw), "raw_files", "raw_files", warehouse, params={"max_file_bytes": source.max_file_bytes}
    )
