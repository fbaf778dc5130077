"""Stage 1, raw: find the input files, hash and decode them."""

from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from govinfo_pipeline import store as wh
from govinfo_pipeline.defs.gx_checks import run_suite, suite_spec
from govinfo_pipeline.defs.partitions import batch_policy, partition_years, valid_year, year_partitions
from govinfo_pipeline.defs.resources import SourceFolder, Warehouse
from govinfo_pipeline.parse.sources import discover, mark_unchanged, read_files, read_manifest
from govinfo_pipeline.quality.checkframes import raw_view


class RawConfig(dg.Config):
    files: list[str] = Field(
        default_factory=list,
        description="Only these files, as paths relative to the input folder (e.g. one report). "
        "Empty: every file of the selected years.",
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
    files = discover(root, only=config.files or None)
    if config.files:
        wanted = set(config.files)
        missing = wanted - {f.rel for f in files}
        if missing:
            raise dg.Failure(f"not found in {root}: {', '.join(sorted(missing))}")
    with warehouse.session() as engine:
        # A run of given files (one report re-materialized) looks up only theirs.
        held, _ = wh.existing_fingerprints(engine, paths=[f.rel for f in files] if config.files else None)
    raw = read_files(files, source.max_file_bytes, manifest=read_manifest(root), held=held)
    years = partition_years(context)
    hint = raw["year_hint"]
    keep = hint.isin(years) | ~hint.map(lambda y: valid_year(None if pd.isna(y) else int(y)))
    if config.files:
        keep[:] = True
    raw = raw[keep.astype(bool)].reset_index(drop=True)
    raw = mark_unchanged(raw, held)
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
        },
    )
    yield run_suite(
        context, raw_view(raw), "raw_files", "raw_files", warehouse, params={"max_file_bytes": source.max_file_bytes}
    )
