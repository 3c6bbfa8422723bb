"""meter_hourly's summary for the zero-carbon indicators (transforms/zero_carbon/meter_years.py) and its carry by
part (orchestration/lib/meter_years.py): summaries of month parts, combined, give to the bit what the
indicators computed from every hour at once, and a night reads only the parts whose bytes are new."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from orchestration.lib.home import Home
from orchestration.lib.meter_years import CARRY, meter_years
from transforms.stable import fsum, fsum_levels, fsum_of_levels
from transforms.zero_carbon.meter_years import combine, counted_meters, metered_quantity, summarise, years_of


def _hours(seed: int = 3) -> pl.DataFrame:
    """Hours of five meters over 14 months, magnitudes from 1e-9 to 1e9, a unit that changes in the second month
    for one meter, a meter listed under two installations, unmeasured and uncounted hours."""
    rnd = random.Random(seed)
    rows = []
    start = datetime(2025, 11, 1)
    for h in range(0, 14 * 30 * 24, 7):
        t = start + timedelta(hours=h)
        for meter, inst in (("M1", "S1"), ("M2", "S1"), ("M3", "S2"), ("M4", "S2"), ("M4", "S3")):
            unit = "MWh" if meter == "M2" and t >= datetime(2025, 12, 1) else "kWh"
            rows.append(
                {
                    "meter_id": meter,
                    "installation_id": inst,
                    "hour_start": t,
                    "hour_start_utc": t - timedelta(hours=8),
                    "quantity": rnd.choice([1e-9, 1.0, 1e9]) * rnd.random(),
                    "unit": unit,
                    "counted": rnd.random() > 0.3 if meter != "M3" else None,
                    "intervals_measured": rnd.choice([0, 1, 4]),
                }
            )
    return pl.DataFrame(rows)


def _old(hours: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the indicators computed from the hours before the summary (flows.py and indicators.py)."""
    measured = hours.lazy().filter(pl.col("intervals_measured") > 0)
    year = pl.col("hour_start").dt.year().cast(pl.String)
    quantity = measured.group_by("meter_id", year=year).agg(
        quantity=pl.col("quantity").pipe(fsum), unit=pl.col("unit").first()
    )
    counted = (
        measured.filter(pl.col("counted").fill_null(False))
        .group_by("installation_id", year=year)
        .agg(_meters=pl.format("meter:{}", "meter_id").unique().sort())
    )
    return quantity.collect().sort("meter_id", "year"), counted.collect().sort("installation_id", "year")


def _new(years: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    return (
        metered_quantity(years).collect().sort("meter_id", "year"),
        counted_meters(years).collect().sort("installation_id", "year"),
    )


def _same(a: tuple[pl.DataFrame, ...], b: tuple[pl.DataFrame, ...]) -> bool:
    return all(x.equals(y) for x, y in zip(a, b, strict=True))


def _months(hours: pl.DataFrame) -> list[pl.DataFrame]:
    key = pl.col("hour_start_utc").dt.strftime("%Y%m")
    return [
        p.drop("_m") for p in hours.with_columns(_m=key).sort("_m").partition_by("_m", maintain_order=True)
    ]


def test_fsum_levels_of_parts_add_up_to_the_bit() -> None:
    rnd = random.Random(11)
    values = [rnd.choice([1e-12, 1e-3, 1.0, 1e6, 1e15]) * rnd.uniform(-1, 1) for _ in range(20_000)]
    df = pl.DataFrame({"x": values, "part": [i % 7 for i in range(len(values))]})
    names = [f"l{i}" for i in range(len(fsum_levels(pl.col("x"))))]
    parts = df.group_by("part").agg(
        *(e.alias(n) for e, n in zip(fsum_levels(pl.col("x")), names, strict=True))
    )
    combined = parts.select(fsum_of_levels([pl.col(n).sum() for n in names])).item()
    assert combined == df.select(pl.col("x").pipe(fsum)).item()


def test_parts_combined_give_what_every_hour_gave() -> None:
    hours = _hours()
    parts = pl.concat([summarise(p.lazy(), i).collect() for i, p in enumerate(_months(hours))])
    assert _same(_new(combine(parts.lazy())), _old(hours)) and _same(_new(years_of(hours)), _old(hours))
    quantity, counted = _new(combine(parts.lazy()))
    m2 = quantity.filter(meter_id="M2")
    assert m2["unit"].to_list() == ["kWh", "MWh"]  # 2025 begins in kWh; 2026's first hour is in MWh
    assert set(counted["installation_id"]) == {"S1", "S2", "S3"}


def test_only_new_parts_are_read(tmp_path: Path) -> None:
    home = Home(tmp_path)
    folder = home.computed_table("meter_hourly")
    folder.mkdir(parents=True)
    hours = _hours()
    months = _months(hours)
    for p in months:
        p.write_parquet(folder / f"part-{p['hour_start_utc'].dt.strftime('%Y%m')[0]}.parquet")
    pl.DataFrame(schema=hours.schema).write_parquet(folder / "part-000000.parquet")  # no hour: empty
    want = _old(hours)

    years, read = meter_years(home)
    assert read == len(months) + 1 and _same(_new(years.lazy()), want)
    years, read = meter_years(home)
    assert read == 0 and _same(_new(years.lazy()), want)

    # a night rewrites the last month with more hours: only that part is read again
    last = months[-1]
    extra = last.with_columns(pl.col("hour_start") + timedelta(minutes=30), quantity=pl.col("quantity") * 3)
    pl.concat([last, extra]).write_parquet(
        folder / f"part-{last['hour_start_utc'].dt.strftime('%Y%m')[0]}.parquet"
    )
    years, read = meter_years(home)
    assert read == 1 and _same(_new(years.lazy()), _old(pl.concat([hours, extra])))

    # an unreadable carry: every part is read, the same result
    home.computed.joinpath(*CARRY).write_bytes(b"not parquet")
    again, read = meter_years(home)
    assert read == len(months) + 1 and again.equals(years)


def test_no_table_no_summary(tmp_path: Path) -> None:
    assert meter_years(Home(tmp_path)) == (None, 0)
