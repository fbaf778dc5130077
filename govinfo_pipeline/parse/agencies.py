"""The agency dimension: one stable id per reporting body, whatever spelling a report uses.

The id is derived from a normalised key of the name, so the same body gets the same id in every run
and on every machine. Spellings that normalise differently but mean the same body are mapped in
``agency_aliases.yaml`` (alias: canonical name), which users can extend.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from importlib import resources

import yaml

_DROP = re.compile(r"国家级|国家(?=高新|经济|级)|\s")
_LEVELS = (
    (re.compile(r"(?:镇|乡|街道|街道办事处)(?:人民政府)?$"), "乡镇街道"),
    (re.compile(r"(?:高新区|开发区|园区|度假区|保税区|新区)(?:管委会|管理委员会)?$"), "开发区"),
    (re.compile(r"(?:县|区|市)人民政府(?:办公室)?$"), "政府"),
    (re.compile(r"(?:局|委员会|委|办公室|办|中心|厅|院|署)$"), "部门"),
)


@functools.cache
def aliases() -> dict[str, str]:
    text = resources.files("govinfo_pipeline").joinpath("agency_aliases.yaml").read_text(encoding="utf-8")
    return {key(a): key(c) for a, c in (yaml.safe_load(text) or {}).items()}


def key(name: str) -> str:
    """The normalised name: NFKC, no spaces, 国家/国家级 dropped before a zone type, 人民政府 suffix dropped."""
    text = _DROP.sub("", unicodedata.normalize("NFKC", name))
    return text.removesuffix("人民政府") or text


def agency_id(name: str | None) -> str | None:
    """A stable id for the body a name refers to (NULL for no name)."""
    if not name:
        return None
    k = key(name)
    k = aliases().get(k, k)
    return hashlib.sha1(k.encode("utf-8")).hexdigest()[:12]


def level(name: str | None) -> str | None:
    """乡镇街道, 开发区, 政府 or 部门 when the name's ending tells; else NULL."""
    if not name:
        return None
    for pattern, lvl in _LEVELS:
        if pattern.search(name):
            return lvl
    return None
