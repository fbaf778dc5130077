"""The benchmark: N synthetic reports through the real pipeline (Dagster, fresh warehouse), measured.

It writes JSON with the pipeline time, the floor (just reading and decoding the same files), per-stage
seconds from the Dagster event log, peak memory of the pipeline process, a no-change re-run, and the
correctness oracle: every generated cell and every planted rule failure must be found.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import pandas as pd
import sqlalchemy as sa

from govinfo_pipeline.parse.decode import decode
from govinfo_pipeline.parse.sources import BINARY_MAGIC, discover
from govinfo_pipeline.synth import generator as synth


def _tree(pid: int) -> list[int]:
    """``pid`` and its living descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _memory_kb(pids: list[int]) -> tuple[int, int]:
    """(RSS, PSS) in kB summed over ``pids``. RSS counts pages that forked processes share once per process;
    PSS splits each shared page between its sharers, so it sums to the memory the processes really hold."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


class TreeMemory:
    """Samples the memory of a process and all its descendants (batch processes, parse workers) until
    stopped; keeps the peaks of their sums."""

    def __init__(self, pid: int, interval: float = 0.5):
        import threading

        self.pid, self.interval, self.peak_rss_kb = pid, interval, 0
        self.samples: list[tuple[float, int]] = []  # (epoch seconds, PSS kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.available = Path("/proc/self/smaps_rollup").exists()
        if self.available:
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss, pss = _memory_kb(_tree(self.pid))
            self.samples.append((time.time(), pss))
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self._stop.wait(self.interval)

    @property
    def peak_pss_kb(self) -> int:
        return max((kb for _, kb in self.samples), default=0)

    def stop(self) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()


def _run_cli(
    args: list[str], env: dict, profile: Path | None = None
) -> tuple[subprocess.CompletedProcess, float, dict]:
    """Run ``govinfo`` in a child process (profiled with pyinstrument into ``profile``, if given); return it, its
    wall seconds and its memory peaks in MB: of its whole process tree (sampled), and of its largest process."""
    started = time.perf_counter()
    if profile:  # the command profiles itself, and each batch process itself (see launch.profiled); the steps
        # run in those processes (not in step processes of their own), so that the profiles show them
        env = {**env, "GOVINFO_PROFILE": str(profile), "GOVINFO_STEP_PROCESSES_FROM": str(10**9)}
    # The run's progress lines are passed on to this command's stderr as they come; the rest is kept.
    env = {"GOVINFO_PROGRESS": "lines", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "govinfo_pipeline.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None  # both piped
    errors: list[str] = []
    relay = threading.Thread(target=_relay, args=(proc.stderr, errors), daemon=True)
    relay.start()
    sampler = TreeMemory(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    sampler.stop()
    relay.join()
    out, err = proc.stdout.read(), "".join(errors)
    proc.returncode = os.waitstatus_to_exitcode(status)
    memory: dict = {"largest_process_rss_mb": round(usage.ru_maxrss / 1024, 1), "samples": sampler.samples}
    if sampler.available:
        memory.update(
            tree_rss_mb=round(sampler.peak_rss_kb / 1024, 1), tree_pss_mb=round(sampler.peak_pss_kb / 1024, 1)
        )
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), seconds, memory


def _relay(stream: IO[str], kept: list[str]) -> None:
    """Pass a child's progress lines on to stderr as they come; keep every line."""
    for line in stream:
        kept.append(line)
        if line.startswith("govinfo: ") and not line.startswith("govinfo: error"):
            print(f"bench: {line[9:]}", end="", file=sys.stderr, flush=True)


def note(message: str) -> None:
    """A phase of the benchmark, on stderr (its figures go to stdout and the JSON)."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def stage_figures(windows: list[tuple[str, float, float]], samples: list[tuple[float, int]]) -> tuple[dict, dict]:
    """Seconds per stage (summed over the runs), and the highest memory (PSS, MB) sampled during each."""
    seconds: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for name, start, end in windows:
        seconds[name] = round(seconds.get(name, 0.0) + end - start, 3)
        during = [kb for t, kb in samples if start <= t <= end]
        if during:
            peaks[name] = max(peaks.get(name, 0.0), round(max(during) / 1024, 1))
    return seconds, peaks


def pdf_pages(folder: Path) -> int:
    """Pages of the PDFs under ``folder`` (OCR is measured per page)."""
    import pypdfium2 as pdfium

    total = 0
    for path in folder.rglob("r*.*"):  # by content: scanned reports are named *.pdf-scan
        with path.open("rb") as f:
            if f.read(5) != b"%PDF-":
                continue
        doc = pdfium.PdfDocument(path)
        total += len(doc)
        doc.close()
    return total


def read_floor(folder: Path) -> float:
    """Seconds to find, read and decode every file (text files; PDF and Word files are only read): what any
    pipeline must at least spend."""
    started = time.perf_counter()
    for f in discover(folder):
        data = f.path.read_bytes()
        if not data.startswith(BINARY_MAGIC):
            decode(data)
    return time.perf_counter() - started


def run(
    reports: int,
    out: Path,
    formats: tuple[str, ...] = ("txt",),
    seed: int = 0,
    keep: Path | None = None,
    profile: Path | None = None,
) -> dict:
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="govinfo-bench-"))
    corpus, home = work / "raw", work / "dagster_home"
    for p in (corpus, home):
        shutil.rmtree(p, ignore_errors=True)
    db = work / "bench.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    url = f"duckdb:///{db}"
    started = time.perf_counter()
    note(f"generating {reports:,} reports ({', '.join(formats)}) in {corpus}")
    counts = synth.write_corpus(corpus, reports, seed=seed, formats=formats)
    counts["pdf_pages"] = pdf_pages(corpus)
    oracle_path = work / "oracle.json"
    (corpus / synth.ORACLE_NAME).replace(oracle_path)
    generate_seconds = time.perf_counter() - started
    floor = read_floor(corpus)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    steps = work / "steps.json"  # the steps' stage, start and end, as the Dagster instance recorded them
    run = ["run", "--input", str(corpus), "--warehouse", url]
    note(f"generated in {time.perf_counter() - started:.1f} s; running the pipeline")
    proc, pipeline_seconds, memory = _run_cli([*run, "--step-times", str(steps)], env, profile)
    if proc.returncode != 0:
        raise RuntimeError(f"the pipeline failed: {proc.stderr[-2000:]}")
    run_ids = [line.split()[2] for line in proc.stdout.splitlines() if line.startswith("dagster run ")]
    note(f"pipeline {pipeline_seconds:.1f} s; running it again on the unchanged input")
    rerun, rerun_seconds, _ = _run_cli(run, env)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        cells = pd.read_sql(
            sa.text("SELECT report_id, section, row, col, value, unit, cell_status FROM report_cells"), conn
        )
        results = pd.read_sql(sa.text("SELECT report_id, rule_id, subject, passed, level FROM quality_results"), conn)
        validation = pd.read_sql(sa.text("SELECT suite, seconds FROM validations"), conn)
    engine.dispose()
    # One report corrected and re-materialized on its own, as from the UI: a file of the corpus gains a line.
    one = min((p for p in corpus.rglob("r*.*") if p.suffix in (".txt", ".html")), default=None)
    one = one or min(corpus.rglob("r*.*"))
    one_run = ["run", "--input", str(corpus), "--warehouse", url, "--file", one.relative_to(corpus).as_posix()]
    _change(one)
    note("re-materializing one report (--file)")
    single, single_seconds, _ = _run_cli(one_run, env)
    warm = _warm_one_report(one, one_run, env, home)
    oracle = synth.compare(oracle_path, cells, results)
    stages, stage_peaks = stage_figures(
        [tuple(w) for w in json.loads(steps.read_text(encoding="utf-8"))], memory["samples"]
    )
    figures = {
        "reports": reports,
        "formats": list(formats),
        "pipeline_seconds": round(pipeline_seconds, 2),
        "read_floor_seconds": round(floor, 2),
        "pipeline_to_floor_ratio": round(pipeline_seconds / floor, 1) if floor else None,
        "rerun_unchanged_seconds": round(rerun_seconds, 2),
        "rerun_ok": rerun.returncode == 0,
        "one_report_seconds": round(single_seconds, 2),
        "one_report_ok": single.returncode == 0,
        **warm,
        # The whole process tree's peak (sampled every 0.5 s), counting shared pages once per process:
        # the strict figure; tree_pss_mb counts each shared page once.
        "peak_rss_mb": memory.get("tree_rss_mb", memory["largest_process_rss_mb"]),
        "memory": {k: v for k, v in memory.items() if k != "samples"} | {"stage_peak_pss_mb": stage_peaks},
        "generate_seconds": round(generate_seconds, 2),
        "runs": len(run_ids),
        "stages": stages,
        "validation_suites": int(len(validation)),
        "validation_seconds": round(float(validation["seconds"].sum()), 2),
        "oracle_cells_expected": oracle["cells_expected"],
        "oracle_cells_correct": oracle["cells_correct"],
        "oracle_rule_failures_expected": oracle["rule_failures_expected"],
        "oracle_rule_failures_found": oracle["rule_failures_found"],
        "oracle_unexpected_failures": oracle.get("unexpected_failures"),
        "oracle_cross_report_warnings": oracle.get("cross_report_warnings"),
        "corpus": {k: v for k, v in counts.items() if isinstance(v, int) or k == "by_format"},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "bench_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return figures


def _change(one: Path) -> None:
    """A text or HTML report gains a line; a Word file or PDF is touched (read and hashed again, left as it is)."""
    if one.suffix in (".txt", ".html"):
        one.write_bytes(one.read_bytes() + b"\n")
    else:
        os.utime(one)


def _warm_one_report(one: Path, one_run: list[str], env: dict, home: Path) -> dict:
    """The same report changed again and re-materialized through a warm server (``govinfo serve``): the
    seconds of the ``govinfo run --file`` command, and of the server's warm-up (paid once, not per run)."""
    from govinfo_pipeline import warm

    sock = warm.socket_path(home)
    note("starting a warm server (govinfo serve) and re-materializing the report through it")
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "govinfo_pipeline.cli", "serve"], env=env, stderr=subprocess.DEVNULL
    )
    try:
        while not sock.exists() and server.poll() is None:
            time.sleep(0.1)
        warm_up = time.perf_counter() - started
        if server.poll() is not None:
            return {"one_report_warm_seconds": None, "one_report_warm_note": "the warm server did not start"}
        _change(one)
        proc, seconds, _ = _run_cli(one_run, env)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "one_report_warm_seconds": round(seconds, 2),
        "one_report_warm_ok": proc.returncode == 0,
        "warm_server_start_seconds": round(warm_up, 2),
    }


def _format_row(figures: dict) -> dict:
    """One format's line of the speed table, from its run's figures."""
    seconds = figures["pipeline_seconds"]
    return {
        "reports": figures["reports"],
        "pipeline_seconds": seconds,
        "reports_per_second": round(figures["reports"] / seconds, 1 if figures["reports"] >= seconds else 3)
        if seconds
        else None,
        "normalized_seconds": round(figures["stages"].get("normalized", 0.0), 2),
        "read_floor_seconds": figures["read_floor_seconds"],
        "pipeline_to_floor_ratio": figures["pipeline_to_floor_ratio"],
        "one_report_seconds": figures["one_report_seconds"],
        "one_report_warm_seconds": figures.get("one_report_warm_seconds"),
        "peak_rss_mb": figures["peak_rss_mb"],
        "oracle_exact": figures["oracle_cells_correct"] == figures["oracle_cells_expected"]
        and figures["oracle_rule_failures_found"] == figures["oracle_rule_failures_expected"],
        "oracle_cells": [figures["oracle_cells_correct"], figures["oracle_cells_expected"]],
        "pages": figures["corpus"].get("pdf_pages"),
        "seconds_per_page": round(figures["stages"].get("normalized", 0.0) / figures["corpus"]["pdf_pages"], 2)
        if figures["corpus"].get("pdf_pages")
        else None,
    }


# A national year, for the estimate the per-format figures give. The mix of formats is an assumption, not a
# count (the README says so): most reports are PDFs and web pages, a tenth scanned.
YEAR_REPORTS = 140_000
YEAR_MIX = {"pdf": 0.45, "html": 0.30, "docx": 0.10, "txt": 0.05, "pdf-scan": 0.10}


def format_sizes(formats: tuple[str, ...], reports: int) -> list[tuple[str, int]]:
    """``txt,pdf:200,pdf-scan:4`` -> [(txt, reports), (pdf, 200), (pdf-scan, 4)]: a format may name its own size
    (OCR is slow, text fast)."""
    out = []
    for item in formats:
        fmt, _, n = item.partition(":")
        out.append((fmt, int(n) if n else reports))
    return out


def year_estimate(per_format: dict[str, dict], workers: tuple[int, ...] = (1, 4, 16)) -> dict | None:
    """Hours for a national year (``YEAR_REPORTS`` in ``YEAR_MIX``) at the measured rates: on this machine, and on
    N machines like it running the parse as Celery workers. Amdahl: the normalized stage (parse and OCR) is
    spread over the workers, the rest of each run (start-up, rules, warehouse writes) is not."""
    if not all(f in per_format for f in YEAR_MIX):
        return None
    serial = parallel = 0.0
    for fmt, share in YEAR_MIX.items():
        r = per_format[fmt]
        seconds = YEAR_REPORTS * share / r["reports_per_second"]
        part = min(r["normalized_seconds"] / r["pipeline_seconds"], 1.0) if r["pipeline_seconds"] else 0.0
        serial += seconds * (1 - part)
        parallel += seconds * part
    return {
        "reports": YEAR_REPORTS,
        "mix": YEAR_MIX,
        "hours": {str(n): round((serial + parallel / n) / 3600, 1) for n in workers},
    }


def run_per_format(
    reports: int,
    out: Path,
    formats: tuple[str, ...],
    seed: int = 0,
    keep: Path | None = None,
    profile: Path | None = None,
) -> dict:
    """``run`` once per format (a corpus of that format only, ``reports`` reports each, or the size a format
    names: ``pdf-scan:4``), one after another; one JSON with each format's rate, read floor and ratio, each
    run's full figures, and the national year they add up to."""
    per_format: dict[str, dict] = {}
    details: dict[str, dict] = {}
    for fmt, n in format_sizes(formats, reports):
        with tempfile.TemporaryDirectory(prefix="govinfo-bench-") as tmp:
            sub_keep = keep / fmt if keep else None
            sub_profile = profile.with_name(f"{profile.stem}-{fmt}{profile.suffix}") if profile else None
            figures = run(n, Path(tmp) / "figures.json", (fmt,), seed, sub_keep, sub_profile)
        per_format[fmt] = _format_row(figures)
        details[fmt] = figures
    result = {
        "reports_per_format": {f: r["reports"] for f, r in per_format.items()},
        "per_format": per_format,
        "year_estimate": year_estimate(per_format),
        "runs": details,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


def joined(results: list[dict]) -> dict:
    """Several ``--per-format`` results as one (formats measured at different sizes, in separate runs), with
    the national year they add up to when together they cover every format of the mix."""
    per_format = {fmt: row for r in results for fmt, row in r["per_format"].items()}
    return {
        "reports_per_format": {f: r["reports"] for f, r in per_format.items()},
        "per_format": per_format,
        "year_estimate": year_estimate(per_format),
    }


def _short_of(row: dict) -> str:
    """The oracle column of a format that is not exact: how many cells were (OCR leaves doubtful ones as text)."""
    if "oracle_cells" not in row:
        return "NOT exact"
    correct, expected = row["oracle_cells"]
    return f"NOT exact: {correct:,} of {expected:,} cells"


def markdown_table(result: dict) -> str:
    """The README's speed table from a ``--per-format`` JSON (or a single run's)."""
    rows = result.get("per_format") or {"+".join(result["formats"]): _format_row(result)}
    lines = [
        "| format | reports | reports/s | pipeline s | normalized stage s | read floor s | × read floor | oracle |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for fmt, r in rows.items():
        ratio = r["pipeline_to_floor_ratio"]
        page = f" ({r['seconds_per_page']} s a page)" if r.get("seconds_per_page") else ""
        lines.append(
            f"| {fmt} | {r['reports']:,} | {r['reports_per_second']} | {r['pipeline_seconds']} | "
            f"{r['normalized_seconds']}{page} | {r['read_floor_seconds']} | {'' if ratio is None else f'{ratio:,}×'} | "
            f"{'exact' if r['oracle_exact'] else _short_of(r)} |"
        )
    year = result.get("year_estimate")
    if year:
        mix = ", ".join(f"{f} {share:.0%}" for f, share in year["mix"].items())
        hours = "; ".join(
            f"{h} h on {n} machine{'s' if n != '1' else ''} like this one" for n, h in year["hours"].items()
        )
        lines.append(f"\nA national year of {year['reports']:,} reports ({mix}), at these rates: {hours}.")
    return "\n".join(lines)
