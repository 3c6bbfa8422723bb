"""The three engines on the demo landing zone, fed by the real CBAM engine: every leg resolves, and the inventory
totals equal the CBAM and logistics totals they are built from (computed independently here)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from transforms.cbam.engine import compute_cbam
from transforms.contracts import datasets
from transforms.ghg.compute import compute_ghg
from transforms.inventory import compute_park_progress

REL = 1e-9
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_raw(demo_home) -> dict[str, pl.LazyFrame]:
    """The raw lake of the session's shared demo home (`lingtan demo --scale 0.1` ingested by `lingtan run`)."""
    return {n: pl.read_parquet(demo_home.raw_table(n)).lazy() for n in datasets()
            if demo_home.raw_table(n).exists()}  # fmt: skip


@pytest.fixture(scope="module")
def results(demo_raw, factors):
    cbam = compute_cbam(demo_raw)
    ghg = compute_ghg(demo_raw, factors, cbam["stream_emissions"], cbam["process_see"], cbam["precursor_inputs"],
                      inventory_as_of=date(2026, 12, 31))  # fmt: skip
    return (
        cbam,
        ghg["shipment_emissions"],
        ghg["shipment_allocations"],
        ghg["product_footprint"],
        ghg["site_inventory"],
    )


def test_every_demo_leg_has_emissions(results):
    _, legs, alloc, _, _ = results
    assert legs.height > 0 and legs["wtw_tco2e"].null_count() == 0
    assert set(legs["distance_source"]) <= {"given", "sea_table", "gcd_x1.2", "gcd_plus_95km"}
    assert alloc["installation_id"].null_count() == 0
    assert alloc["wtw_tco2e"].sum() == pytest.approx(legs["wtw_tco2e"].sum(), rel=REL)


def test_inventory_reconciles_with_its_sources(results, demo_raw):
    cbam, legs, _, _, sites = results
    years = sites.filter(pl.col("period_grain") == "year")
    se = cbam["stream_emissions"].filter(pl.col("period_grain") == "year")
    assert years["scope1_tco2e"].sum() == pytest.approx(se["fossil_tco2e"].sum(), rel=REL)
    assert (years["scope3_cat4_tco2e"].sum() + years["scope3_cat9_tco2e"].sum()) == pytest.approx(
        legs["wtw_tco2e"].sum(), rel=REL
    )
    purchased = cbam["precursor_inputs"].filter(
        (pl.col("source") == "purchased") & (pl.col("period_grain") == "year")
    )
    assert years["scope3_cat1_precursors_tco2e"].sum() == pytest.approx(
        (purchased["mass_t"] * (purchased["see_direct"].fill_null(0) + purchased["see_indirect"].fill_null(0))).sum(),
        rel=REL)  # fmt: skip
    months = sites.filter(pl.col("period_grain") == "month")
    for col in ("scope2_location_tco2e", "scope2_market_tco2e", "renewable_electricity_mwh"):
        assert years[col].sum() == pytest.approx(months[col].sum(), rel=REL), col

    # Credits retired for a whole year offset the year row only (no month holds them), so net reconciles
    # before offsets, and a year's offsets are at least its months' (docs/methodology/zero-carbon.md §3).
    def before_offsets(f: pl.DataFrame) -> float:
        return (f["net_tco2e"] + f["offsets_tco2e"].fill_null(0)).sum()

    assert before_offsets(years) == pytest.approx(before_offsets(months), rel=REL)
    assert years["offsets_tco2e"].fill_null(0).sum() >= months["offsets_tco2e"].fill_null(0).sum() - 1e-9
    assert (years["net_tco2e"] <= years["gross_tco2e"]).all()
    assert years["grid_factor_tco2_per_mwh"].null_count() == 0
    parks = compute_park_progress(sites, demo_raw)
    assert parks.filter(pl.col("period_grain") == "year")["gross_tco2e"].sum() == pytest.approx(
        years["gross_tco2e"].sum(), rel=REL
    )


def test_footprints_cover_every_cbam_good(results):
    cbam, _, _, pcf, _ = results
    goods = (
        cbam["goods_see"].filter(pl.col("see_status") == "ok").select("product_id", "period", "period_grain")
    )
    got = pcf.filter(pl.col("cradle_to_gate_tco2e_per_t").is_not_null()).select(
        "product_id", "period", "period_grain"
    )
    assert goods.join(got, on=["product_id", "period", "period_grain"], how="anti").is_empty()
    # the PCF's own direct part is the CBAM own SEE (plus in-house upstream processes): never below it
    own = cbam["process_see"].select(
        "installation_id", "process_id", "period", "period_grain", "own_see_direct"
    )
    joined = pcf.join(own, on=["installation_id", "process_id", "period", "period_grain"])
    assert (joined["own_direct_tco2e_per_t"] >= joined["own_see_direct"] - 1e-12).all()
    assert pcf["primary_data_share"].drop_nulls().is_between(0, 1).all()
    assert pcf["data_quality_score"].drop_nulls().is_between(1, 5).all()
