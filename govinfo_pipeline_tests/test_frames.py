"""``frames.concat`` is ``pd.concat(..., ignore_index=True)``, only faster."""

import numpy as np
import pandas as pd

from govinfo_pipeline.parse import frames


def test_concat_equals_pandas_concat_for_every_dtype_mix():
    a = pd.DataFrame(
        {
            "id": ["r1", "r2"],
            "value": [1.0, np.nan],
            "line": [3, 4],
            "page": [None, None],
            "n": pd.array([1, None], dtype="Int64"),
            "flag": [None, "x"],
        },
        index=[5, 6],
    )
    b = pd.DataFrame(
        {"id": ["r3"], "value": [2.5], "line": [None], "page": [7], "n": pd.array([3], dtype="Int64"), "flag": [None]},
        index=[0],
    )
    empty = a.iloc[0:0]
    nones = pd.DataFrame(
        {
            "id": ["r4"],
            "value": [None],
            "line": [None],
            "page": [None],
            "n": pd.array([None], dtype="Int64"),
            "flag": [None],
        }
    )
    for parts in ([a, b], [b, a, b], [a, empty, b], [a], [a, nones], [nones, b, a]):
        got, want = frames.concat(parts), pd.concat(parts, ignore_index=True)
        pd.testing.assert_frame_equal(got, want)
    assert frames.concat([]).empty
    assert frames.concat([a, b])["id"].tolist() == ["r1", "r2", "r3"]
    assert list(frames.concat([a, b]).index) == [0, 1, 2]


def test_concat_of_different_columns_falls_back_to_pandas():
    a, b = pd.DataFrame({"x": [1]}), pd.DataFrame({"y": [2]})
    pd.testing.assert_frame_equal(frames.concat([a, b]), pd.concat([a, b], ignore_index=True))
