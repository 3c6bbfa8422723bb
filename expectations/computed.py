"""The computed gate: Great Expectations suites per table plus the engines' reconciliations, on the staged
Parquet files (nothing has been published yet when this runs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from expectations.gate import Gate

COMPUTED_GATE = "computed_gate"


def audit_computed(
    staged: Mapping[str, Path], reconcile: Callable[[dict[str, pl.DataFrame]], list[str]]
) -> Gate:
    """Each staged table's suite (when it has one and rows) and `reconcile`'s lines over all of them."""
    from expectations.runner import validate  # GX takes seconds to import: only when a gate runs
    from expectations.suites.computed import SUITES

    tables = {n: pl.read_parquet(p) for n, p in staged.items()}
    failures = []
    for name, df in tables.items():
        if name in SUITES and df.height:
            res = validate(df, SUITES[name]())
            if not res.passed:
                failures.append(res.summary())
    failures += reconcile(tables)
    return Gate.of(COMPUTED_GATE, failures)
