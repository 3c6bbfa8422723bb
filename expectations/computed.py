"""The computed gate, on the staged Parquet files (nothing has been published yet when this runs).

Two verdicts (docs/reliability.md, "Isolation"):
- blocking, what no installation can be blamed for: a table missing, a column its rules read missing (schema
  broken), a Great Expectations suite failing (tables without row rules), and the lines of the engine's own
  `reconcile` (keys repeated, home-wide identities). A blocking failure publishes nothing.
- row findings (`expectations/isolation.py`), each attributed to an installation and year: the tables are
  published, the findings are a warning, and the report gate blocks only the documents that depend on those rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from expectations import isolation
from expectations.gate import Gate

COMPUTED_GATE = "computed_gate"
WARNING_PREFIX = "computed gate"  # how a row finding's line starts


@dataclass(frozen=True)
class Audit:
    gate: Gate  # blocking
    found: pl.DataFrame  # row findings per installation × year (isolation.FINDINGS_SCHEMA)

    @property
    def warnings(self) -> list[str]:
        return isolation.lines(self.found, WARNING_PREFIX)

    def of_table(self, table: str) -> list[str]:
        """The finding lines of one table."""
        return isolation.lines(self.found.filter(pl.col("table") == table), WARNING_PREFIX)


def audit(staged: Mapping[str, Path], reconcile: Callable[[dict[str, pl.DataFrame]], list[str]]) -> Audit:
    """The blocking verdict and the row findings over the staged tables."""
    from expectations.runner import validate  # GX takes seconds to import: only when a gate runs
    from expectations.suites.computed import SUITES

    tables = {n: pl.read_parquet(p) for n, p in staged.items()}
    failures = isolation.structural(tables)
    for name, df in tables.items():
        if name in SUITES and name not in isolation.RULES and df.height:
            res = validate(df, SUITES[name]())
            if not res.passed:
                failures.append(res.summary())
    failures += reconcile(tables)
    found = isolation.findings(tables)
    return Audit(Gate.of(COMPUTED_GATE, failures), found)


def audit_computed(
    staged: Mapping[str, Path], reconcile: Callable[[dict[str, pl.DataFrame]], list[str]]
) -> Gate:
    """Every failure blocking, row findings included (one verdict)."""
    a = audit(staged, reconcile)
    return Gate.of(COMPUTED_GATE, [*a.gate.failures, *a.warnings])
