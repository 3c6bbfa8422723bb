"""How lingtan runs `dbt build` (the nightly's dbt step, orchestration/defs/warehouse/dbt.py, and the no-change
`dbt build` floor of `make bench`, tests/bench/tiny_case.py): kept free of dbt and Dagster imports so that the
bench's floor process imports neither.

Flags: per-node work of `dbt build` that nobody reads (docs/performance.md, "Fixed costs, third pass"):
- `--no-write-json`: dbt's JSON artifacts, manifest.json (written twice, ~3 MB each) and run_results.json.
  Dagster takes each node's result from dbt's stdout events, and lingtan reads neither file.
- `--log-level-file warn`: dbt's debug log file, ~20 lines a node, each serialised and scrubbed of secrets (the
  run's own log already has dbt's info lines). Warnings and errors still go to <target>/dbt.log.

`BUILD_ONLY`: dbt's unit tests are not part of a build of data (`dbt build` only): they test the models' SQL on
fixed inputs, which no landing zone changes, so they belong to development and CI, as dbt's documentation
advises. `make test` runs them (tests/dbt/test_warehouse.py builds the project with them; a failing one fails the
suite); each nightly spared them ~1 s of dbt's Python (5 unit tests, 0.2 s each).
"""

BUILD_FLAGS = ("--no-write-json", "--log-level-file", "warn")
BUILD_ONLY = ("--exclude-resource-type", "unit_test")
