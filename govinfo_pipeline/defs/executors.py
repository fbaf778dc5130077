"""Where the ingest job's steps run, chosen per run in its config (``execution: config: <name>: …``).

* ``in_process``: every step in the run's own process.
* ``multiprocess`` (the default for runs launched from the UI): each step in a child process.
* ``celery``: each step is a task on a Celery broker, taken by ``dagster-celery`` workers on any machine that
  reaches the broker, the Dagster instance storage and the batch folder.
* ``k8s``: each step in its own Kubernetes Job (needs the ``k8s`` extra and the ``K8sRunLauncher``).

Within one run the stages form a chain (raw → normalized → facts → warehouse), so the parallelism comes
from running several years as separate runs at once; the executor decides where their steps run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import dagster as dg
from dagster_celery import celery_executor

from govinfo_pipeline import settings

EXECUTORS: dict[str, dg.ExecutorDefinition] = {
    "in_process": dg.in_process_executor,
    "multiprocess": dg.multiprocess_executor,
    "celery": celery_executor,
}
try:  # optional: `uv sync --extra k8s`, and in the Kubernetes image
    from dagster_k8s import k8s_job_executor
except ImportError:  # pragma: no cover - depends on the install
    k8s_job_executor = None
else:
    EXECUTORS["k8s"] = k8s_job_executor


def _requirements(config: Mapping[str, object]) -> Sequence[dg.ExecutorRequirement]:
    (name,) = config
    return [] if name == "in_process" else dg.multiple_process_executor_requirements()


# The executor of runs whose config names none (UI launches, schedule, sensor): $GOVINFO_EXECUTOR, read when the
# code location loads (set it to k8s in the Kubernetes deployment); multiprocess otherwise.
DEFAULT = settings.current().executor
if DEFAULT not in EXECUTORS:
    DEFAULT = "multiprocess"


@dg.executor(
    name="govinfo",
    config_schema=dg.Field(
        dg.Selector({name: ex.config_schema.as_field() for name, ex in EXECUTORS.items()}),
        default_value={DEFAULT: {}},
        description="Where the steps run: " + ", ".join(EXECUTORS) + ".",
    ),
    requirements=_requirements,
)
def govinfo_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    ((name, config),) = init_context.executor_config.items()
    target = EXECUTORS[name]
    assert target.executor_creation_fn is not None  # each of EXECUTORS is made by @executor, with its function
    return target.executor_creation_fn(
        dg.InitExecutorContext(
            job=init_context.job,
            executor_def=target,
            executor_config=cast(Mapping[str, object], config),  # the chosen executor's own config
            instance=init_context.instance,
        )
    )
