"""The year page's charts, drawn as inline SVG (no script, nothing fetched)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Noto Sans SC", "Noto Sans", "Helvetica Neue", Arial, sans-serif'
)


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def num(value: object) -> str:
    if missing(value):
        return "blank"
    v = float(value)  # type: ignore[arg-type]
    return f"{int(v):,}" if v.is_integer() else f"{v:,.2f}"


def pct(value: object, digits: int = 0) -> str:
    return "—" if missing(value) else f"{float(value) * 100:.{digits}f}%"  # type: ignore[arg-type]


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK and full-width characters take 1em, the rest about 0.6em."""
    return sum(size if ord(ch) >= 0x2E80 else 0.6 * size for ch in text)


def _fit(text: str, width: float, size: float) -> str:
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _ticks(vmax: float, n: int = 5) -> list[float]:
    """Round tick values from 0 to at least vmax."""
    if vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(math.ceil(vmax / step - 1e-9)) + 1)]


def _legend(items: Sequence[tuple[str, str]], x: float, y: float, width: float, hatch: str | None = None) -> str:
    out, cx, cy = [], x, y
    for label, colour in items:
        w = 18 + _text_width(label, 12) + 16
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 18
        fill = f"url(#{hatch})" if colour == "hatch" and hatch else colour
        out.append(
            f'<rect x="{cx:.1f}" y="{cy - 10:.1f}" width="12" height="12" fill="{fill}" stroke="#888" '
            f'stroke-width="0.5"/><text x="{cx + 16:.1f}" y="{cy:.1f}" class="legend">{esc(label)}</text>'
        )
        cx += w
    return "".join(out)


def grouped_bar_chart(
    title: str, categories: list[str], series: Sequence[tuple[str, str, list]], width: int = 960
) -> str:
    """Horizontal bars, one group per category and one bar per series; a blank value is written, not drawn."""
    label_w = min(280.0, max([_text_width(c, 13) for c in categories] + [60]) + 16)
    bar_h, gap = 14, 10
    group_h = bar_h * len(series) + gap
    top, bottom = 48, 34
    height = top + group_h * len(categories) + bottom
    plot_x, plot_w = label_w, width - label_w - 70
    values = [float(v) for _, _, vs in series for v in vs if not missing(v)]
    ticks = _ticks(max(values, default=0.0))
    xmax = ticks[-1] or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>',
        _legend([(name, colour) for name, colour, _ in series], plot_x, 18, plot_w),
    ]
    y_axis = top + group_h * len(categories)
    for t in ticks:
        x = plot_x + t / xmax * plot_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{y_axis}" class="grid"/>'
            f'<text x="{x:.1f}" y="{y_axis + 16}" class="tick" text-anchor="middle">{num(t)}</text>'
        )
    for i, cat in enumerate(categories):
        y0 = top + i * group_h
        parts.append(
            f'<text x="{label_w - 8:.1f}" y="{y0 + group_h / 2:.1f}" class="cat" text-anchor="end" '
            f'dominant-baseline="middle"><title>{esc(cat)}</title>{esc(_fit(cat, label_w - 12, 13))}'
            "</text>"
        )
        for j, (name, colour, vals) in enumerate(series):
            v = vals[i]
            y = y0 + gap / 2 + j * bar_h
            if missing(v):
                parts.append(
                    f'<text x="{plot_x + 4:.1f}" y="{y + bar_h / 2:.1f}" class="blank" '
                    f'dominant-baseline="middle">{esc(name)}: blank — not reported</text>'
                )
                continue
            w = float(v) / xmax * plot_w
            parts.append(
                f'<rect x="{plot_x:.1f}" y="{y + 1:.1f}" width="{max(w, 0.0):.1f}" height="{bar_h - 2}" '
                f'fill="{colour}"><title>{esc(cat)} — {esc(name)}: {num(v)}</title></rect>'
                f'<text x="{plot_x + w + 4:.1f}" y="{y + bar_h / 2:.1f}" class="val" '
                f'dominant-baseline="middle">{num(v)}</text>'
            )
    parts.append(f'<line x1="{plot_x}" y1="{top - 6}" x2="{plot_x}" y2="{y_axis}" class="axis"/></svg>')
    return "".join(parts)


def stacked_share_chart(
    title: str,
    rows: list[tuple[str, dict | None, str | None]],
    segments: Sequence[tuple[str, str, str]],
    width: int = 960,
) -> str:
    """One 100% bar per row: each segment's share of processed. A row without shares shows its note instead.

    Outcomes that do not add up to processed (rule B2) leave a hatched gap, or run past 100%: drawn as found.
    """
    label_w = min(280.0, max([_text_width(r[0], 13) for r in rows] + [60]) + 16)
    bar_h, gap = 20, 10
    top, bottom = 66, 34
    height = top + (bar_h + gap) * len(rows) + bottom
    plot_x = label_w
    totals = [sum(float(v) for v in shares.values() if not missing(v)) for _, shares, _ in rows if shares]
    scale = max([1.0, *totals])
    plot_w = (width - label_w - 90) / scale
    hatch = "hatch-unaccounted"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>',
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>',
        _legend(
            [(label, colour) for _, label, colour in segments] + [("not accounted for (B2)", "hatch")],
            plot_x,
            18,
            width - plot_x - 10,
            hatch=hatch,
        ),
    ]
    y_axis = top + (bar_h + gap) * len(rows)
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        x = plot_x + t * plot_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{y_axis}" class="grid"/>'
            f'<text x="{x:.1f}" y="{y_axis + 16}" class="tick" text-anchor="middle">{t * 100:.0f}%</text>'
        )
    for i, (label, shares, note) in enumerate(rows):
        y = top + i * (bar_h + gap) + gap / 2
        parts.append(
            f'<text x="{label_w - 8:.1f}" y="{y + bar_h / 2:.1f}" class="cat" text-anchor="end" '
            f'dominant-baseline="middle"><title>{esc(label)}</title>{esc(_fit(label, label_w - 12, 13))}'
            "</text>"
        )
        if not shares:
            parts.append(
                f'<text x="{plot_x + 4:.1f}" y="{y + bar_h / 2:.1f}" class="blank" '
                f'dominant-baseline="middle">{esc(note or "no figures")}</text>'
            )
            continue
        x = plot_x
        for key, seg_label, colour in segments:
            v = shares.get(key)
            if v is None or missing(v) or float(v) <= 0:
                continue
            w = float(v) * plot_w
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                f"<title>{esc(label)} — {esc(seg_label)}: {pct(v, 1)}</title></rect>"
            )
            if w >= 34:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + bar_h / 2:.1f}" class="seg" text-anchor="middle" '
                    f'dominant-baseline="middle">{pct(v)}</text>'
                )
            x += w
        total = sum(float(v) for v in shares.values() if not missing(v))
        if total < 0.995:
            w = (1 - total) * plot_w
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" fill="url(#{hatch})">'
                f"<title>{esc(label)} — not accounted for by the outcome rows: {pct(1 - total, 1)}"
                "</title></rect>"
            )
        elif total > 1.005:
            parts.append(
                f'<text x="{x + 4:.1f}" y="{y + bar_h / 2:.1f}" class="blank" dominant-baseline="middle">'
                f"outcomes add to {pct(total)} of processed</text>"
            )
        if note:
            parts.append(
                f'<text x="{max(x, plot_x + plot_w) + 4:.1f}" y="{y + bar_h / 2:.1f}" class="val" '
                f'dominant-baseline="middle">{esc(note)}</text>'
            )
    parts.append(f'<line x1="{plot_x}" y1="{top - 6}" x2="{plot_x}" y2="{y_axis}" class="axis"/></svg>')
    return "".join(parts)


def rate_bar_chart(title: str, rows: list[tuple[str, float, str, str]], width: int = 960) -> str:
    """Horizontal bars of shares (0–100%): label, share, colour, annotation."""
    label_w = min(200.0, max([_text_width(r[0], 13) for r in rows] + [40]) + 16)
    bar_h, gap, top, bottom = 16, 8, 16, 34
    height = top + (bar_h + gap) * len(rows) + bottom
    plot_x, plot_w = label_w, width - label_w - 190
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
    ]
    y_axis = top + (bar_h + gap) * len(rows)
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        x = plot_x + t * plot_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{y_axis}" class="grid"/>'
            f'<text x="{x:.1f}" y="{y_axis + 16}" class="tick" text-anchor="middle">{t * 100:.0f}%</text>'
        )
    for i, (label, share, colour, note) in enumerate(rows):
        y = top + i * (bar_h + gap) + gap / 2
        w = max(0.0, min(1.0, share)) * plot_w
        parts.append(
            f'<text x="{label_w - 8:.1f}" y="{y + bar_h / 2:.1f}" class="cat" text-anchor="end" '
            f'dominant-baseline="middle">{esc(label)}</text>'
            f'<rect x="{plot_x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
            f"<title>{esc(label)}: {esc(note)}</title></rect>"
            f'<text x="{plot_x + w + 4:.1f}" y="{y + bar_h / 2:.1f}" class="val" '
            f'dominant-baseline="middle">{esc(note)}</text>'
        )
    parts.append(f'<line x1="{plot_x}" y1="{top - 4}" x2="{plot_x}" y2="{y_axis}" class="axis"/></svg>')
    return "".join(parts)
