"""The raw gate: what must hold of a dataset's staged lake table before it is published (row accounting per
file, the contract's schema, unique business keys, required values) and the contract's ODCS SQL quality rules
(`quality: [{type: sql, query, mustBe…}]`), run with DuckDB on the staged Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from expectations.gate import Gate
from transforms.contracts import Dataset

RAW_GATE = "raw_gate"


def audit_raw(ds: Dataset, current: Path, files: pl.DataFrame) -> Gate:
    """`current`: the staged current table; `files`: the file records (ingest FILES_SCHEMA) of this run."""
    failures = []
    bad = files.filter(pl.col("rows_read") != pl.col("rows_accepted") + pl.col("rows_quarantined"))
    for r in bad.iter_rows(named=True):
        failures.append(
            f"{r['file']}: rows read {r['rows_read']} != accepted {r['rows_accepted']} + quarantined "
            f"{r['rows_quarantined']}"
        )
    table = pl.read_parquet(current)
    try:
        table.match_to_schema(ds.schema)
    except Exception as e:  # polars raises several types for a mismatch: each is a gate failure, not a crash
        failures.append(f"current table does not match the contract schema: {e}")
    if ds.keys and table.height and table.select(ds.keys).is_duplicated().any():
        failures.append(f"business key {ds.keys} not unique in the current table")
    for c in ds.required:
        n = table[c].null_count() if c in table.columns else table.height
        if n:
            failures.append(f"required column {c} has {n} empty values")
    failures += contract_sql_checks(ds, current)
    return Gate.of(RAW_GATE, failures)


def contract_sql_checks(ds: Dataset, parquet: Path) -> list[str]:
    """Run the contract's `quality: [{type: sql, query, mustBe…}]` rules with DuckDB on one Parquet file
    (the query's `${object}` names the table); one failure line per rule whose value misses its bound."""
    doc = yaml.safe_load(ds.contract_path.read_text(encoding="utf-8"))
    rules = [q for q in (doc["schema"][0].get("quality") or []) if q.get("type") == "sql"]
    if not rules:
        return []
    out = []
    con = duckdb.connect()
    try:
        con.execute(f"create view {ds.name} as select * from read_parquet('{parquet.as_posix()}')")
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
