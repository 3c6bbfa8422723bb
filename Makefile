# Two commands for a newcomer: `make run` and `make test`. Both bootstrap uv into .boot/ (only Python 3.11
# and make are needed) and install the locked dependencies into .venv/.
SHELL := /bin/bash
PY ?= python3
UV := .boot/bin/uv
RUN := $(UV) run --locked
# pytest-xdist workers of `make test` (the machine has 2 cores; tests that wait on servers or subprocesses idle)
TEST_WORKERS ?= 2
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: install run test lint format bench clean dev dev-screenshot sql docs defs browser audit soak test-distributed

$(UV):
	$(PY) -m venv .boot
	.boot/bin/pip install -q "uv>=0.13,<0.14"

# --compile-bytecode: every process (each test worker, dbt run, CLI call) then loads .pyc instead of compiling
# dagster, dbt and great_expectations from source, also where PYTHONDONTWRITEBYTECODE is set (a tiny run: 123 s
# of CPU → 96 s on this 2-core box).
.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --compile-bytecode
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

# `dg check defs` (the CI gate of `make defs`) runs beside the suite instead of before it: its ~16 CPU-s on one
# core would otherwise hold the other idle; its output is printed after the suite, and either failing fails.
test: install lint browser
	$(RUN) dagster-dbt project prepare-and-package --file orchestration/dbt_project.py
	@mkdir -p dagster_home; DAGSTER_HOME=$(CURDIR)/dagster_home $(RUN) dg check defs > dagster_home/dg-check.log 2>&1 & dg=$$!; \
	$(RUN) pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not distributed"; rc=$$?; \
	wait $$dg; dg_rc=$$?; echo "dg check defs:"; cat dagster_home/dg-check.log; \
	if [ $$dg_rc -ne 0 ]; then echo "dg check defs failed (exit $$dg_rc)"; exit 1; fi; exit $$rc

# The nightly job on two Celery workers (Redis and moto's S3 on 127.0.0.1, started by the test) against the
# in-process run: docs/distributed.md. Debian's redis-server is installed when missing (as root). Bounded: 45 min.
test-distributed: install
	@command -v redis-server >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
		else echo "redis-server missing: sudo apt-get install redis-server (the distributed test needs it)"; exit 1; fi; }
	timeout 2700 $(RUN) pytest -q -p no:cacheprovider -m distributed tests/distributed

# pip-audit over the locked environment with the allow-list in .ci/audit-allow.txt; skipped (exit 0, said so)
# when the registry's vulnerability data is unreachable.
audit: install
	.ci/audit

# Debian's Chromium and CJK fonts for the report page's browser test (headless, no network); as root only.
browser:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk" || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
		else echo "chromium/fonts-noto-cjk missing: sudo apt-get install chromium fonts-noto-cjk (the browser test needs them)"; fi; }

# The dbt manifest Dagster reads, then every definition must load (the CI gate).
defs: install
	$(RUN) dagster-dbt project prepare-and-package --file orchestration/dbt_project.py
	DAGSTER_HOME=$(CURDIR)/dagster_home $(RUN) dg check defs

docs: install
	@H=$$(realpath -m "$${LINGTAN_HOME:-data}"); test -f "$$H/warehouse/build/lingtan.duckdb" || { echo "no warehouse build under $$H: run 'make run' first"; exit 1; }; \
	cd dbt_project && LINGTAN_HOME=$$H LINGTAN_WAREHOUSE_PATH=$$H/warehouse/build/lingtan.duckdb ../$(RUN) dbt docs generate --static --quiet
	@echo "dbt docs: dbt_project/target/static_index.html (open it in a browser)"

# `make bench`: one table (also <home>/bench/results.json, home $LINGTAN_HOME or ./data) at scales 1 and 10; BENCH=100: scales 1, 10 and 100 (the
# scale-100 landing zone takes > 20 min to generate and ingest here); BENCH="1 10": those scales; BENCH=fixed: only
# the fixed costs (a tiny nightly run beside an empty Dagster run and a no-change dbt build). docs/performance.md.
bench: install
	$(RUN) python -m tests.bench.run $(BENCH)

# The UI on the instance `lingtan run` records into: $$DAGSTER_HOME, else <home>/dagster (home: $$LINGTAN_HOME or
# ./data); created with dagster_home/dagster.yaml (telemetry and the community pop-up off) when missing.
dev: install
	@D=$$($(RUN) python -c 'from orchestration.pipeline import dagster_home; print(dagster_home())') && \
	echo "Dagster instance: $$D" && DAGSTER_HOME=$$D $(RUN) dg dev

# What `make dev` shows after `make run`, without a screen: starts the UI on the same instance, saves
# <home>/ui/{runs,run,catalog,lineage}.png in headless Chromium (tools/ui.py), stops it.
dev-screenshot: install browser
	$(RUN) python -m tools.ui screenshot

# 30 nightly runs in sequence at scale 10 (wall and CPU time, peak memory, input, size of each part of the home
# per night, written as each night ends to <work>/soak.jsonl): `make soak SOAK="10 30 /tmp/soak"` = scale, nights,
# work folder. Measured here: 46-104 CPU-s a night at scale 10 (wall 1.1-9.4 min, with load); docs/reliability.md.
soak: install
	$(RUN) python -m tests.bench.soak $(SOAK)

sql: install
	$(RUN) lingtan sql

clean:
	rm -rf data .venv .boot dbt_project/target
