"""The text layout of Word dumps: one table cell per tab-indented line, rows split by blank lines.

``read_layout`` turns a report's text into prose lines and table row groups. It knows nothing
about the templates; ``tables`` maps the row groups onto codebook cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A line that opens one of the six sections: "三、…", "3、…", "（三）…" is NOT one (those are sub-items).
HEADING = re.compile(r"^\s*([一二三四五六1-6１-６])\s*[、.．]\s*(\S.{1,45})$")
_MAX_CONTINUATION = 24


@dataclass
class Cell:
    """One table cell: its raw text (possibly over several lines) and where it stands in the source:
    the line (and offset in it) for text, the page for PDF, and table/row/column indexes for HTML, DOCX
    and PDF tables."""

    raw: str
    line: int | None = None
    page: int | None = None
    table: int | None = None
    row: int | None = None
    col: int | None = None
    offset: int | None = None  # 0-based character offset in its line, where a line holds many cells
    flag: str | None = None  # how the cell was cut out of glued text: 'inferred_split' or 'unsplittable'
    box: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom on its page, PDF points
    confidence: float | None = None  # an OCR engine's confidence in the cell's text (0..1)

    @property
    def text(self) -> str:
        return self.raw.replace("\n", "")


@dataclass
class Layout:
    """A report as the parser sees it, whatever the format: prose lines and table rows, in order."""

    groups: list[list[Cell]] = field(default_factory=list)  # table rows, in order
    prose: list[tuple[int | None, str]] = field(default_factory=list)  # (line, text) outside tables
    title: str | None = None  # when the format marks it (an HTML <h1>, say)
    source_format: str = "text"
    notes: list[str] = field(default_factory=list)  # what the reader could not read with certainty


def split_lines(text: str) -> list[str]:
    """Lines as a person counts them in the file (only \\n, \\r\\n and \\r end a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_layout(text: str, max_prose: int | None = None) -> Layout:
    """Split a text dump into table row groups and prose lines (1-based line numbers); with ``max_prose``,
    stop once that many prose lines are found (what comes before them is read exactly as in full)."""
    lines = split_lines(text)
    layout = Layout()
    current: list[Cell] | None = None
    last_was_cell = False
    for number, line in enumerate(lines, start=1):
        if line.startswith("\t"):
            cell = Cell(line[1:], number)
            if current is None:
                current = []
                layout.groups.append(current)
            current.append(cell)
            last_was_cell = True
            continue
        stripped = line.strip()
        if last_was_cell and current and stripped and len(stripped) <= _MAX_CONTINUATION and not HEADING.match(line):
            # A cell whose text wrapped onto lines of its own ("结果" / "维持", "三" / "、" / "本" …).
            current[-1].raw += "\n" + line
            continue
        last_was_cell = False
        current = None
        if stripped:
            layout.prose.append((number, line))
            if max_prose is not None and len(layout.prose) >= max_prose:
                break
    return layout
