"""DataFrame helpers for large batches."""

from __future__ import annotations

import numpy as np
import pandas as pd


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames with the same columns, one after another, with a fresh index: ``pd.concat(frames,
    ignore_index=True)``, but column by column with numpy where the parts share a numpy dtype. For the
    cell frames (millions of rows, mostly object columns) that is about ten times faster."""
    if len(frames) <= 1:
        return frames[0].reset_index(drop=True) if frames else pd.DataFrame()
    columns = list(frames[0].columns)
    if any(list(f.columns) != columns for f in frames[1:]) or len(set(columns)) != len(columns):
        return pd.concat(frames, ignore_index=True)
    out = {}
    for c in columns:
        parts = [f[c] for f in frames]
        dtype = parts[0].dtype
        if isinstance(dtype, np.dtype) and all(p.dtype == dtype for p in parts):
            out[c] = np.concatenate([p.to_numpy() for p in parts])
        else:
            # as DataFrames, so that all-NA parts do not decide the dtype (as in pd.concat of the frames)
            out[c] = pd.concat([f[[c]] for f in frames], ignore_index=True)[c]
    return pd.DataFrame(out, columns=columns)
