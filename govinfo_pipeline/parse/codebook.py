"""The codebook: stable codes for every table cell of both national templates.

The YAML file ships inside the package (``govinfo_pipeline/codebook.yaml``) so that a
clone needs nothing outside the repository.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

TEMPLATES = ("2019", "2021")
SECTIONS = ("proactive", "application", "review_litigation")


@dataclass(frozen=True)
class CellSpec:
    """One cell of a template: its code, what kind of value it holds and its default unit."""

    section: str
    row: str
    col: str
    kind: str  # count | signed_count | money
    default_unit: str | None = None


@dataclass(frozen=True)
class RowSpec:
    section: str
    row: str
    label: str
    cols: tuple[str, ...]
    aliases: tuple[str, ...] = ()


def _text() -> str:
    return resources.files("govinfo_pipeline").joinpath("codebook.yaml").read_text(encoding="utf-8")


@functools.cache
def load() -> dict[str, Any]:
    """The parsed codebook.yaml."""
    codebook: dict[str, Any] = yaml.safe_load(_text())
    return codebook


@functools.cache
def vocabulary() -> frozenset[str]:
    """The Chinese characters the templates' wording uses (labels, headings, aliases, rules): most of what a
    report's text is made of, and a few per cent of a random run of Chinese characters."""
    return frozenset(ch for ch in _text() if "\u4e00" <= ch <= "\u9fff")


@functools.cache
def rows(template: str, section: str) -> tuple[RowSpec, ...]:
    """The rows of one table of one template, in template order."""
    cb = load()
    if section == "proactive":
        return tuple(
            RowSpec(section, r["row"], r["label"], tuple(r["cols"]), tuple(r.get("aliases", ())))
            for r in cb["proactive"][template]
        )
    if section == "application":
        cols = tuple(c["col"] for c in cb["application_cols"])
        return tuple(
            RowSpec(section, r["row"], r["label"], cols, tuple(r.get("aliases", ())))
            for r in cb["application_rows"]
            if template in r.get("templates", TEMPLATES)
        )
    if section == "review_litigation":
        cols = tuple(c["col"] for c in cb["review_litigation_cols"])
        return tuple(RowSpec(section, r["row"], r["label"], cols) for r in cb["review_litigation_rows"])
    raise KeyError(section)


@functools.cache
def cells(template: str) -> tuple[CellSpec, ...]:
    """Every cell of a template, in document order (198 for 2019, 200 for 2021)."""
    pcols = load()["proactive_cols"]
    out: list[CellSpec] = []
    for section in SECTIONS:
        for r in rows(template, section):
            for c in r.cols:
                if section == "proactive":
                    spec = pcols[c]
                    out.append(CellSpec(section, r.row, c, spec["kind"], spec.get("default_unit")))
                else:
                    out.append(CellSpec(section, r.row, c, "count"))
    return tuple(out)


@functools.cache
def cell_codes() -> frozenset[tuple[str, str, str]]:
    """All (section, row, col) codes that exist in any template."""
    return frozenset((c.section, c.row, c.col) for t in TEMPLATES for c in cells(t))


def rules() -> dict[str, dict[str, str]]:
    """Rule id -> {level, text}."""
    rules_by_id: dict[str, dict[str, str]] = load()["rules"]
    return rules_by_id


def section_headings() -> list[dict[str, Any]]:
    """The six top-level sections with their number, code, label and aliases.

    YAML 1.1 reads the key ``no`` as the boolean False, so the number is taken from the order.
    """
    return [
        {"no": i, "code": s["code"], "label": s["label"], "aliases": tuple(s.get("aliases", ()))}
        for i, s in enumerate(load()["sections"], start=1)
    ]
