"""Pages flattened onto one line, their table cells glued together (``规范性文件898989``)."""

from __future__ import annotations

from govinfo_pipeline.lib.layout import Layout


def looks_flat(text: str) -> bool:
    """True for a page whose tables were flattened onto one line (not yet read: see read_flat)."""
    return False


def read_flat(text: str) -> Layout:
    raise NotImplementedError
