"""``govinfo report``: one self-contained HTML page, checked as text and in a real headless browser.

The browser tests need Debian's chromium at /usr/bin/chromium (``apt-get install -y chromium``); they skip,
saying so, when it is absent.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from govinfo_pipeline import cli
from govinfo_pipeline.outputs import htmlreport
from govinfo_pipeline.store import sessions
from govinfo_pipeline_tests.conftest import SAMPLES
from govinfo_pipeline_tests.test_export import load_samples

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless-browser test needs Debian's chromium at /usr/bin/chromium: "
    "apt-get update && apt-get install -y chromium",
)
AGENCIES = ("杨舍镇", "保税区（金港镇）", "秀洲高新区", "双山香山旅游度假区", "靖江园区")
GRANTED_GREEN = (0x00, 0x9E, 0x73)  # OUTCOMES' 予以公开 colour
RECEIVED_BLUE = (0x00, 0x72, 0xB2)  # SERIES' 新收 colour


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """Samples copied to an input folder, loaded into DuckDB, and the 2020 page written to a sibling folder."""
    root = tmp_path_factory.mktemp("report")
    raw = root / "input" / "raw"
    raw.mkdir(parents=True)
    for f in SAMPLES.glob("*.txt"):
        shutil.copy(f, raw / f.name)
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    load_samples(url, raw)
    page = root / "site" / "reports" / "2020.html"
    assert cli.main(["report", "--year", "2020", "--out", str(page), "--warehouse", url, "--input", str(raw)]) == 0
    return {"root": root, "raw": raw, "url": url, "page": page, "html": page.read_text(encoding="utf-8")}


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


# ---- the page as text ---------------------------------------------------------------------------------------------


def test_page_is_self_contained_and_declares_utf8(site):
    html = site["html"]
    head = html[: html.index("</head>")]
    assert head.index('<meta charset="utf-8">') < head.index("<title>")  # charset first, before any text
    tags = parse(html).tags
    names = {t for t, _ in tags}
    assert "script" not in names and "iframe" not in names and "img" not in names
    assert not any(k.startswith("on") for _, attrs in tags for k in attrs)  # no inline handlers
    for tag, attrs in tags:
        for key in ("src", "href", "xlink:href", "action"):
            v = attrs.get(key)
            if v is None or tag == "svg" or (tag == "a" and attrs.get("class") == "review"):
                continue  # a link to the local review desk is followed by a person, never fetched
            assert not re.match(r"^(https?:|//|ftp:)", v), (tag, key, v)  # nothing fetched from the network
    assert "@import" not in html and "url(http" not in html and "url(//" not in html
    assert re.search(r"font-family: [^;]*Noto Sans CJK SC[^;]*sans-serif", html)  # CJK-capable stack, generic last
    assert sum(1 for t, _ in tags if t == "svg") == 3
    assert '<link rel="stylesheet"' not in html


def test_page_shows_the_hand_worked_figures(site):
    html, text = site["html"], " ".join(parse(site["html"]).text)
    for name in AGENCIES:
        assert name in text
    assert "5 reports of 2020" in text
    # received 19 + 23 + 0 + 0 (秀洲高新区 blank) = 42; processed 19 + 22 = 41; granted pooled (7 + 9) / 41.
    assert re.search(r"Applications received 新收\s*42\s*4 of 5 reports give it", text)
    assert re.search(r"Processed 办结\s*41", text)
    assert "39.0%" in text
    assert "杨舍镇 — 予以公开 granted: 40.9%" in html  # 9 / 22
    assert "保税区（金港镇） — 不予处理 not processed: 10.5%" in html  # 2 / 19
    # the B2 break leaves 1 of 19 processed without an outcome: drawn as a hatched gap
    assert "保税区（金港镇） — not accounted for by the outcome rows: 5.3%" in html
    # blank is written as blank, never drawn as 0
    assert "application table blank — not reported" in html
    assert "新收 received: blank — not reported" in html
    assert "no application processed (0)" in html  # 双山香山旅游度假区 and 靖江园区 wrote zeros
    # rule-failure rates: B2, B3, K1, X6, X7 each fail in 1 of the 5 reports
    for rule in ("B2 (error)", "B3 (error)", "K1 (warning)", "X6 (warning)", "X7 (warning)"):
        assert re.search(re.escape(rule) + r".{0,400}?1 of 5 reports \(20%\)", html), rule
    assert re.search(r"A0 \(error\).{0,400}?0 of 5 reports \(0%\)", html)
    # the failing cells, with their raw text and line
    assert "application.other.total</code> = <code>&#x27;0&#x27;</code> (line 327)" in html
    assert "application.other.natural_person</code> = <code>&#x27;1&#x27;</code> (line 321)" in html


def test_scorecard_has_one_row_per_report_with_its_status(site):
    html = site["html"]
    table = html[html.index("Agency scorecard") : html.index("Failed rules, with their cells")]
    rows = re.findall(r"<tr><td>(.*?)</td><td><span class=\"badge (\w+)\">", table)
    assert sorted(rows) == sorted(
        [
            ("保税区（金港镇）", "errors"),
            ("秀洲高新区", "warnings"),
            ("杨舍镇", "passed"),
            ("双山香山旅游度假区", "passed"),
            ("靖江园区", "passed"),
        ]
    )
    assert rows[0] == ("保税区（金港镇）", "errors")  # the worst first
    xiu = table[table.index("秀洲高新区") :]
    xiu = xiu[: xiu.index("</tr>")]
    assert "11% non-blank" in xiu and "K1: application, review_litigation" in xiu  # 22 of 198 cells written
    jin = table[table.index("保税区（金港镇）") :]
    jin = jin[: jin.index("</tr>")]
    assert "100% non-blank" in jin and "2 failed</span> (B2, B3)" in jin and "quotes disagree" in jin
    assert '2019 <span class="ok">✔</span>' in jin  # T1: the 2019 template for a 2020 report


def test_source_links_are_relative_and_reach_the_files(site):
    page, raw = site["page"], site["raw"]
    links = [a["href"] for t, a in parse(site["html"]).tags if t == "a" and "href" in a and a.get("class") != "review"]
    assert len(links) >= 5
    for href in links:
        assert not href.startswith(("/", "file:")), href
        target = (page.parent / unquote(href)).resolve()
        assert target.parent == raw.resolve() and target.is_file(), href
    assert {Path(unquote(h)).name for h in links} == {p.name for p in SAMPLES.glob("*.txt")}
    assert str(raw.resolve()) in site["html"]  # the page says which folder
    assert "../../input/raw" in site["html"]


def test_each_failed_rule_links_to_its_review_item(site):
    links = [a["href"] for t, a in parse(site["html"]).tags if t == "a" and a.get("class") == "review"]
    b3 = [h for h in links if "rule=B3" in h]
    assert len(b3) == 1 and b3[0].startswith("http://127.0.0.1:8765/item?report=") and "subject=other" in b3[0]
    assert len(links) == 6  # B2, B3, X6 of 保税区（金港镇）; K1 ×2 and X7 of 秀洲高新区


def test_the_same_page_from_postgresql(site, pg_url, tmp_path):
    load_samples(pg_url, site["raw"])
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    pages = []
    for url in (site["url"], pg_url):
        engine = sessions.read_only_engine(url)
        data = htmlreport.gather(engine, 2020)
        engine.dispose()
        pages.append(htmlreport.render(data, site["raw"], site["page"].parent, "warehouse", when))
    assert pages[0] == pages[1]


def test_charts_are_capped_but_the_scorecard_lists_every_report(site):
    engine = sessions.read_only_engine(site["url"])
    data = htmlreport.gather(engine, 2020)
    engine.dispose()
    html = htmlreport.render(data, site["raw"], site["page"].parent, max_bars=2)
    assert "The charts show the 2 reports with the most applications received, of 5" in html
    first_chart = html[html.index("<svg") : html.index("</svg>")]
    assert "杨舍镇" in first_chart and "保税区（金港镇）" in first_chart and "靖江园区" not in first_chart
    assert "Pooled 全部 · 2 reports" in html
    scorecard = html[html.index("Agency scorecard") : html.index("Failed rules, with their cells")]
    assert all(name in scorecard for name in AGENCIES)


def test_a_year_without_reports_is_a_clear_error(site, tmp_path, capsys):
    out = tmp_path / "none.html"
    assert cli.main(["report", "--year", "2031", "--out", str(out), "--warehouse", site["url"]]) == 2
    err = capsys.readouterr().err
    assert "no report for 2031" in err and "years held: 2020" in err
    assert not out.exists()


# ---- the page in a headless browser ---------------------------------------------------------------------------------


def chromium(page: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless chromium on the page, logging the page's console to stderr and the network to a net log."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={work / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        f"--log-net-log={work / 'netlog.json'}",
        *args,
        page.resolve().as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console (errors, warnings, uncaught exceptions), from chromium's log."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked the network for (chromium's own background requests excluded)."""
    text = netlog.read_text(encoding="utf-8", errors="replace")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short at exit: close the event list
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for e in log.get("events", []):
        params = e.get("params") or {}
        if types.get(e["type"]) == "URL_REQUEST_START_JOB" and "file://" in params.get("network_isolation_key", ""):
            urls.append(params.get("url", ""))
    return urls


def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows, bytes per pixel) of an 8-bit RGB/RGBA PNG, with the standard library only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6), header
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    low, high = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    rows, prev = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], raw[start + 1 : start + 1 + stride]
        if kind == 0:
            cur = line
        elif kind == 2:  # Up: bytewise (line + prev) mod 256, the whole row at once
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            cur = (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(stride, "big")
        else:  # Sub, Average, Paeth: byte by byte
            out = bytearray(line)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                up = prev[i]
                if kind == 1:
                    out[i] = (out[i] + left) & 0xFF
                elif kind == 3:
                    out[i] = (out[i] + ((left + up) >> 1)) & 0xFF
                else:
                    up_left = prev[i - bpp] if i >= bpp else 0
                    p = left + up - up_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                    out[i] = (out[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
            cur = bytes(out)
        rows.append(cur)
        prev = cur
    return width, height, rows, bpp


def colours(rows: list[bytes], bpp: int) -> dict[tuple[int, int, int], int]:
    count: dict[tuple[int, int, int], int] = {}
    for row in rows:
        for i in range(0, len(row), bpp):
            px = (row[i], row[i + 1], row[i + 2])
            count[px] = count.get(px, 0) + 1
    return count


@needs_chromium
def test_browser_catches_console_errors_and_network_fetches(tmp_path):
    """The checks below can fail: a page with a script error and a remote image trips both."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>'
        '<img src="https://example.invalid/x.png"><script>console.error("boom"); notAFunction();</script>'
        "</body></html>",
        encoding="utf-8",
    )
    proc = chromium(bad, tmp_path / "bad", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    messages = console_messages(proc.stderr)
    assert any("boom" in m for m in messages) and any("notAFunction" in m for m in messages)
    assert "https://example.invalid/x.png" in page_requests(tmp_path / "bad" / "netlog.json")


@needs_chromium
def test_page_renders_in_headless_chromium(site, tmp_path):
    page = site["page"]
    proc = chromium(page, tmp_path / "dom", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_messages(proc.stderr) == []
    assert page_requests(tmp_path / "dom" / "netlog.json") == []  # nothing fetched: works offline
    dom = proc.stdout
    for name in AGENCIES:
        assert name in dom  # decoded as UTF-8, not mojibake
    assert dom.count("<svg") == 3 and "Agency scorecard" in dom

    shot = tmp_path / "page.png"
    proc = chromium(page, tmp_path / "shot", f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_messages(proc.stderr) == []
    assert shot.exists() and shot.stat().st_size > 10_000
    width, height, rows, bpp = read_png(shot)
    assert (width, height) == (1280, 2000)
    seen = colours(rows, bpp)
    assert len(seen) > 200, f"only {len(seen)} colours: the page looks blank"
    assert max(seen.values()) < 0.97 * width * height  # not one flat colour
    # the charts were drawn: their bar colours fill many pixels
    assert seen.get(GRANTED_GREEN, 0) > 500 and seen.get(RECEIVED_BLUE, 0) > 500, (
        seen.get(GRANTED_GREEN),
        seen.get(RECEIVED_BLUE),
    )
