"""Great Expectations suites from ``expectations/*.json``, validated against pandas frames.

GX is imported lazily (the import costs seconds and hundreds of MB), one ephemeral context per
process. Unknown expectation types are an error here: GX itself drops them with only a log line.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import pandas as pd

from govinfo_pipeline import settings

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext, EphemeralDataContext
    from great_expectations.data_context.types.base import ProgressBarsConfig

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


class SuiteError(ValueError):
    """A suite file that cannot be loaded exactly as written."""


def expectations_dir() -> Path:
    return settings.project_root() / "expectations"


def suite_names() -> list[str]:
    return sorted(p.stem for p in expectations_dir().glob("*.json"))


def read_suite_json(name: str) -> dict[str, Any]:
    path = expectations_dir() / f"{name}.json"
    if not path.exists():
        raise SuiteError(f"no suite file {path.name} in {path.parent}")
    suite: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return suite


def _no_progress_bars(ctx: AbstractDataContext) -> None:
    # GX annotates the setting as a ProgressBarsConfig but reads it as a mapping (its config substitution
    # walks a dict, not that object): the plain dict is kept, and only the type checker is told otherwise.
    ctx.variables.progress_bars = cast("ProgressBarsConfig", {"globally": False, "metric_calculations": False})


@functools.cache
def _context() -> EphemeralDataContext:
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    _no_progress_bars(ctx)
    return ctx


@functools.cache
def _batch_definition() -> BatchDefinition[None]:
    source = _context().data_sources.add_pandas("govinfo_frames")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


@functools.cache
def load_suite(name: str) -> gx.ExpectationSuite:
    """The suite as a GX object; raises SuiteError when GX would silently drop an expectation."""
    import great_expectations as gx
    import great_expectations.exceptions as gx_exc

    raw = read_suite_json(name)
    if raw.get("name") != name:
        raise SuiteError(f"{name}.json names itself {raw.get('name')!r}")
    try:
        suite = gx.ExpectationSuite(**raw)
    except (gx_exc.GreatExpectationsError, ValueError, TypeError) as exc:
        raise SuiteError(f"{name}.json: {exc}") from exc
    if len(suite.expectations) != len(raw["expectations"]):
        known = {e.expectation_type for e in suite.expectations}
        dropped = [e["type"] for e in raw["expectations"] if e["type"] not in known]
        raise SuiteError(
            f"{name}.json: GX dropped {len(raw['expectations']) - len(suite.expectations)} "
            f"expectation(s) it does not know: {dropped}"
        )
    return suite


def notes_text(notes: Any) -> str:
    """The text of a GX ``notes`` field ({"format": "markdown", "content": [...]}, or a string)."""
    if isinstance(notes, dict):
        content = notes.get("content", "")
        return " ".join(content) if isinstance(content, list) else str(content)
    return str(notes or "")


class Failure(TypedDict):
    """One unmet expectation, as the checks report it."""

    expectation: str
    severity: str
    kwargs: dict[str, Any]
    notes: str
    unexpected_count: int | None
    examples: list[str]
    error: str | None


@dataclass
class Validation:
    """What a suite found: overall success, whether a critical expectation failed, and the failures."""

    suite: str
    success: bool
    critical_failed: bool
    evaluated: int
    unsuccessful: int
    failures: list[Failure] = field(default_factory=list)
    raw: ExpectationSuiteValidationResult | None = None  # None where GX was not needed (an empty frame)

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: all {self.evaluated} expectations met"
        return f"{self.suite}: {self.unsuccessful} of {self.evaluated} expectations failed" + (
            " (critical)" if self.critical_failed else " (warnings only)"
        )


def _validate_empty(df: pd.DataFrame, name: str) -> Validation | None:
    """An empty frame (a re-run with nothing new) without importing GX: its schema expectations are checked
    here, and every expectation on column values holds, as GX too would find, since no row can break it.
    None when the suite has an expectation on the table itself (a row count), which GX must judge."""
    raw = read_suite_json(name)["expectations"]
    if not df.empty or any(
        e["type"].startswith("expect_table_") and e["type"] != "expect_table_columns_to_match_set" for e in raw
    ):
        return None
    failures: list[Failure] = []
    for e in raw:
        if e["type"] != "expect_table_columns_to_match_set":
            continue
        want, have = set(e["kwargs"]["column_set"]), set(df.columns)
        if have != want if e["kwargs"].get("exact_match", True) else not want <= have:
            failures.append(
                {
                    "expectation": e["type"],
                    "severity": e.get("severity", "critical"),
                    "kwargs": {},
                    "notes": notes_text((e.get("meta") or {}).get("notes")),
                    "unexpected_count": None,
                    "examples": sorted(have ^ want)[:5],
                    "error": None,
                }
            )
    critical = any(f["severity"] == "critical" for f in failures)
    return Validation(name, not failures, critical, len(raw), len(failures), failures)


def validate(df: pd.DataFrame, name: str, params: dict[str, Any] | None = None) -> Validation:
    """Validate ``df`` against suite ``name``; errors inside expectations count as critical failures."""
    empty = _validate_empty(df, name)
    if empty is not None:
        return empty
    suite = load_suite(name)
    result = (
        _batch_definition()
        .get_batch(batch_parameters={"dataframe": df})
        .validate(suite, result_format="SUMMARY", expectation_parameters=params or {})
    )
    failures: list[Failure] = []
    critical = False
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        assert cfg is not None  # set on every result of a suite's validation
        severity = str(getattr(cfg.severity, "value", cfg.severity) or "critical")
        raised = bool((r.exception_info or {}).get("raised_exception"))
        if severity == "critical" or raised:
            critical = True
        kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("value_set", "column_set")}
        failures.append(
            {
                "expectation": cfg.type,
                "severity": severity,
                "kwargs": kwargs,
                "notes": notes_text((cfg.meta or {}).get("notes")),
                "unexpected_count": r.result.get("unexpected_count"),
                "examples": [str(x) for x in (r.result.get("partial_unexpected_list") or [])[:5]],
                "error": (r.exception_info or {}).get("exception_message") if raised else None,
            }
        )
    stats = result.statistics
    return Validation(
        name,
        bool(result.success),
        critical,
        int(stats["evaluated_expectations"]),
        int(stats["unsuccessful_expectations"]),
        failures,
        result,
    )


_MARKUP = re.compile(r"[<>&\"']")


def escape_markup(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``<``, ``>``, ``&`` and quotes in its text escaped as HTML entities. GX writes the unexpected
    values it shows into Data Docs as markup, unescaped: a report's text must reach the page as text. Values
    without those characters (every value a suite allows) are left as they are, so verdicts do not change."""

    def escape(v: object) -> object:
        return html.escape(v) if isinstance(v, str) and _MARKUP.search(v) else v

    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].cat.rename_categories(escape)
        elif out[col].dtype == object:
            out[col] = out[col].map(escape)
    return out


def build_data_docs(frames: dict[str, tuple[pd.DataFrame, dict[str, Any] | None]], target: Path) -> Path:
    """Validate each (suite → frame) with a checkpoint that writes GX Data Docs into ``target``.

    Runs in its own context, serially: Data Docs are not built inside the pipeline's checks. Text that holds
    markup is escaped first (``escape_markup``).
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    target.mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="ephemeral")
    _no_progress_bars(ctx)
    ctx.add_data_docs_site(
        site_name="govinfo",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    source = ctx.data_sources.add_pandas("govinfo_warehouse")
    for name, (df, params) in frames.items():
        load_suite(name)  # refuse a suite GX would load only in part
        suite = ctx.suites.add(gx.ExpectationSuite(**read_suite_json(name)))
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"validate_{name}", data=batch, suite=suite))
        checkpoint = ctx.checkpoints.add(
            gx.Checkpoint(
                name=f"docs_{name}",
                validation_definitions=[vd],
                actions=[UpdateDataDocsAction(name="update_docs", site_names=["govinfo"])],
            )
        )
        checkpoint.run(batch_parameters={"dataframe": escape_markup(df)}, expectation_parameters=params or {})
    return target / "index.html"
