"""Damaged text, as real reports often reach us: the generator's report made into what converters leave.

Each damage starts from the generator's Word text dump (read back by ``formats.split_dump``) or from its
HTML rendering (``formats.to_html``), and is deterministic: the damage drawn depends only on the report
text and the format (hence on the generator's seed and report number), or on an explicit ``seed``. The
cells a damaged file holds are the generator's, so the oracle is unchanged; what the damage destroys is
where they stand.

* ``txt-flat``: the HTML page copied as visible text with every ASCII space, tab and newline deleted: one
  line, each table row its label then its cells glued (``规范性文件898989``); an empty cell leaves nothing,
  ``&nbsp;`` a NBSP.
* ``txt-raw``: ``pdftotext`` without ``-layout`` (raw reading order): one cell per line, an empty cell no
  line, prose wrapped at the page width, page footers (``— 4 —``) between lines; some blocks of a table's
  rows are emitted column by column (all their labels, then each column's numbers top to bottom), so a
  label stands far from its numbers.
* ``md-split``: Markdown from a PDF converter or OCR: tables broken into many small tables, a row's label
  left at the end of the previous piece, wrong header rows (``| 列1 | 列2 |``, or the table's own heading
  repeated), page footers as table rows (``| — 4 — |``), and wide tables cut into 5-column pieces.
"""

from __future__ import annotations

import hashlib
import random
import re

from govinfo_pipeline.synth import formats as synth_formats
from govinfo_pipeline.synth.formats import Block

FORMATS = ("txt-flat", "txt-raw", "md-split")
_INVISIBLE = re.compile(r"^[\s\u00a0\u3000]*$")
_DELETED = re.compile(r"[ \t\r\n]")
_CHROME = (
    "今天是：无障碍浏览长者模式首页政务动态政府信息公开政务服务互动交流"
    "当前位置：首页>政府信息公开>政府信息公开工作年度报告"
)


def _rng(fmt: str, text: str, seed: int | None) -> random.Random:
    key = hashlib.sha256(f"{fmt}:{seed}:{text}".encode()).hexdigest()
    return random.Random(key)


def render(fmt: str, text: str, seed: int | None = None) -> bytes:
    """The dump ``text`` with damage ``fmt`` (one of ``FORMATS``), as the file's bytes (UTF-8)."""
    rng = _rng(fmt, text, seed)
    blocks = synth_formats.split_dump(synth_formats._BOOKMARK.sub("", text))
    if fmt == "txt-flat":
        return flat(blocks, rng).encode("utf-8")
    if fmt == "txt-raw":
        return raw_order(blocks, rng).encode("utf-8")
    if fmt == "md-split":
        return md_split(blocks, rng).encode("utf-8")
    raise ValueError(f"unknown damage {fmt!r}; one of {FORMATS}")


# ---- txt-flat -----------------------------------------------------------------------------------


def flat(blocks: list[Block], rng: random.Random) -> str:
    """The HTML page's visible text on one line, ASCII whitespace deleted."""
    import lxml.html

    page = synth_formats.to_html(blocks)
    doc = lxml.html.fromstring(page)
    for bad in doc.iter("head", "script", "style"):
        bad.drop_tree()
    visible = _DELETED.sub("", doc.text_content())
    chrome = _CHROME if rng.random() < 0.7 else ""
    date = f"发布日期：20{rng.randint(20, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}\u3000来源：本站"
    return chrome + visible.replace("政府信息公开工作年度报告", "政府信息公开工作年度报告" + date, 1) + "\n"


# ---- txt-raw ------------------------------------------------------------------------------------


def _wrap(line: str, width: int) -> list[str]:
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


def _cell_lines(cell: str) -> list[str]:
    """What pdftotext prints for one cell: its lines, nothing for an empty or blank cell."""
    if _INVISIBLE.match(cell):
        return []
    return [part.strip() for part in cell.split("\n") if part.strip()]


def raw_order(blocks: list[Block], rng: random.Random) -> str:
    width = rng.randint(30, 40)
    per_page = rng.randint(40, 70)
    out: list[str] = []
    page = [1]

    def emit(line: str) -> None:
        out.append(line)
        if len(out) % per_page == 0:
            page[0] += 1
            out.append(f"— {page[0] - 1} —" if rng.random() < 0.7 else str(page[0] - 1))
            out.append("\f")

    for b in blocks:
        if b.rows is None:
            for piece in _wrap((b.text or "").strip(), width):
                if piece:
                    emit(piece)
            continue
        rows = b.rows
        i = 0
        while i < len(rows):
            n = rng.randint(2, 8)
            chunk = rows[i : i + n]
            i += n
            if rng.random() < 0.4 and len(chunk) > 1:  # this block column by column
                w = max(len(r) for r in chunk)
                grid = [list(r[:1]) + [""] * (w - len(r)) + list(r[1:]) for r in chunk]
                for c in range(w):
                    for r in grid:
                        for line in _cell_lines(r[c]):
                            emit(line)
            else:
                for r in chunk:
                    for cell in r:
                        for line in _cell_lines(cell):
                            emit(line)
    return "\n".join(out) + "\n"


# ---- md-split -----------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("\n", "<br>").replace("|", "｜").strip(" ")


def _md_grid(rows: list[list[str]]) -> list[list[str]]:
    """Each row at the table's width: a short row's first cell, then empty cells, then the rest."""
    w = max(len(r) for r in rows)
    return [[r[0], *[""] * (w - len(r)), *r[1:]] for r in rows]


def _md_table(rows: list[list[str]], header: list[str] | None = None) -> list[str]:
    w = max(len(r) for r in rows) if rows else len(header or [])
    lines = []
    first = header if header is not None else rows[0]
    body = rows if header is not None else rows[1:]
    lines.append("| " + " | ".join(_md_cell(c) for c in first + [""] * (w - len(first))) + " |")
    lines.append("|" + "---|" * w)
    lines += ["| " + " | ".join(_md_cell(c) for c in r + [""] * (w - len(r))) + " |" for r in body]
    return lines


def md_split(blocks: list[Block], rng: random.Random) -> str:
    out: list[str] = []
    page = [rng.randint(2, 4)]
    damage = {
        "split": rng.random() < 0.8,
        "orphan": rng.random() < 0.5,
        "header": rng.random() < 0.5,
        "footer": rng.random() < 0.6,
        "columns": rng.random() < 0.4,
    }
    for b in blocks:
        if b.rows is None:
            text = (b.text or "").strip()
            if text:
                out += [text, ""]
            continue
        grid = _md_grid(b.rows)
        w = len(grid[0])
        if damage["columns"] and w > 5:  # a wide table cut into 5-column pieces, one after the other
            for lo in range(0, w, 5):
                out += _md_table([r[lo : lo + 5] for r in grid]) + [""]
            continue
        pieces: list[list[list[str]]] = []
        current: list[list[str]] = []
        for r in grid:
            current.append(r)
            if damage["split"] and len(current) >= 2 and rng.random() < 0.3:
                pieces.append(current)
                current = []
        if current:
            pieces.append(current)
        for k, piece in enumerate(pieces):
            nlab = 3 if w == 10 else 1 if w < 10 else 0  # label columns: the application table has three
            if damage["orphan"] and nlab and k + 1 < len(pieces) and rng.random() < 0.5:
                nxt = pieces[k + 1][0]
                if nxt[nlab - 1].strip() and not _INVISIBLE.match("".join(nxt[nlab:])):
                    # the label stays behind at the end of this piece; its numbers open the next
                    piece.append(nxt[:nlab] + [""] * (w - nlab))
                    pieces[k + 1][0] = [""] * nlab + nxt[nlab:]
            header = None
            if k > 0 and damage["header"] and rng.random() < 0.6:
                header = [f"列{c + 1}" for c in range(w)] if rng.random() < 0.5 else list(pieces[0][0])
            elif k > 0 and damage["header"]:
                header = [""] * w  # an empty header row: the converter's
            body = list(piece)
            if damage["footer"] and len(body) > 2 and rng.random() < 0.4:
                at = rng.randint(1, len(body) - 1)
                body.insert(at, [f"— {page[0]} —"] + [""] * (w - 1))
                page[0] += 1
            out += _md_table(body, header) + [""]
            if damage["footer"] and k + 1 < len(pieces) and rng.random() < 0.3:
                out += [f"— {page[0]} —", ""]
                page[0] += 1
    return "\n".join(out) + "\n"
