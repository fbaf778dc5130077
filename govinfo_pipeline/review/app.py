"""The review desk: a small Starlette app, server-rendered with Jinja2 (autoescaped), on the warehouse.

Every page escapes what comes from a report; the Content-Security-Policy allows only this app's own script and
style files, so nothing a report holds can run even if it were not escaped. Writes need the page's token (a form
from another site cannot post), and the app answers only to the host names it was started on.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import jinja2
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from govinfo_pipeline.quality.review import BadCorrection
from govinfo_pipeline.review import evidence as ev
from govinfo_pipeline.review import queue
from govinfo_pipeline.store import corrections
from govinfo_pipeline.store.sessions import open_warehouse

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
KIND_LABELS = {"misread": "corrected", "source_error": "source error", "confirmed": "accepted"}


class Desk:
    """The app's state: the warehouse, the input folder, the reviewer, the write token."""

    def __init__(self, url: str, input_dir: Path, reviewer: str) -> None:
        self.url, self.input_dir, self.reviewer = url, input_dir, reviewer
        self.token = secrets.token_urlsafe(24)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
        )
        self.env.filters["num"] = _num
        self._schema_checked = False

    @contextmanager
    def engine(self, write: bool = False) -> Iterator[sa.Engine]:
        """A short session per request, so that a `govinfo run` can take the warehouse between two requests."""
        with open_warehouse(self.url, write=write, timeout=30, check_schema=not self._schema_checked) as engine:
            self._schema_checked = True
            yield engine

    def page(self, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
        html = self.env.get_template(name).render(reviewer=self.reviewer, token=self.token, **context)
        return HTMLResponse(html, status_code=status_code, headers={"Content-Security-Policy": CSP})


FILTERS = ("year", "agency", "rule", "flag")


def _filters(request: Request, prefix: str = "") -> dict[str, str]:
    """The queue's filters: plain on the queue page, ``f``-prefixed on an item page (whose own keys are rule…)."""
    q = request.query_params
    return {k: q[prefix + k] for k in FILTERS if q.get(prefix + k)}


def _num(v: object) -> str:
    """A value as people write it: 19, not 19.0; blank for none."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _queue(engine: sa.Engine, f: dict[str, str]) -> list[queue.Item]:
    year = int(f["year"]) if f.get("year", "").isdigit() else None
    return queue.items(engine, year=year, agency=f.get("agency"), rule=f.get("rule"), flag=f.get("flag"))


def _with_filters(href: str, f: dict[str, str]) -> str:
    return href + ("&" + urlencode({"f" + k: v for k, v in f.items()}) if f else "")


def create_app(url: str, input_dir: Path, reviewer: str, hosts: list[str] | None = None) -> Starlette:
    """The review desk on the warehouse at ``url``, reading source files under ``input_dir``."""
    desk = Desk(url, input_dir, reviewer)

    async def home(request: Request) -> Response:
        f = _filters(request)
        with desk.engine() as engine:
            items, choices = _queue(engine, f), queue.filters(engine)
        links = [_with_filters(i.href, f) for i in items]
        return desk.page("queue.html", items=list(zip(items, links, strict=True)), f=f, choices=choices)

    async def item(request: Request) -> Response:
        q, f = request.query_params, _filters(request, "f")
        report, rule, subject, cell = q.get("report", ""), q.get("rule"), q.get("subject"), q.get("cell")
        with desk.engine() as engine:
            it = queue.find_item(engine, report, rule, subject, cell)
            if it is None:
                return desk.page("error.html", 404, message="No such item in the warehouse.")
            cells = queue.cell_rows(engine, report, it.codes)
            past = queue.history(engine, report)
            order = [i.href for i in _queue(engine, f)]
        for c in cells:
            c["excerpt"] = _excerpt(desk.input_dir, c)
            c["lines"] = [] if c["excerpt"] else _lines(desk.input_dir, c)
            c["pdf"] = _is_pdf(desk.input_dir, c)
            c["grid"] = [] if c["lines"] or c["pdf"] else _grid(desk.input_dir, c)
            c["evidence_href"] = f"/evidence/{report}/{c['code']}.png"
        here = it.href
        at = order.index(here) if here in order else -1
        nxt = _with_filters(order[at + 1], f) if 0 <= at < len(order) - 1 else None
        prev = _with_filters(order[at - 1], f) if at > 0 else None
        return desk.page(
            "item.html",
            it=it,
            cells=cells,
            history=past.to_dict("records"),
            here=_with_filters(here, f),
            next_href=nxt,
            prev_href=prev,
            queue_href="/?" + urlencode(f),
            saved=q.get("saved"),
            kind_labels=KIND_LABELS,
        )

    async def evidence(request: Request) -> Response:
        report, code = request.path_params["report"], request.path_params["code"]
        with desk.engine() as engine:
            cell = queue.cell_detail(engine, report, code)
        if cell is None:
            return Response("no such cell", status_code=404, media_type="text/plain")
        try:
            png = ev.cell_png(cell, desk.input_dir)
        except ev.NoEvidence as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def correct(request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True).items()}
        if not secrets.compare_digest(form.get("token", ""), desk.token):
            return Response("the page's token is missing or wrong: reload the page", status_code=403)
        back = form.get("back", "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        report, code = form.get("report", ""), form.get("code", "")
        try:
            with desk.engine(write=True) as engine:
                corrections.save(
                    engine, report, code, form.get("kind", ""), form.get("value"), desk.reviewer, form.get("note")
                )
                corrections.refresh_results(engine, [report])
        except BadCorrection as exc:
            return desk.page("error.html", 400, message=str(exc))
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}{urlencode({'saved': code})}", status_code=303)

    async def corrections_page(request: Request) -> Response:
        with desk.engine() as engine:
            rows = corrections.with_state(engine)
        return desk.page("corrections.html", rows=rows.iloc[::-1].to_dict("records"))

    async def busy(request: Request, exc: Exception) -> Response:
        return desk.page("error.html", 503, message=f"The warehouse cannot be opened now ({exc}); try again.")

    allowed = hosts or ["127.0.0.1", "localhost"]
    return Starlette(
        exception_handlers={TimeoutError: busy, sa.exc.OperationalError: busy},
        routes=[
            Route("/", home),
            Route("/item", item),
            Route("/evidence/{report}/{code}.png", evidence),
            Route("/correct", correct, methods=["POST"]),
            Route("/corrections", corrections_page),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)],
    )


def _lines(input_dir: Path, cell: dict) -> list[tuple[int, str, bool]]:
    try:
        path = ev.source_file(input_dir, str(cell["source_path"]))
        return [] if ev.is_pdf(path) else ev.source_lines(path, cell.get("source_line"))
    except (ev.NoEvidence, OSError):
        return []


def _is_pdf(input_dir: Path, cell: dict) -> bool:
    try:
        return ev.is_pdf(ev.source_file(input_dir, str(cell["source_path"])))
    except (ev.NoEvidence, OSError):
        return False


def _grid(input_dir: Path, cell: dict) -> list[list[tuple[str, bool]]]:
    try:
        return ev.table_rows(ev.source_file(input_dir, str(cell["source_path"])), cell)
    except (ev.NoEvidence, OSError, ValueError):
        return []


def _excerpt(input_dir: Path, cell: dict) -> tuple[str, str, str] | None:
    try:
        return ev.excerpt(ev.source_file(input_dir, str(cell["source_path"])), cell)
    except (ev.NoEvidence, OSError, ValueError):
        return None
