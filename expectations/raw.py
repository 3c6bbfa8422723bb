"""The raw gate: what must hold of a dataset's staged lake table before it is published (row accounting per
file, the contract's schema, unique business keys, required values) and the contract's ODCS SQL quality rules
(`quality: [{type: sql, query, mustBe…}]`), run with DuckDB on the staged Parquet."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from expectations.gate import Gate
from transforms.contracts import Dataset
from transforms.ingest.quarantine import repeated_keys
from transforms.paths import table_glob

RAW_GATE = "raw_gate"


def audit_raw(ds: Dataset, current: Path, files: pl.DataFrame, since: date | None = None) -> Gate:
    """`current`: the staged current table; `files`: the file records (ingest FILES_SCHEMA) of this run.

    `since`: the table extends the published current with the drops from `since` on (an event dataset's
    nightly: every row dated before `since` was in the published current, audited when it was published).
    The row checks (required values) then read only the new rows, and the key check is the new rows' keys
    unique and none of them among the older rows: the same verdicts as checking the whole table, without
    re-reading the year on a one-day drop. The contract's SQL rules always run on the whole table (a rule may
    span rows). Every check streams: the table is never in memory whole. The key check sorts the keys' 64-bit
    hashes and groups only the rows whose hash repeats (`repeated_keys`: exact, the same verdict as grouping
    every key)."""
    # the contract's SQL rules run in DuckDB on the other core while polars checks the keys and values
    with ThreadPoolExecutor(1, thread_name_prefix="lingtan-gate") as pool:
        sql = pool.submit(contract_sql_checks, ds, current)
        failures = _table_checks(ds, current, files, since)
        return Gate.of(RAW_GATE, failures + sql.result())


def _table_checks(ds: Dataset, current: Path, files: pl.DataFrame, since: date | None) -> list[str]:
    """`audit_raw`'s checks but the contract's SQL rules: row accounting, schema, keys, required values."""
    failures = []
    bad = files.filter(pl.col("rows_read") != pl.col("rows_accepted") + pl.col("rows_quarantined"))
    for r in bad.iter_rows(named=True):
        failures.append(
            f"{r['file']}: rows read {r['rows_read']} != accepted {r['rows_accepted']} + quarantined "
            f"{r['rows_quarantined']}"
        )
    table = pl.scan_parquet(current)  # a file, or a folder of parts (transforms.paths.table_parts)
    schema = table.collect_schema()
    try:  # a schema-only check: polars' match_to_schema looks at names and types, not values
        pl.DataFrame(schema=schema).match_to_schema(ds.schema)
    except Exception as e:  # polars raises several types for a mismatch: each is a gate failure, not a crash
        failures.append(f"current table does not match the contract schema: {e}")
    if since is not None and "_drop_date" in schema:
        new, older = table.filter(pl.col("_drop_date") >= since), table.filter(pl.col("_drop_date") < since)
    else:
        new, older = table, None
    keys = [k for k in ds.keys if k in schema]
    if keys and len(keys) == len(ds.keys):
        new_keys = new.select(keys)
        dup = not repeated_keys(new_keys, keys).is_empty()
        if not dup and older is not None:
            dup = _older_repeat(older, new, new_keys, keys, ds.key_time)
        if dup:
            failures.append(f"business key {ds.keys} not unique in the current table")
    present = [c for c in ds.required if c in schema]
    counts = new.select([pl.col(c).null_count() for c in present] + [pl.len().alias("__rows")]).collect()
    for c in ds.required:
        n = counts[c].item() if c in present else counts["__rows"].item()
        if n:
            failures.append(f"required column {c} has {n} empty values")
    return failures


def _older_repeat(
    older: pl.LazyFrame, new: pl.LazyFrame, new_keys: pl.LazyFrame, keys: list[str], key_time: str | None
) -> bool:
    """Whether a new row's key is among the older rows'. With a time among the keys and none of the new rows
    without one, only the older rows from the new rows' earliest key time on can hold an equal key: the others
    are not read (a nightly's current holds the year, and its row groups of earlier months are skipped by their
    statistics; 71 M keys at scale 100)."""
    if key_time in keys:
        lo, nulls = (
            new.select(lo=pl.col(key_time).min(), nulls=pl.col(key_time).null_count()).collect().row(0)
        )
        if lo is not None and not nulls:
            older = older.filter(pl.col(key_time) >= lo)
    again = older.select(keys).join(new_keys, on=keys, how="semi", nulls_equal=True)
    return again.limit(1).collect().height > 0


def contract_sql_checks(ds: Dataset, parquet: Path) -> list[str]:
    """Run the contract's `quality: [{type: sql, query, mustBe…}]` rules with DuckDB on one Parquet file or a
    folder of parts (the query's `${object}` names the table); one failure line per rule whose value misses its
    bound."""
    doc = yaml.safe_load(ds.contract_path.read_text(encoding="utf-8"))
    rules = [q for q in (doc["schema"][0].get("quality") or []) if q.get("type") == "sql"]
    if not rules:
        return []
    out = []
    con = duckdb.connect()
    try:
        con.execute(f"create view {ds.name} as select * from read_parquet('{table_glob(parquet)}')")
        for rule in rules:
            query = rule["query"].replace("${object}", ds.name)
            value = con.execute(query).fetchone()[0]
            if not rule_holds(value, rule):
                out.append(
                    f"quality rule '{rule.get('name') or rule.get('description') or query}' gave {value}"
                )
    finally:
        con.close()
    return out


# ODCS comparison operators of a SQL quality rule: the rule's value `v` against its bound `t`.
_OPERATORS = {
    "mustBe": lambda v, t: v == t,
    "mustNotBe": lambda v, t: v != t,
    "mustBeLessThan": lambda v, t: v < t,
    "mustBeLessOrEqualTo": lambda v, t: v <= t,
    "mustBeGreaterThan": lambda v, t: v > t,
    "mustBeGreaterOrEqualTo": lambda v, t: v >= t,
    "mustBeBetween": lambda v, t: t[0] <= v <= t[1],
}


def rule_holds(value: Any, rule: dict[str, Any]) -> bool:
    """Every operator the rule states holds for `value` (a rule without one holds)."""
    return all(fn(value, rule[k]) for k, fn in _OPERATORS.items() if k in rule)
