"""Decoding: UTF-8 with or without BOM, GB18030/GBK, UTF-16; junk gets a reason."""

import random

import pytest

from govinfo_pipeline.parse.decode import decode
from govinfo_pipeline_tests.conftest import SAMPLES

TEXT = (SAMPLES / "003_cc3b440ac1b55c30.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_round_trip(encoding):
    got = decode(TEXT.encode(encoding))
    assert got.text == TEXT
    assert got.reason is None


def test_gbk_text_decodes_as_gb18030():
    text = "杨舍镇2020年度政府信息公开工作年度报告\n\t规章\n\t0\n"
    got = decode(text.encode("gbk"))
    assert got.text == text
    assert got.encoding == "gb18030"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t\r\n", "empty"),
        (bytes(range(256)) * 40, "undecodable"),
        (b"\x00\x01\x02\x03" * 500, "undecodable"),
        (b"\xfe\xff", "empty"),  # found by the fuzzer: a UTF-16 BOM and nothing else
        (b"\xff\xfe", "empty"),
        (b"\xef\xbb\xbf", "empty"),
    ],
)
def test_rejections(data, reason):
    got = decode(data)
    assert got.text is None
    assert got.reason == reason
    assert got.detail


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_rejected_not_guessed(seed):
    got = decode(random.Random(seed).randbytes(4096))
    assert got.text is None
    assert got.reason == "undecodable"
