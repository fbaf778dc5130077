"""The bodies of ``govinfo corrections``, ``govinfo review`` and ``govinfo evidence`` (the CLI only calls them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from govinfo_pipeline import settings


def _say_error(message: str) -> int:
    print(f"govinfo: error: {message}", file=sys.stderr)
    return 2


def corrections(args: argparse.Namespace) -> int:
    """``govinfo corrections export|import FILE``: share corrections as CSV or YAML (by the file's suffix)."""
    from govinfo_pipeline.quality.review import BadCorrection
    from govinfo_pipeline.store import corrections as store
    from govinfo_pipeline.store.sessions import open_warehouse, redact

    url = args.warehouse or settings.current().warehouse_url
    path = Path(args.file)
    if args.action == "import" and not path.is_file():
        return _say_error(f"{path} does not exist")
    try:
        with open_warehouse(url, write=args.action == "import") as engine:
            if args.action == "export":
                print(f"{path}  ({store.export(engine, path)} corrections)")
                return 0
            added, held = store.import_(engine, path)
            results = store.refresh_results(engine)
    except BadCorrection as exc:
        return _say_error(str(exc))
    except Exception as exc:
        return _say_error(f"cannot use the warehouse at {redact(url)}: {type(exc).__name__}: {exc}")
    print(f"{path}: {added} corrections added, {held} already held; {results} reviewed rule results")
    return 0


def review(args: argparse.Namespace) -> int:
    """``govinfo review``: the review desk on 127.0.0.1 (by default) until interrupted."""
    import uvicorn

    from govinfo_pipeline.review.app import create_app
    from govinfo_pipeline.store import corrections as store

    conf = settings.current()
    url, input_dir = args.warehouse or conf.warehouse_url, Path(args.input or conf.input_dir)
    reviewer = args.reviewer or store.default_reviewer()
    app = create_app(url, input_dir, reviewer)
    print(f"review desk on http://{args.host}:{args.port}/ (reviewer {reviewer}; Ctrl-C to stop)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def evidence(args: argparse.Namespace) -> int:
    """``govinfo evidence REPORT_ID CELL_CODE --out cell.png``: the crop of the page the cell was read from."""
    from govinfo_pipeline.review import evidence as ev
    from govinfo_pipeline.review.queue import cell_detail
    from govinfo_pipeline.store.sessions import read_only_engine, redact

    conf = settings.current()
    url, input_dir = args.warehouse or conf.warehouse_url, Path(args.input or conf.input_dir)
    try:
        engine = read_only_engine(url)
        try:
            cell = cell_detail(engine, args.report_id, args.cell_code)
        finally:
            engine.dispose()
    except Exception as exc:
        return _say_error(f"cannot read the warehouse at {redact(url)}: {type(exc).__name__}: {exc}")
    if cell is None:
        return _say_error(f"the warehouse holds no cell {args.cell_code} of report {args.report_id}")
    try:
        png = ev.cell_png(cell, input_dir)
    except ev.NoEvidence as exc:
        return _say_error(str(exc))
    Path(args.out).write_bytes(png)
    print(args.out)
    return 0
