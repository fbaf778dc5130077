"""Fault injection for the crash tests: ``GOVINFO_FAILPOINT=name:n`` kills the process (SIGKILL) the
n-th time the code passes the failpoint ``name``. Unset, a failpoint costs a look at the settings."""

from __future__ import annotations

import os
import signal

from govinfo_pipeline import settings

_hits: dict[str, int] = {}


def hit(name: str) -> None:
    spec = settings.current().failpoint
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
