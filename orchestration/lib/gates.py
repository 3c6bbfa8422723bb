"""The computed gate: Great Expectations suites per table plus the engines' reconciliations, on the staged
Parquet files (nothing has been published yet when this runs)."""

from collections.abc import Callable
from pathlib import Path

import polars as pl

from orchestration.lib.compute import ComputedGate


def audit_computed(
    staged: dict[str, Path], reconcile: Callable[[dict[str, pl.DataFrame]], list[str]]
) -> ComputedGate:
    from expectations.runner import validate
    from expectations.suites.computed import SUITES

    tables = {n: pl.read_parquet(p) for n, p in staged.items()}
    details = []
    for name, df in tables.items():
        if name in SUITES and df.height:
            res = validate(df, SUITES[name]())
            if not res.success:
                details.append(res.summary())
    details += reconcile(tables)
    return ComputedGate(not details, details)
