"""Around the pure engines: read the raw lake, write computed tables write-audit-publish.

Computed tables are staged in `lake/staging/computed/<run>/`, checked (the computed gate,
`expectations/computed.py`: Great Expectations suites, the row rules of `expectations/isolation.py` and the
engines' own reconciliations), and only then renamed into `lake/computed/` (`orchestration/lib/publish.py`).
Row findings attributed to an installation and year do not stop publication (`publish_audited`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from expectations.computed import Audit, audit
from expectations.gate import Gate
from orchestration.lib.home import Home
from orchestration.lib.publish import publish, staging
from orchestration.lib.storage import atomic_write_parquet
from transforms.contracts import datasets
from transforms.paths import table_parts


def load_raw(home: Home) -> dict[str, pl.LazyFrame]:
    """Every landing dataset's current table (an empty frame of the contract's schema when absent)."""
    out = {}
    for name, ds in datasets().items():
        p = home.raw_table(name)
        out[name] = pl.scan_parquet(p) if table_parts(p) else pl.LazyFrame(schema=ds.schema)
    return out


def load_computed(home: Home, names: list[str]) -> dict[str, pl.LazyFrame]:
    return {n: pl.scan_parquet(home.computed_table(n)) for n in names if home.computed_table(n).exists()}


def publish_computed(
    home: Home, tables: dict[str, pl.DataFrame], audit: Callable[[dict[str, Path]], Gate]
) -> Gate:
    """Stage every table, audit the staged set, then rename each into lake/computed (nothing moves on
    failure)."""
    with staging(home.staging / "computed") as stage:
        staged = {}
        for name, df in tables.items():
            staged[name] = stage / f"{name}.parquet"
            atomic_write_parquet(df, staged[name])
        return publish(audit(staged), [(p, home.computed_table(name)) for name, p in staged.items()])


def publish_audited(
    home: Home, tables: dict[str, pl.DataFrame], reconcile: Callable[[dict[str, pl.DataFrame]], list[str]]
) -> Audit:
    """Stage, audit and publish: only the blocking verdict (what no installation can be blamed for) holds the
    tables back; row findings are published with them, for the report gate to block what depends on them."""
    audits: list[Audit] = []

    def _audit(staged: dict[str, Path]) -> Gate:
        audits.append(audit(staged, reconcile))
        return audits[0].gate

    publish_computed(home, tables, _audit)
    return audits[0]
