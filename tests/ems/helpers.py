"""Small builders for the interval-engine tests: meters and readings as the raw lake holds them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from transforms.ems import compute_ems
from transforms.ems.meters import METERS_SCHEMA, READINGS_SCHEMA

T0 = datetime(2025, 3, 3)  # a Monday


def meters(*rows: dict[str, Any]) -> pl.LazyFrame:
    base = {"carrier": "electricity", "installation_id": "I1", "unit": "kWh", "interval_minutes": 15}
    return pl.DataFrame([{**base, **r} for r in rows], schema_overrides=METERS_SCHEMA).lazy()


def readings(rows: list[tuple], file: str = "meter_readings/2025-03-10/r.csv", **extra: list) -> pl.LazyFrame:
    """rows: (meter_id, interval_start, value[, quality]) in file order; row numbers from 1."""
    ids = [r[0] for r in rows]
    df = pl.DataFrame(
        {
            "meter_id": ids,
            "interval_start": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "quality": [r[3] if len(r) > 3 else None for r in rows],
            **extra,
        },
        schema_overrides={
            k: v for k, v in READINGS_SCHEMA.items() if k in ("interval_start", "value", "quality")
        },
        strict=False,
    ).with_row_index("_row_number", offset=1)
    return df.lazy().with_columns(
        pl.col("_row_number").cast(pl.Int64),
        _file=pl.lit(file),
        _drop_date=pl.lit(datetime(2025, 3, 10).date()),
        _source_row_id=pl.format("{}#{}", pl.lit(file), pl.col("_row_number")),
    )


def series(meter: str, start: datetime, step_min: int, values: list[float | None]) -> list[tuple]:
    """One reading per value (None: no reading, a gap) every `step_min` minutes from `start`."""
    return [
        (meter, start + timedelta(minutes=step_min * i), v) for i, v in enumerate(values) if v is not None
    ]


def run(
    m: pl.LazyFrame, r: pl.LazyFrame, bills: pl.LazyFrame | None = None, **kw: Any
) -> dict[str, pl.DataFrame]:
    raw = {"meters": m, "meter_readings": r}
    if bills is not None:
        raw["energy_bills"] = bills
    out = compute_ems(raw, **kw)
    return dict(zip(out, pl.collect_all(list(out.values())), strict=True))


__all__ = ["METERS_SCHEMA", "T0", "meters", "readings", "run", "series"]
