"""Checks made before a file is read, so that a hostile file is rejected in bounded time and memory.

Each check returns ``(reason, detail)`` for a file that hits a limit, or None. The limits are fields of
``settings.Settings`` (``GOVINFO_MAX_*``); a rejection's detail names the variable of the limit it hit.
``clean_text`` makes decoded text safe to store (no NUL, no lone surrogate). No Dagster here.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from dataclasses import dataclass

from govinfo_pipeline import settings

Rejection = tuple[str, str]

# A member that inflates to less than this is never judged by its compression ratio: small files of one
# repeated byte compress far better than any limit a real document needs.
RATIO_GRACE_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
_ELEMENT_START = re.compile(rb"<[A-Za-z_]")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr basefont bgsound frame keygen".split()
)
# Elements an HTML parser closes when a sibling of the same kind opens (<p>a<p>b, <td>1<td>2).
_SIBLINGS = {
    "p": {"p"},
    "li": {"li"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "option": {"option"},
    "td": {"td", "th"},
    "th": {"td", "th"},
    "tr": {"tr", "td", "th"},
}
# A start or end tag; quoted values do not run past < or >, so that a stray quote costs no rescan
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:[^<>\"']|\"[^\"<>]*\"|'[^'<>]*')*?(/?)>")
# A DOCTYPE with an internal subset at the head of a page: <!DOCTYPE html [<!ENTITY …>]>
_HTML_SUBSET = re.compile(r"\A\s*(?:<\?xml[^<>]*>\s*)?(<!DOCTYPE[^\[<>]*\[.*?\]\s*>)", re.I | re.S)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """The limits a file is checked against (from ``Settings``)."""

    max_unzipped_bytes: int
    max_zip_ratio: int
    max_pdf_pages: int
    max_html_depth: int
    max_line_chars: int

    @classmethod
    def current(cls) -> Limits:
        s = settings.current()
        return cls(s.max_unzipped_bytes, s.max_zip_ratio, s.max_pdf_pages, s.max_html_depth, s.max_line_chars)


def check_binary(fmt: str, data: bytes, limits: Limits | None = None) -> Rejection | None:
    """A Word or PDF file's rejection before it is read, or None."""
    limits = limits or Limits.current()
    if fmt == "docx":
        return check_docx(data, limits)
    if fmt == "pdf":
        return check_pdf(data, limits)
    return None


def check_docx(data: bytes, limits: Limits) -> Rejection | None:
    """A zip bomb (total inflated size, or one member's compression ratio), or XML parts that declare a DTD."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        return "malformed", f"a damaged zip archive: {exc}"
    with z:
        members = z.infolist()
        inflated = sum(i.file_size for i in members)
        if inflated > limits.max_unzipped_bytes:
            return "too_large", (
                f"the Word document inflates to {inflated} bytes, over GOVINFO_MAX_UNZIPPED_BYTES "
                f"({limits.max_unzipped_bytes}): a zip bomb"
            )
        for i in members:
            ratio = i.file_size / max(i.compress_size, 1)
            if i.file_size > RATIO_GRACE_BYTES and ratio > limits.max_zip_ratio:
                return "too_compressed", (
                    f"{i.filename} inflates {ratio:.0f} times ({i.compress_size} to {i.file_size} bytes), over "
                    f"GOVINFO_MAX_ZIP_RATIO ({limits.max_zip_ratio}): a zip bomb"
                )
        for i in members:  # every part, whatever its name: the package's relationships may name any as XML
            if not i.is_dir():
                try:
                    declares = _declares_dtd(z, i)
                except Exception as exc:  # BadZipFile, zlib.error, EOFError: a damaged member
                    return "malformed", f"a damaged part {i.filename} in the Word document: {type(exc).__name__}: {exc}"
                if declares:
                    return "xml_entities", (
                        f"{i.filename} declares a DTD (<!DOCTYPE>/<!ENTITY>), which Word never writes: external "
                        "or nested entities could read local files or expand without bound; not read"
                    )
    return None


def _declares_dtd(z: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """True when the XML part has a DTD in its prolog (read in chunks up to its first element)."""
    prolog = b""
    with z.open(member) as fh:
        first = fh.read(_CHUNK)
        utf16 = first[:2] in (b"\xff\xfe", b"\xfe\xff")  # XML may be UTF-16: scanned as UTF-8
        if utf16:
            codec = "utf-16-le" if first[:2] == b"\xff\xfe" else "utf-16-be"
        if not utf16 and not first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):  # not XML (an image, say)
            return False
        for chunk in itertools.chain([first], iter(lambda: fh.read(_CHUNK), b"")):
            if utf16:
                chunk = chunk.decode(codec, "ignore").encode("utf-8")
            prolog = prolog[-16:] + chunk  # a marker split between two chunks is still seen
            m = _ELEMENT_START.search(prolog)
            head = prolog[: m.start()] if m else prolog
            if _DTD.search(head):
                return True
            if m:
                return False
    return False


def check_pdf(data: bytes, limits: Limits) -> Rejection | None:
    """A PDF with more pages than GOVINFO_MAX_PDF_PAGES. Pages are counted by PDFium, or where it cannot open
    the file by the page tree's /Count as pdfminer (the PDF reader's parser) finds it; a file neither can count
    is left to the PDF reader, which tells an encrypted file from a damaged one."""
    pages = _pdfium_pages(data)
    if pages is None:
        pages = _pdfminer_pages(data)
    if pages is not None and pages > limits.max_pdf_pages:
        return "too_many_pages", f"the PDF has {pages} pages, over GOVINFO_MAX_PDF_PAGES ({limits.max_pdf_pages})"
    return None


def _pdfium_pages(data: bytes) -> int | None:
    import pypdfium2

    try:
        doc = pypdfium2.PdfDocument(data)
    except Exception:
        return None
    try:
        return len(doc)
    finally:
        doc.close()


def _pdfminer_pages(data: bytes) -> int | None:
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        catalog = PDFDocument(PDFParser(io.BytesIO(data))).catalog
        count = resolve1(resolve1(catalog["Pages"])["Count"])
    except Exception:
        return None
    return count if isinstance(count, int) else None


def check_text(fmt: str, text: str, limits: Limits | None = None) -> Rejection | None:
    """A decoded file's rejection before it is read: HTML nested too deep, a text line too long; or None."""
    limits = limits or Limits.current()
    if fmt == "html":
        depth = html_depth(text, stop_at=limits.max_html_depth + 1)
        if depth > limits.max_html_depth:
            return "too_deep", (
                f"the page nests its elements more than {limits.max_html_depth} deep, over GOVINFO_MAX_HTML_DEPTH"
            )
        return None
    longest = longest_line(text, stop_at=limits.max_line_chars + 1)
    if longest > limits.max_line_chars:
        return "line_too_long", (f"a line of more than {limits.max_line_chars} characters, over GOVINFO_MAX_LINE_CHARS")
    return None


def html_depth(text: str, stop_at: int | None = None) -> int:
    """How deep a page's elements nest, as an HTML parser would build them (void elements and siblings that
    close each other counted once; a closing tag closes up to its element). Stops counting at ``stop_at``."""
    stack: list[str] = []
    deepest = 0
    for m in _TAG.finditer(text):
        closing, name, self_closing = m.group(1), m.group(2).lower(), m.group(3)
        if closing:
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name) :]
            continue
        if name in _VOID or self_closing:
            continue
        closes = _SIBLINGS.get(name)
        if closes:
            while stack and stack[-1] in closes:
                stack.pop()
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
            if stop_at is not None and deepest >= stop_at:
                break
    return deepest


def longest_line(text: str, stop_at: int | None = None) -> int:
    """The length of the text's longest line (stops looking once a line reaches ``stop_at``)."""
    longest = start = 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if end - start > longest:  # a line of old Mac text ends in a lone CR
            longest = max(longest, max(map(len, text[start:end].split("\r"))))
        if stop_at is not None and longest >= stop_at:
            break
        start = end + 1
    return longest


def clean_text(text: str, fmt: str | None = None) -> tuple[str, str | None]:
    """Text safe to store and parse, and a note of what was changed: NUL characters (which PostgreSQL refuses
    in text) dropped, lone surrogates (no character at all) as U+FFFD, and an HTML page's DOCTYPE internal
    subset (entity declarations, never expanded) left out."""
    notes = []
    if "\x00" in text:
        notes.append(f"{text.count(chr(0))} NUL characters dropped")
        text = text.replace("\x00", "")
    if _LONE_SURROGATE.search(text):
        notes.append(f"{len(_LONE_SURROGATE.findall(text))} lone surrogates replaced by U+FFFD")
        text = _LONE_SURROGATE.sub("\ufffd", text)
    if fmt == "html" and (m := _HTML_SUBSET.match(text)):
        notes.append("the DOCTYPE's internal subset (entity declarations) left out, its entities not expanded")
        text = text[: m.start(1)] + text[m.end(1) :]
    return text, "; ".join(notes) or None


def has_lone_surrogate(value: str) -> bool:
    """True when the string holds a lone surrogate (which no database can store as text)."""
    return _LONE_SURROGATE.search(value) is not None


def safe_str(value: str) -> str:
    """A string PostgreSQL and DuckDB can store: NUL dropped, lone surrogates as U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _LONE_SURROGATE.sub("\ufffd", value)
