"""PDF text in layout mode (``pdftotext -layout``): table columns told by their positions."""

from __future__ import annotations

from govinfo_pipeline.lib.layout import Layout


def looks_like_layout(text: str) -> bool:
    """True for PDF layout text (not yet read: see read_layout_text)."""
    return False


def read_layout_text(text: str) -> Layout:
    raise NotImplementedError
