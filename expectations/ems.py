"""Gate rules of the interval engine's tables (transforms/ems), on the staged frames before they are published.

`reconcile_ems` is blocking: every hourly row keeps intervals_expected = measured + estimated + missing (a gap is
counted, never filled) and a NULL quantity exactly when nothing was measured or estimated; no negative quantity
(a cumulative register never yields one); one row per grain; shares and completeness within 0..1.
`bills_disagreement` feeds the WARN check `bills_match_meters`: months where the bill and the grid-import meters it
names differ by more than the tolerance although metering was complete. Bills and meters legitimately differ where
the supplier's meter is not the EMS point, the billing period is not the calendar month (pro-rata split), or for
losses between the two meters; a person decides.
"""

from __future__ import annotations

import polars as pl

BILLS_TOLERANCE = 0.02  # relative: a utility meter and an EMS point typically agree within 1–2 %


def _dupes(df: pl.DataFrame, keys: list[str], name: str) -> list[str]:
    n = df.height - df.select(keys).unique().height
    return [f"{name}: {n} rows repeat the key ({', '.join(keys)})"] if n else []


def interval_count_problems(hourly: pl.DataFrame) -> list[str]:
    """Hourly rows whose counts do not add up, or whose quantity is null/non-null against its counts."""
    used = pl.col("intervals_measured") + pl.col("intervals_estimated")
    bad = hourly.filter(
        (pl.col("intervals_expected") != used + pl.col("intervals_missing"))
        | (pl.col("intervals_missing") < 0)
        | (pl.col("quantity").is_null() != (used == 0))
    )
    if not bad.height:
        return []
    eg = bad.head(3).select(pl.format("{} at {}", "meter_id", "hour_start")).to_series().to_list()
    return [
        f"meter_hourly: {bad.height} rows where expected ≠ measured + estimated + missing, e.g. {'; '.join(eg)}"
    ]


def reconcile_ems(tables: dict[str, pl.DataFrame]) -> list[str]:
    hourly, balance = tables["meter_hourly"], tables["energy_balance"]
    out = _dupes(hourly, ["meter_id", "hour_start_utc"], "meter_hourly")
    out += _dupes(balance, ["installation_id", "period_grain", "period"], "energy_balance")
    out += interval_count_problems(hourly)
    neg = hourly.filter(pl.col("quantity") < 0).height
    if neg:
        out.append(f"meter_hourly: {neg} negative hourly quantities")
    for col in ("renewable_share_hourly", "metering_completeness"):
        n = balance.filter((pl.col(col) < 0) | (pl.col(col) > 1 + 1e-9)).height
        if n:
            out.append(f"energy_balance: {n} rows with {col} outside 0..1")
    n = balance.filter(pl.col("hours_with_data") > pl.col("hours_total")).height
    if n:
        out.append(f"energy_balance: {n} rows with more hours with data than hours")
    return out


def bills_disagreement(balance: pl.DataFrame, tolerance: float = BILLS_TOLERANCE) -> list[str]:
    """Month rows with complete metering where |billed − metered| > tolerance × billed, in words."""
    bad = balance.filter(
        (pl.col("period_grain") == "month")
        & (pl.col("metering_completeness") >= 1.0)
        & pl.col("electricity_billed_mwh").is_not_null()
        & pl.col("grid_import_metered_mwh").is_not_null()
        & (pl.col("billed_minus_metered_mwh").abs() > tolerance * pl.col("electricity_billed_mwh").abs())
    ).sort("installation_id", "period")
    return [
        f"{r['installation_id']} {r['period']}: billed {r['electricity_billed_mwh']:.3f} MWh, metered "
        f"{r['grid_import_metered_mwh']:.3f} MWh ({r['metered_basis']}), difference "
        f"{r['billed_minus_metered_mwh']:+.3f} MWh"
        for r in bad.iter_rows(named=True)
    ]
