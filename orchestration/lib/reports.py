"""The report stage's I/O: read the published marts for the pure builders in transforms/reports."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl


def read_marts(warehouse: Path, names: Iterable[str]) -> dict[str, pl.DataFrame]:
    """The named marts of the published warehouse (schema `marts`) as polars frames, read-only."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        have = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        out: dict[str, pl.DataFrame] = {}
        for name in dict.fromkeys(names):
            if name not in have:
                raise KeyError(f"mart {name!r} is not in {warehouse}")
            out[name] = con.execute(f'select * from marts."{name}"').pl()
        return out
    finally:
        con.close()
