"""Report tests read the published marts of the shared demo home (tests/conftest.py: `demo_home`)."""

from __future__ import annotations

import pytest

from orchestration.lib.home import Home
from orchestration.lib.reports import read_marts


@pytest.fixture(scope="session")
def demo_marts(demo_home: Home):
    """Every mart of the demo warehouse, as polars frames."""
    import duckdb

    con = duckdb.connect(str(demo_home.warehouse), read_only=True)
    names = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    ]
    con.close()
    return read_marts(demo_home.warehouse, names)
