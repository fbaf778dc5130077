"""Progress of a run's stages: counted where the work is done, shown where the run was started.

A stage counts what it has done with a ``Meter`` (files read, reports parsed, reports written). The meter
writes its counts, at most every half second, to a small JSON file in the run's progress folder (the run's
tag ``govinfo/progress``; a run started from the UI or a sensor has none and writes no file), and logs one
plain line every ``log_every`` seconds. The step may run in this process, a child process or on a Celery
worker sharing the batch folder: the file is the channel. ``Display`` (used by the CLI) reads the folder
and draws live bars on a terminal, or prints a quiet line every few seconds when its output is a log.

No Dagster here, no heavy imports: the parsing code takes a plain callback (``Meter.add``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

TAG = "govinfo/progress"
# The stages in the order a run goes through them, with what each one counts.
STAGES = {"read": "files read", "parse": "files parsed", "check": "reports checked", "write": "reports written"}
_WRITE_EVERY = 0.5


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class Count:
    """One stage's counts at one moment (summed over the batches of a run when shown)."""

    stage: str
    done: int
    total: int
    seconds: float
    finished: bool = False

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """``parse: 1,200 of 5,000 files parsed · 240/s · ETA 0:16`` (or ``… in 0:21`` once finished)."""
        what = STAGES.get(self.stage, self.stage)
        head = f"{self.stage}: {self.done:,} of {self.total:,} {what}"
        if self.finished:
            return f"{head} in {_clock(self.seconds)} ({self.rate:,.1f}/s)"
        if not self.done:
            return head
        eta = (self.total - self.done) / self.rate if self.rate else 0.0
        return f"{head} · {self.rate:,.1f}/s · ETA {_clock(eta)}"


@dataclass
class Meter:
    """Counts one stage of one batch; ``add`` is cheap enough to call per file."""

    stage: str
    total: int
    folder: Path | None = None
    log: Callable[[str], None] | None = None
    log_every: float = 30.0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    _written: float = 0.0
    _logged: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
        self._write(False)

    def add(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._written >= _WRITE_EVERY:
            self._write(False, now)
        if self.log and now - self._logged >= self.log_every:
            self._logged = now
            self.log(self.count().line())

    def count(self, finished: bool = False) -> Count:
        return Count(self.stage, self.done, self.total, time.monotonic() - self.started, finished)

    def finish(self) -> dict[str, float]:
        """The stage is over: its last counts written and logged; its timing, for materialization metadata."""
        c = self._write(True)
        if self.log:
            self.log(c.line())
        return {"seconds": round(c.seconds, 3), "per_second": round(c.rate, 2)}

    def _write(self, finished: bool, now: float | None = None) -> Count:
        self._written = now or time.monotonic()
        c = self.count(finished)
        if self.folder:
            body = {"stage": c.stage, "done": c.done, "total": c.total, "seconds": c.seconds, "finished": finished}
            tmp = self.folder / f".{self.stage}.{os.getpid()}.tmp"
            try:  # written whole and renamed, so a reader never sees half a file
                tmp.write_text(json.dumps(body), encoding="utf-8")
                os.replace(tmp, self.folder / f"{self.stage}.json")
            except OSError:  # progress is a convenience: a full or read-only disk must not fail the run
                pass
        return c


def meter(stage: str, total: int, tags: Mapping[str, str], log: Callable[[str], None] | None = None) -> Meter:
    """The meter of a stage in a run with these tags (the progress folder is the run's ``TAG``)."""
    from govinfo_pipeline import settings

    folder = tags.get(TAG)
    return Meter(stage, total, Path(folder) if folder else None, log, settings.current().progress_log_seconds)


def read_folder(folder: Path) -> list[Count]:
    """Each stage's counts summed over the batches written under ``folder`` (one subfolder per batch)."""
    sums: dict[str, Count] = {}
    for path in sorted(folder.glob("*/*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # being replaced right now: read at the next tick
            continue
        c = sums.setdefault(body["stage"], Count(body["stage"], 0, 0, 0.0, True))
        c.done += int(body["done"])
        c.total += int(body["total"])
        c.seconds += float(body["seconds"])
        c.finished = c.finished and bool(body["finished"])
    return [sums[s] for s in STAGES if s in sums]


class Display:
    """Shows the counts under ``folder`` while a run goes on: ``mode`` 'bar' (live bars, rich), 'lines' (one
    line per stage that moved, every ``every`` seconds), 'off', or 'auto' (bars on a terminal, else lines)."""

    def __init__(self, folder: Path, mode: str = "auto", every: float = 10.0, out: TextIO | None = None) -> None:
        self.folder, self.every, self.out = folder, every, out or sys.stderr
        isatty = getattr(self.out, "isatty", lambda: False)()
        self.mode = ("bar" if isatty else "lines") if mode == "auto" else mode
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown: dict[str, tuple[int, bool]] = {}

    def __enter__(self) -> Display:
        if self.mode != "off":
            self._thread = threading.Thread(target=self._bars if self.mode == "bar" else self._lines, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _lines(self) -> None:
        while not self._stop.wait(self.every):
            self._print_moved()
        self._print_moved()

    def _print_moved(self) -> None:
        for c in read_folder(self.folder):
            if self._shown.get(c.stage) != (c.done, c.finished):
                self._shown[c.stage] = (c.done, c.finished)
                print(f"govinfo: {c.line()}", file=self.out, flush=True)

    def _bars(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

        columns = (
            TextColumn("{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9}"),
            TimeRemainingColumn(),
        )
        tasks: dict[str, TaskID] = {}
        with Progress(*columns, console=Console(file=self.out), transient=False) as bars:
            while True:
                stopping = self._stop.wait(0.25)
                for c in read_folder(self.folder):
                    if c.stage not in tasks:
                        tasks[c.stage] = bars.add_task(STAGES[c.stage], total=c.total, rate="")
                    bars.update(tasks[c.stage], completed=c.done, total=c.total, rate=f"{c.rate:,.1f}/s")
                if stopping:
                    return


@contextlib.contextmanager
def shown(mode: str | None = None) -> Iterator[str | None]:
    """A progress folder for the runs of one command (under the batch folder, so that steps running elsewhere
    can write to it), shown while the block runs and removed after; None when progress is off."""
    from govinfo_pipeline import settings

    conf = settings.current()
    mode = mode or conf.progress
    if mode == "off":
        yield None
        return
    folder = Path(conf.batch_dir) / "progress" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with Display(folder, mode, conf.progress_every):
            yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
