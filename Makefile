# Two commands for a newcomer: `make run` and `make test`. Both bootstrap uv into .boot/ (only Python 3.11
# and make are needed) and install the locked dependencies into .venv/.
SHELL := /bin/bash
PY ?= python3
UV := .boot/bin/uv
RUN := $(UV) run --locked
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: install run test lint format bench clean dev sql docs refdata

$(UV):
	$(PY) -m venv .boot
	.boot/bin/pip install -q "uv>=0.13,<0.14"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked
	@touch $@

install: .venv/.synced

run: install
	@if [ ! -d "$${LINGTAN_LANDING:-data/landing}" ] || [ -z "$$(ls -A "$${LINGTAN_LANDING:-data/landing}" 2>/dev/null)" ]; then \
		$(RUN) lingtan demo --landing "$${LINGTAN_LANDING:-data/landing}"; fi
	$(RUN) lingtan run

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

test: install lint
	$(RUN) pytest -q -n 2 --dist loadfile

bench: install
	$(RUN) python -m tests.bench.run

dev: install
	$(RUN) dg dev

sql: install
	$(RUN) lingtan sql

clean:
	rm -rf data .venv .boot dbt_project/target
