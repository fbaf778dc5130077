"""Resources: the input folder, the warehouse and the batch IO manager."""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from govinfo_pipeline import settings
from govinfo_pipeline import store as warehouse
from govinfo_pipeline.store.sessions import LOCK_TIMEOUT_SECONDS, open_warehouse


class SourceFolder(dg.ConfigurableResource):
    """The folder of raw report files."""

    path: str
    max_file_bytes: int = 200 * 1024 * 1024


class Warehouse(dg.ConfigurableResource):
    """The SQL warehouse, by SQLAlchemy URL (DuckDB file by default, PostgreSQL in production)."""

    url: str
    lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS

    _schema_checked: bool = PrivateAttr(default=False)

    @contextlib.contextmanager
    def session(self, write: bool = False) -> Iterator[sa.Engine]:
        """``with warehouse.session() as engine:`` — see ``open_warehouse``. The schema is checked until a check
        passes, then no more in this step: a run does not change it (a step records up to four validations)."""
        with open_warehouse(self.url, write, self.lock_timeout_seconds, check_schema=not self._schema_checked) as e:
            self._schema_checked = True
            yield e

    def engine(self) -> sa.Engine:
        """An engine without the cross-run locks (callers in one process only)."""
        engine = warehouse.connect(self.url)
        warehouse.ensure_schema(engine)
        return engine


class BatchIOManager(dg.ConfigurableIOManager):
    """Pickles each stage's output per asset and partition range.

    Dagster's filesystem IO manager stores one file per partition and refuses an output that
    covers several; our assets take a whole batch of partitions (a year, or a backfill of years)
    in one run, so the batch is stored under its range.
    """

    base_dir: str

    def _path(self, context: dg.InputContext | dg.OutputContext) -> Path:
        if context.has_asset_partitions:
            r = context.asset_partition_key_range
            part = r.start if r.start == r.end else f"{r.start}-{r.end}"
        else:
            part = "all"
        return Path(self.base_dir, *context.asset_key.path, f"{part}.pkl")

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()} has no stored output for these partitions ({path.name}); "
                "materialize it first"
            )
        with path.open("rb") as fh:
            return pickle.load(fh)


@dg.definitions
def resources() -> dg.Definitions:
    conf = settings.current()
    return dg.Definitions(
        resources={
            "source": SourceFolder(path=conf.input_dir, max_file_bytes=conf.max_file_bytes),
            "warehouse": Warehouse(url=conf.warehouse_url),
            # Every process that runs a step (child processes, Celery workers, Kubernetes pods) must see it.
            "io_manager": BatchIOManager(base_dir=conf.batch_dir),
        }
    )
