"""Coverage-guided fuzzing of the decoder and the text parser with atheris (not run in CI).

    make fuzz                      # 120 s
    make fuzz FUZZ_SECONDS=600

Any exception is a finding: the parser must turn every input into a well-formed result.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from govinfo_pipeline.parse import codebook
    from govinfo_pipeline.parse.decode import decode
    from govinfo_pipeline.parse.report import parse_report
    from govinfo_pipeline.parse.values import NUMBER


def check(data: bytes) -> None:
    decoded = decode(data)
    if decoded.text is None:
        assert decoded.reason
        return
    parsed = parse_report(decoded.text)
    expected = 0 if parsed.template_version == "unknown" else len(codebook.cells(parsed.template_version))
    assert len(parsed.cells) == expected
    for c in parsed.cells:
        assert (c["value"] is None) == (c["cell_status"] != NUMBER)


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
