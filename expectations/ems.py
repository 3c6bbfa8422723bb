"""Gate rules of the interval engine's tables (transforms/ems), on the staged frames before they are published.

`reconcile_ems` is blocking: one row per grain. The row rules, each attributed to its installation and year
(expectations/isolation.py: a failing row blocks only the documents that depend on it): every hourly row keeps
intervals_expected = measured + estimated + missing (a gap is counted, never filled) and a NULL quantity exactly
when nothing was measured or estimated; no negative quantity (a cumulative register never yields one); shares and
completeness within 0..1.
`bills_disagreement` feeds the WARN check `bills_match_meters`: months where the bill and the grid-import meters it
names differ by more than the tolerance although metering was complete. Bills and meters legitimately differ where
the supplier's meter is not the EMS point, the billing period is not the calendar month (pro-rata split), or for
losses between the two meters; a person decides.
"""

from __future__ import annotations

import polars as pl

from expectations import isolation

BILLS_TOLERANCE = 0.02  # relative: a utility meter and an EMS point typically agree within 1–2 %


def _dupes(df: pl.DataFrame, keys: list[str], name: str) -> list[str]:
    n = df.height - df.select(keys).unique().height
    return [f"{name}: {n} rows repeat the key ({', '.join(keys)})"] if n else []


def interval_count_problems(hourly: pl.DataFrame) -> list[str]:
    """Hourly rows whose counts do not add up, or whose quantity is null/non-null against its counts, one line
    per installation and year (the row rules of `meter_hourly` in expectations/isolation.py)."""
    found = isolation.findings({"meter_hourly": hourly})
    counts = pl.col("rule").str.starts_with("intervals_expected ") | pl.col("rule").str.starts_with(
        "quantity is null"
    )
    return isolation.lines(found.filter(counts), "interval counts")


def reconcile_ems(tables: dict[str, pl.DataFrame]) -> list[str]:
    """What blocks the interval engine's tables: a grain repeated (every join downstream would double it). The
    row rules (counts, quantities, shares, hours) are attributed per installation in expectations/isolation.py."""
    hourly, balance = tables["meter_hourly"], tables["energy_balance"]
    out = _dupes(hourly, ["meter_id", "hour_start_utc"], "meter_hourly")
    out += _dupes(balance, ["installation_id", "period_grain", "period"], "energy_balance")
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
