"""Quick scale check of the logistics engine (not a test): `python -m tests.footprint.check_scale [legs]`.

Builds N shipment legs (default 2 000 000) in memory across modes, place names, fuel data and missing distances,
runs the lazy plan once and prints the time, peak RSS and a few sums. Nothing is asserted on time.
"""

from __future__ import annotations

import sys
import time
from datetime import date

import numpy as np
import polars as pl
import psutil

from transforms.footprint import load_factors
from transforms.logistics import compute_logistics

PLACES = ["Ningbo", "CNSHA", "深圳", "Nansha", "Foshan", "Yiwu", "Xi'an", "Hangzhou", "Rotterdam", "DEHAM",
          "Duisburg", "Piraeus", "Antwerp", "Genoa", "Gdansk", "Malaszewicze", "Tokyo", "Haiphong", "Istanbul",
          "Busan", "Atlantis"]  # fmt: skip
MODES = ["road", "rail", "sea", "inland_waterway", "air"]


def shipments(n: int, seed: int = 7) -> pl.LazyFrame:
    rng = np.random.default_rng(seed)
    fuel = rng.random(n) < 0.05
    days = pl.date_range(date(2024, 1, 1), date(2024, 12, 31), eager=True)
    return pl.LazyFrame({
        "row": np.arange(n), "mode_i": rng.integers(0, len(MODES), n), "o": rng.integers(0, len(PLACES), n),
        "d": rng.integers(0, len(PLACES), n), "day": rng.integers(0, days.len(), n), "fuel": fuel,
        "given": rng.random(n) < 0.3, "dist": rng.uniform(10, 20_000, n), "mass_t": rng.uniform(0.1, 40, n),
        "is_product": rng.random(n) < 0.5, "fuel_qty": rng.uniform(10, 500, n), "inbound": rng.random(n) < 0.5,
    }).select(
        shipment_id=pl.lit("S") + (pl.col("row") // 2).cast(pl.String), leg_no=pl.col("row") % 2 + 1,
        ship_date=pl.lit(days).gather(pl.col("day")),
        direction=pl.when("inbound").then(pl.lit("inbound")).otherwise(pl.lit("outbound")),
        mode=pl.lit(pl.Series(MODES)).gather(pl.col("mode_i")),
        origin=pl.lit(pl.Series(PLACES)).gather(pl.col("o")),
        destination=pl.lit(pl.Series(PLACES)).gather(pl.col("d")),
        distance_km=pl.when("given").then("dist"), mass_t="mass_t",
        product_id=pl.when("is_product").then(pl.lit("P1")), material_id=pl.when(~pl.col("is_product")).then(pl.lit("M1")),
        fuel_type=pl.when("fuel").then(pl.lit("diesel")), fuel_quantity=pl.when("fuel").then("fuel_qty"),
        fuel_unit=pl.when("fuel").then(pl.lit("L")),
    )  # fmt: skip


def main(n: int) -> None:
    factors = load_factors()
    raw = {"shipments": shipments(n)}
    t0 = time.perf_counter()
    legs, alloc = compute_logistics(raw, factors)
    dt = time.perf_counter() - t0
    rss = psutil.Process().memory_info().rss / 2**20
    print(
        f"{n:,} legs → {legs.height:,} legs, {alloc.height:,} allocations in {dt:.1f} s, RSS {rss:,.0f} MiB"
    )
    print(legs.group_by("distance_source").agg(pl.len(), pl.col("wtw_tco2e").sum()).sort("distance_source"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000)
