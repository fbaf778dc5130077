# Two commands do all the setup on a fresh machine:
#   make run    ingest data/raw/ into the local DuckDB warehouse, then print a summary
#   make test   run the whole test suite (needs PostgreSQL on 127.0.0.1:5432)
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: setup browser run test test-fast lint ui fuzz accuracy bench profile clean
FUZZ_SECONDS ?= 120

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Byte-code is compiled at install time: where PYTHONDONTWRITEBYTECODE is set, every process would
# otherwise compile pandas, Dagster and Great Expectations from source again (GX: ~17 s instead of ~6 s).
.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	.venv/bin/python -m compileall -q govinfo_pipeline
	touch $@

setup: .venv/.synced

run: setup
	.venv/bin/govinfo run

# The HTML report is tested in a real headless Chromium (Debian's package), and the synthetic PDFs, which do not
# embed their Chinese font, are rendered (scans, crops, screenshots) with a system CJK font: installed here if missing.
browser:
	@missing="$$(command -v chromium >/dev/null 2>&1 || echo chromium) $$(fc-list :lang=zh 2>/dev/null | grep -q . || echo fonts-noto-cjk)"; \
	if [ -n "$$(echo $$missing)" ]; then \
		{ command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && apt-get install -y -qq $$missing >/dev/null); } || \
		echo "not installed: $$missing (the browser test is skipped without chromium; scans need a CJK font)"; fi

test: lint browser
	.venv/bin/pytest -ra

# The unit tests only (no end-to-end run through Dagster): about two minutes.
test-fast: lint
	.venv/bin/pytest -ra -m "not slow"

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

ui: setup
	.venv/bin/govinfo ui

# Field-level accuracy over the format corpus (cells correct / expected, per format).
accuracy: setup browser
	.venv/bin/python -m govinfo_pipeline_tests.corpus_accuracy

# Benchmark: BENCH_REPORTS synthetic reports through the pipeline; figures to bench/.
BENCH_REPORTS ?= 1000
bench: setup
	.venv/bin/govinfo bench --reports $(BENCH_REPORTS) --out bench/bench_$(BENCH_REPORTS).json

# Where the time goes: the same benchmark with the pipeline run under pyinstrument.
profile: setup
	.venv/bin/govinfo bench --reports $(BENCH_REPORTS) --out bench/profiled_$(BENCH_REPORTS).json \
		--profile bench/profile_$(BENCH_REPORTS).txt

# Coverage-guided fuzzing of the parser (atheris); a separate command, not part of CI.
fuzz: setup
	$(UV) sync --frozen --compile-bytecode --group fuzz --python $(PYTHON)
	mkdir -p build/fuzz-corpus build/fuzz-artifacts
	.venv/bin/python govinfo_pipeline_tests/fuzz_parser.py build/fuzz-corpus govinfo_pipeline_tests/fuzz_seeds \
		-max_total_time=$(FUZZ_SECONDS) -max_len=20000 -rss_limit_mb=4096 -artifact_prefix=build/fuzz-artifacts/

clean:
	rm -rf .venv .tools .dagster_home data/warehouse.duckdb data/warehouse.duckdb.wal
