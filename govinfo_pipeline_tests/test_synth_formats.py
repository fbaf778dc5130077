"""The synthetic corpus as HTML pages, Word files and PDFs (``synth/formats.py``).

The oracle is the generator's own construction, the same for every format: each generated cell must
come back with its value, unit and status, every planted failure must be found, and nothing else may
fail beyond the warnings the generator causes on purpose.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from govinfo_pipeline.parse import batch as parse_batch
from govinfo_pipeline.parse import sources
from govinfo_pipeline.quality import rules
from govinfo_pipeline.synth import damage
from govinfo_pipeline.synth import formats as synth_formats
from govinfo_pipeline.synth import generator as synth

N = 40  # ten of each format, round robin; both templates; two planted failures in each format
SEED = 424242
# The well-formed formats, every cell exact; the damaged ones (synth/damage.py) are measured in test_damage.py.
WHOLE = tuple(f for f in synth_formats.FORMATS if f not in (*damage.FORMATS, *synth_formats.SCANNED))


def test_split_dump_reads_the_generators_layout():
    dump = (
        "报告标题\n一、总体情况\n\t信息内容\n\t本年新\n制作数量\n\t对外公开总数量\n\n\t规章\n\t0\n\t\u00a0\n\n"
        "三、收到和处理政府信息公开申请情况\n\t三\n、\n本\n\t1\n"
    )
    blocks = synth_formats.split_dump(dump)
    assert [b.text for b in blocks] == ["报告标题", "一、总体情况", None, "三、收到和处理政府信息公开申请情况", None]
    assert blocks[2].rows == [["信息内容", "本年新\n制作数量", "对外公开总数量"], ["规章", "0", "\u00a0"]]
    assert blocks[4].rows == [["三\n、\n本", "1"]]


def test_short_rows_span_to_the_right_edge():
    assert synth_formats._spans(["一、本年新收", *"1234567"], 10) == [3, 1, 1, 1, 1, 1, 1, 1]
    assert synth_formats._spans(["", "自然人", "法人或其他组织", "总计"], 10) == [7, 1, 1, 1]
    assert synth_formats._spans(list("abc"), 3) == [1, 1, 1]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        synth_formats.render("xls", "\tx\n")
    with pytest.raises(ValueError):
        next(synth.generate(1, formats=("txt", "odt")))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth_formats")
    synth.write_corpus(folder, N, seed=SEED, formats=WHOLE)
    oracle = json.loads((folder / synth.ORACLE_NAME).read_text(encoding="utf-8"))
    files = [f for f in sources.discover(folder) if f.rel != synth.ORACLE_NAME]
    raw = sources.read_files(files)
    normalized = parse_batch.normalize(raw, workers=1)
    facts = rules.check(normalized)
    return folder, oracle, raw, normalized, facts


def test_files_are_what_their_names_say(corpus):
    folder, oracle, raw, *_ = corpus
    suffixes = sorted(name.rsplit(".", 1)[1] for name in oracle["files"])
    assert suffixes == sorted(list(WHOLE) * (N // 4))
    told = dict(zip(raw["source_path"], raw["source_format"], strict=True))
    expected = {"txt": "text", "html": "html", "docx": "docx", "pdf": "pdf"}
    assert {name: told[name] for name in oracle["files"]} == {
        name: expected[name.rsplit(".", 1)[1]] for name in oracle["files"]
    }
    assert {f["template_version"] for f in oracle["files"].values()} == {"2019", "2021"}


def test_real_structure(corpus):
    """The Word files hold real (merged) tables, the PDFs ruled tables pdfplumber finds, the pages markup."""
    import docx
    import pdfplumber

    folder, oracle, *_ = corpus
    names = list(oracle["files"])
    d = docx.Document(str(folder / next(n for n in names if n.endswith(".docx"))))
    assert len(d.tables) >= 3
    assert any(row.cells[0]._tc is row.cells[1]._tc for t in d.tables for row in t.rows)  # merged across
    with zipfile.ZipFile(folder / next(n for n in names if n.endswith(".docx"))) as z:
        assert "w:gridSpan" in z.read("word/document.xml").decode("utf-8")
    with pdfplumber.open(folder / next(n for n in names if n.endswith(".pdf"))) as pdf:
        assert len(pdf.pages) >= 2
        assert sum(len(p.find_tables()) for p in pdf.pages) >= 3
        assert "总体情况" in pdf.pages[0].extract_text()
    page = (folder / next(n for n in names if n.endswith(".html"))).read_text(encoding="utf-8")
    assert page.count("<table") >= 3 and 'colspan="3"' in page


def test_every_cell_and_planted_failure_is_found_in_every_format(corpus):
    folder, oracle, raw, normalized, facts = corpus
    assert set(normalized["reports"]["parse_status"]) == {"parsed"}
    assert normalized["rejections"].empty
    got = synth.compare(folder / synth.ORACLE_NAME, normalized["cells"], facts["results"])
    assert got["cells_wrong_examples"] == []
    assert got["cells_correct"] == got["cells_expected"] == sum(len(f["cells"]) for f in oracle["files"].values())
    assert got["rule_failures_found"] == got["rule_failures_expected"] > 0
    assert got["unexpected_failure_examples"] == []
    planted_in = {name.rsplit(".", 1)[1] for name, f in oracle["files"].items() if f["planted"]}
    assert planted_in == set(WHOLE)


def test_metadata_in_every_format(corpus):
    folder, oracle, raw, normalized, _ = corpus
    reports = normalized["reports"].set_index("source_path")
    for name, f in oracle["files"].items():
        r = reports.loc[name]
        assert (r["agency_name"], r["report_year"], r["template_version"]) == (
            f["agency_name"],
            f["report_year"],
            f["template_version"],
        ), name


def test_rendering_is_deterministic():
    a = [r.data for r in synth.generate(4, seed=5, formats=("html", "docx", "pdf", "txt"))]
    b = [r.data for r in synth.generate(4, seed=5, formats=("html", "docx", "pdf", "txt"))]
    assert a == b
    c = [r.data for r in synth.generate(4, seed=6, formats=("html", "docx", "pdf", "txt"))]
    assert all(x != y for x, y in zip(a, c, strict=True))
