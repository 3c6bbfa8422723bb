"""The computed gate: business expectations on the engines' tables (ranges, completeness) and reconciliations
(process sums with installation totals, Scope 1 with CBAM direct emissions, allocations with legs).

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


def _suite(
    name: str,
    not_null: list[str],
    non_negative: list[str] = (),
    shares: list[str] = (),
    cn_codes: list[str] = (),
):
    gx, gxe = _gx()
    exps = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in not_null]
    exps += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in non_negative]
    exps += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in shares]
    exps += [gxe.ExpectColumnValuesToMatchRegex(column=c, regex=r"^\d{8}$") for c in cn_codes]
    exps += [gxe.ExpectColumnValuesToBeInSet(column="period_grain", value_set=["year", "month"])]
    return gx.ExpectationSuite(name=name, expectations=exps)


SUITES: dict[str, Callable[[], object]] = {
    "installation_emissions": lambda: _suite(
        "installation_emissions",
        ["installation_id", "period", "direct_tco2e", "indirect_tco2e"],
        ["direct_tco2e", "indirect_tco2e", "biomass_tco2e", "electricity_mwh"],
    ),
    "process_see": lambda: _suite(
        "process_see",
        ["installation_id", "process_id", "period", "activity_level_t"],
        [
            "activity_level_t",
            "see_direct",
            "see_indirect",
            "attributed_direct_tco2e",
            "attributed_indirect_tco2e",
        ],
        ["default_value_share"],
    ),
    "goods_see": lambda: _suite(
        "goods_see",
        ["installation_id", "product_id", "period", "cn_code"],
        ["see_direct", "see_indirect", "see_total", "see_chargeable"],
        ["default_value_share"],
        ["cn_code"],
    ),
    "export_lines": lambda: _suite(
        "export_lines",
        ["export_id", "line_no", "cn_code", "net_mass_t", "embedded_direct_tco2e", "determination"],
        ["net_mass_t", "embedded_direct_tco2e", "embedded_indirect_tco2e", "embedded_chargeable_tco2e"],
        ["default_value_share"],
        ["cn_code"],
    ),
    "shipment_emissions": lambda: _legs_suite(),
    # product_footprint and site_inventory: row rules per installation in expectations/isolation.py
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


def reconcile_cbam(t: dict[str, pl.DataFrame]) -> list[str]:
    """Installation direct = Σ stream fossil emissions; Σ process DirEm* + unattributed streams + 'Rest' =
    installation direct; export line embedded = net mass × SEE."""
    out = []
    se = t["stream_emissions"].filter(pl.col("period_grain") == "year")
    ie = t["installation_emissions"].filter(pl.col("period_grain") == "year")
    by_inst = se.group_by("installation_id", "period").agg(pl.col("fossil_tco2e").sum().alias("s"))
    joined = ie.join(by_inst, on=["installation_id", "period"], how="left")
    for r in joined.iter_rows(named=True):
        if not _close(r["direct_tco2e"] or 0.0, r["s"] or 0.0):
            out.append(
                f"installation {r['installation_id']} {r['period']}: direct {r['direct_tco2e']} != "
                f"Σ streams {r['s']}"
            )
    for r in ie.iter_rows(named=True):
        parts = (r["sum_dirEm_tco2e"] or 0.0) + (r["reconciliation_diff_tco2e"] or 0.0)
        if not _close(parts, r["direct_tco2e"] or 0.0):
            out.append(
                f"installation {r['installation_id']} {r['period']}: processes + rest {parts} != direct "
                f"{r['direct_tco2e']}"
            )
    ex = t["export_lines"]
    if ex.height:
        bad = ex.filter(
            (pl.col("embedded_direct_tco2e") - pl.col("net_mass_t") * pl.col("see_direct")).abs()
            > REL_TOL * pl.max_horizontal(pl.lit(1.0), pl.col("embedded_direct_tco2e").abs())
        )
        if bad.height:
            out.append(f"{bad.height} export lines: embedded direct != net mass × SEE direct")
    return out


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
