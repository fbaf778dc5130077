"""Cell text → (value, unit, status): the oddities seen in real reports."""

import pytest

from govinfo_pipeline.parse.values import parse_cell


@pytest.mark.parametrize(
    ("raw", "kind", "value", "unit", "status"),
    [
        ("30", "count", 30, None, "number"),
        ("+3", "count", 3, None, "number"),
        ("+400.4万元", "money", 400.4, "万元", "number"),
        ("1452.74万元", "money", 1452.74, "万元", "number"),
        ("251000元", "money", 251000, "元", "number"),
        ("685389", "money", 685389, None, "number"),
        ("12", "money", 12, "万元", "number"),  # with the 2021 header's default unit, below
        ("1（增）", "signed_count", 1, None, "number"),
        ("34（减）", "signed_count", -34, None, "number"),
        ("-5", "signed_count", -5, None, "number"),
        ("[bookmark: _GoBack]48487", "count", 48487, None, "number"),
        ("\u00a00", "count", 0, None, "number"),
        ("\u00a0 2", "count", 2, None, "number"),
        ("１２", "count", 12, None, "number"),
        ("1,234", "count", 1234, None, "number"),
        ("", "count", None, None, "blank"),
        ("\u00a0", "count", None, None, "blank"),
        ("\u3000\u3000", "count", None, None, "blank"),
        ("无", "count", None, None, "none"),
        ("/", "count", None, None, "none"),
        ("—", "count", None, None, "none"),
        ("-", "count", None, None, "none"),
        ("见附件", "count", None, None, "text"),
        ("12万元", "count", None, None, "text"),  # money in a count cell is not a count
        (None, "count", None, None, "absent"),
    ],
)
def test_parse_cell(raw, kind, value, unit, status):
    default_unit = "万元" if raw == "12" else None
    got = parse_cell(raw, kind, default_unit)
    assert got.status == status
    assert got.unit == unit
    if value is None:
        assert got.value is None
    else:
        assert got.value == pytest.approx(value)
