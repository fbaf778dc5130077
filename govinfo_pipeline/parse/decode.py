"""Turning a raw file's bytes into text, or into a clear reason why not."""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple


class Decoded(NamedTuple):
    text: str | None
    encoding: str | None
    reason: str | None = None  # rejection code when text is None
    detail: str | None = None


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters other than tab, newline, carriage return and form feed do not occur in reports.
_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r", "\f"}
_CONTROL_CHAR = re.compile("[" + re.escape("".join(sorted(_CONTROL))) + "]")  # 16x faster than str.translate
_MAX_CONTROL_SHARE = 0.01
_MAX_BAD_SEQUENCES = 16  # or one in a thousand characters: more is not a text file with a flaw


def _guess_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as NUL bytes in every other position for ASCII-heavy text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) / 2
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:20000]
    controls = len(_CONTROL_CHAR.findall(sample))
    return controls / len(sample) > _MAX_CONTROL_SHARE


def _mostly_cjk_or_ascii(text: str) -> bool:
    sample = text[:4000]
    if not sample:
        return False
    ok = sum(1 for ch in sample if ch < "\x7f" or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return ok / len(sample) > 0.9


def _decode_mixed(data: bytes) -> str | None:
    """Text whose lines are partly UTF-8 and partly GB18030 (files pasted together from two sources).

    Decoding such a file whole as GB18030 "succeeds" and garbles the UTF-8 lines, so when some
    non-ASCII lines are valid UTF-8 and others are not, each line is decoded on its own.
    """
    lines = data.split(b"\n")
    utf8_lines = other_lines = 0
    out = []
    for line in lines:
        try:
            as_utf8: str | None = line.decode("utf-8")
        except UnicodeDecodeError:
            as_utf8 = None
        # GB18030 bytes can form valid two-byte UTF-8 (元 = d4 aa → "Ԫ"); Chinese in UTF-8 takes three
        # bytes, so a line whose non-ASCII characters fall below U+0800 is read as GB18030 if it can be.
        suspicious = as_utf8 is not None and any("\u0080" <= ch < "\u0800" and ch != "\u00a0" for ch in as_utf8)
        if as_utf8 is not None and not suspicious:
            out.append(as_utf8)
            utf8_lines += any(ch >= "\u0800" for ch in as_utf8)
            continue
        try:
            out.append(line.decode("gb18030"))
            other_lines += 1
        except UnicodeDecodeError:
            if as_utf8 is None:
                return None
            out.append(as_utf8)
    return "\n".join(out) if utf8_lines and other_lines else None


def decode(data: bytes) -> Decoded:
    """Decode UTF-8 (with or without BOM), UTF-16/32 (BOM or not) or GB18030 (a superset of GBK)."""
    if not data.strip():
        return Decoded(None, None, "empty", "the file is empty or holds only whitespace")
    candidates: list[str] = []
    for bom, enc in _BOMS:
        if data.startswith(bom):
            candidates = [enc]
            break
    else:
        utf16 = _guess_utf16_without_bom(data)
        candidates = [utf16] if utf16 else ["utf-8", "gb18030", "utf-16-le", "utf-16-be"]
    errors: list[str] = []
    if candidates[0] == "utf-8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
                # A UTF-8 file cut off inside its last character: keep everything before it.
                text = data[: exc.start].decode("utf-8")  # valid: the error is the first invalid byte
                if not _looks_binary(text) and text.strip():
                    return Decoded(text, "utf-8", None, "truncated inside its last character")
            mixed = _decode_mixed(data)
            if mixed is not None and not _looks_binary(mixed):
                return Decoded(mixed, "mixed:utf-8+gb18030")
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            errors.append(f"{enc}: {exc.reason} at byte {exc.start}")
            continue
        if not text.strip():
            return Decoded(None, enc, "empty", "the file decodes to whitespace only")
        if enc.startswith("utf-16") and not _mostly_cjk_or_ascii(text):
            errors.append(f"{enc}: decodes, but not to Chinese or ASCII text")
            continue
        if _looks_binary(text):
            errors.append(f"{enc}: decodes, but holds control characters, so it is binary data")
            continue
        return Decoded(text, enc)
    for enc in candidates:  # a few bad sequences (an encoded lone surrogate, say) do not lose the report
        if enc.startswith(("utf-8", "utf-16")):
            text = data.decode(enc, "replace")
            bad = text.count("\ufffd") - data.decode(enc, "ignore").count("\ufffd")
            if bad and bad <= max(_MAX_BAD_SEQUENCES, len(text) // 1000) and not _looks_binary(text):
                if not enc.startswith("utf-16") or _mostly_cjk_or_ascii(text):
                    note = f"{bad} byte sequences that are not {enc} (an encoded lone surrogate, say) read as U+FFFD"
                    return Decoded(text, enc, None, note)
    return Decoded(None, None, "undecodable", "could not decode as " + "; ".join(errors))
