# The two commands of the README: `make demo` and `make test`. Both install what they need first.
.PHONY: setup browser demo test bench

VENV := .venv
export UV_PYTHON_DOWNLOADS := never

# Installs the packages, then parses the dbt project into the manifest the Dagster definitions are made from.
# Byte-compiled at install: where PYTHONDONTWRITEBYTECODE is set (as here), every kritinfo and dbt
# process would otherwise compile dagster and dbt from source again (some 5 s each).
setup:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	uv sync --frozen --compile-bytecode
	$(VENV)/bin/kritinfo prepare

# Debian's Chromium for the browser tests (playwright cannot download browsers here), and npm,
# with which the accessibility tests fetch axe-core once into ~/.cache/kritinfo-tests/.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq npm)

demo: setup
	$(VENV)/bin/kritinfo demo

# The linters first (ruff for Python, sqlfluff for the dbt SQL: a minute); then the whole suite.
test: setup browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint dbt_project
	$(VENV)/bin/python -m pytest

# `make bench SCALES=1` for a quick run; results in bench/results/.
SCALES ?= 1,10
bench: setup browser
	$(VENV)/bin/python bench/run_benchmark.py --scales $(SCALES)
