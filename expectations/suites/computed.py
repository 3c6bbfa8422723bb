"""The computed gate's Great Expectations suites (tables without row rules: the logistics legs) and the footprint
engines' home-wide reconciliations (Scope 1 with CBAM direct emissions, allocations with legs). The row rules and
the CBAM reconciliations, attributed to an installation and year, are in expectations/isolation.py.

Suites are built in code (a File Data Context would churn UUIDs); `expectations/runner.py` runs them.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

REL_TOL = 1e-9


def _gx():
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


SUITES: dict[str, Callable[[], object]] = {
    "shipment_emissions": lambda: _legs_suite(),
    # the CBAM tables, product_footprint and site_inventory: row rules per installation and year in
    # expectations/isolation.py (a failing row blocks only the documents that depend on it)
}


def _legs_suite():
    gx, gxe = _gx()
    return gx.ExpectationSuite(
        name="shipment_emissions",
        expectations=[
            *[
                gxe.ExpectColumnValuesToNotBeNull(column=c)
                for c in ("shipment_id", "leg_no", "mode", "tonne_km", "wtw_tco2e")
            ],
            *[
                gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
                for c in ("tonne_km", "wtw_tco2e", "ttw_tco2e")
            ],
            gxe.ExpectColumnValuesToBeInSet(
                column="mode", value_set=["road", "rail", "sea", "inland_waterway", "air"]
            ),
        ],
    )


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL_TOL * max(1.0, abs(a), abs(b))


def reconcile_footprint(t: dict[str, pl.DataFrame], cbam: dict[str, pl.DataFrame]) -> list[str]:
    """Scope 1 = CBAM direct (same streams); allocated leg emissions = leg emissions."""
    out = []
    sites = t["site_inventory"].filter(pl.col("period_grain") == "year")
    se = cbam["stream_emissions"].filter(pl.col("period_grain") == "year")
    if not _close(float(sites["scope1_tco2e"].sum()), float(se["fossil_tco2e"].sum())):
        out.append(
            f"Σ scope1 {sites['scope1_tco2e'].sum()} != Σ CBAM stream fossil {se['fossil_tco2e'].sum()}"
        )
    legs, alloc = t["shipment_emissions"], t["shipment_allocations"]
    if not _close(float(alloc["wtw_tco2e"].sum()), float(legs["wtw_tco2e"].sum())):
        out.append(f"Σ allocated WTW {alloc['wtw_tco2e'].sum()} != Σ leg WTW {legs['wtw_tco2e'].sum()}")
    return out
