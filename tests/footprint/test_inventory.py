"""Site inventory: Scope 2 both methods with GECs and a PPA, certificates capped per bill, vintage rule, renewable
share, zero-carbon net, parks, and totals of the synthetic multi-plant dataset against independent sums."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest

from tests.footprint import synthetic
from tests.footprint.synthetic import lf
from transforms.ghg.electricity import energy_bill_months, grid_regions, pick_grid_factor
from transforms.ghg.materials import purchased_material_lines
from transforms.inventory import compute_park_progress, compute_site_inventory, scope2_lines
from transforms.reference.seeds import REFERENCE_DIR

REL = 1e-9


def grid_factor(series: str, region: str, year: int) -> float:
    """Independent read of the committed factor table."""
    with (REFERENCE_DIR / "ghg_china_grid_factors.csv").open(encoding="utf-8") as f:
        return next(
            float(r["value"])
            for r in csv.DictReader(f)
            if r["series"] == series and r["region"] == region and int(r["data_year"]) == year
        )


ZJ, EAST, GD = (grid_factor("co2_average", r, 2023) for r in ("Zhejiang", "East China", "Guangdong"))
RESIDUAL = grid_factor("co2_excl_market_nonfossil", "China", 2023)


@pytest.fixture(scope="module")
def sites(raw, factors, logistics) -> pl.DataFrame:
    return compute_site_inventory(
        raw,
        factors,
        synthetic.stream_emissions(),
        synthetic.precursor_inputs(),
        logistics[1],
        as_of=date(2026, 1, 15),
    )


def site(sites: pl.DataFrame, inst: str, period: str = "2024-03") -> dict:
    return sites.filter((pl.col("installation_id") == inst) & (pl.col("period") == period)).row(0, named=True)


def test_published_values_are_the_domain_doc_values():
    assert (ZJ, EAST, GD, RESIDUAL) == (0.4974, 0.5500, 0.4419, 0.6096)


def test_scope2_grid_with_gec_and_onsite_pv(sites):
    r = site(sites, "NB1")  # 1 000 MWh grid (300 MWh GEC) + 100 MWh on-site PV, Zhejiang 2023 factor
    assert r["grid_factor_tco2_per_mwh"] == ZJ and r["grid_factor_level"] == "provincial"
    assert r["grid_factor_data_year"] == 2023 and "2023" in r["grid_factor_rule"]
    assert r["scope2_location_tco2e"] == pytest.approx(1000 * ZJ, rel=REL)
    assert r["scope2_market_tco2e"] == pytest.approx(700 * RESIDUAL, rel=REL)
    assert r["electricity_mwh"] == pytest.approx(1100, rel=REL)
    assert r["purchased_electricity_mwh"] == pytest.approx(1000, rel=REL)
    assert r["renewable_electricity_share"] == pytest.approx((300 + 100) / 1100, rel=REL)
    assert r["scope1_tco2e"] == pytest.approx(1000, rel=REL)
    assert r["gross_tco2e"] == pytest.approx(1000 + 1000 * ZJ, rel=REL)
    assert r["gec_instrument_tco2e"] == pytest.approx(300 * ZJ, rel=REL)
    assert r["net_tco2e"] == pytest.approx(1000 + 700 * ZJ, rel=REL)


def test_gec_above_consumption_is_capped_and_not_moved_to_another_site(sites):
    nb2 = site(sites, "NB2")  # 200 MWh, 500 MWh of GECs on the bill
    assert nb2["gec_mwh"] == 500 and nb2["gec_covered_mwh"] == 200 and nb2["gec_unused_mwh"] == 300
    assert nb2["scope2_market_tco2e"] == 0.0
    assert nb2["scope2_location_tco2e"] == pytest.approx(200 * EAST, rel=REL)
    assert nb2["renewable_electricity_share"] == pytest.approx(1.0, rel=REL)
    assert "excess not counted" in nb2["issues"]
    nb1 = site(sites, "NB1")  # same park, same month: its own 300 MWh only
    assert nb1["gec_covered_mwh"] == 300
    month = sites.filter(pl.col("period") == "2024-03")
    assert month["gec_covered_mwh"].sum() == pytest.approx(300 + 200 + 100, rel=REL)


def test_ppa_at_zero_with_gecs_inside_counts_once(sites):
    r = site(sites, "FS1")  # PPA 400 MWh at ef 0 with 100 MWh GEC; grid 600 MWh; Guangdong
    assert r["scope2_location_tco2e"] == pytest.approx(1000 * GD, rel=REL)
    assert r["scope2_market_tco2e"] == pytest.approx(300 * 0.0 + 600 * RESIDUAL, rel=REL)
    assert r["ppa_renewable_mwh"] == 400 and r["gec_covered_mwh"] == 100
    assert r["renewable_electricity_mwh"] == 400  # not 500: the PPA's GECs are the same MWh
    assert r["renewable_electricity_share"] == pytest.approx(0.4, rel=REL)
    assert r["gec_instrument_tco2e"] == pytest.approx(100 * GD, rel=REL)  # only GEC-evidenced MWh reduce net
    assert r["scope1_biogenic_memo_tco2e"] == 20.0
    assert "without GECs" in r["issues"]


def test_ppa_without_factor_takes_the_residual_proxy(factors):
    raw = {
        "installations": synthetic.installations(),
        "energy_bills": lf(
            [
                {
                    "bill_id": "B",
                    "installation_id": "NB1",
                    "carrier": "electricity",
                    "period_start": date(2024, 1, 1),
                    "period_end": date(2024, 1, 31),
                    "quantity": 10.0,
                    "unit": "MWh",
                    "supply_type": "ppa",
                }
            ]
        ),
    }
    r = scope2_lines(raw, factors).collect().row(0, named=True)
    assert r["scope2_market_tco2e"] == pytest.approx(10 * RESIDUAL, rel=REL)
    assert "residual proxy" in r["issues"]


def test_bill_spanning_months_is_split_by_days():
    raw = {
        "energy_bills": lf(
            [
                {
                    "bill_id": "B",
                    "installation_id": "X",
                    "carrier": "电力",
                    "period_start": date(2024, 1, 15),
                    "period_end": date(2024, 2, 14),
                    "quantity": 31_000.0,
                    "unit": "kWh",
                    "gec_mwh": 31.0,
                }
            ]
        )
    }
    m = {r["month"]: r for r in energy_bill_months(raw).collect().iter_rows(named=True)}
    assert m["2024-01"]["electricity_mwh"] == pytest.approx(17.0, rel=REL)  # 17 of 31 days
    assert m["2024-02"]["electricity_mwh"] == pytest.approx(14.0, rel=REL)
    assert m["2024-01"]["gec_covered_mwh"] + m["2024-02"]["gec_covered_mwh"] == pytest.approx(31.0, rel=REL)


def test_vintage_rule(factors):
    inst = lf([{"installation_id": "A", "name": "a", "country": "CN", "grid_region": "浙江省"}])
    keys = grid_regions({"installations": inst}, factors).join(
        pl.LazyFrame({"year": ["2020", "2022", "2023", "2025"]}), how="cross"
    )
    got = {
        r["year"]: r for r in pick_grid_factor(keys, factors, "co2_average").collect().iter_rows(named=True)
    }
    assert got["2025"]["factor_tco2_per_mwh"] == ZJ and got["2025"]["factor_data_year"] == 2023
    assert got["2023"]["factor_tco2_per_mwh"] == ZJ
    # 2022: no Zhejiang or East China value for data year 2022 → national 2022 (vintage before specificity)
    assert got["2022"]["factor_tco2_per_mwh"] == 0.5366 and got["2022"]["factor_level"] == "national"
    # before the first data year: the earliest, flagged
    assert got["2020"]["factor_data_year"] == 2021 and "flagged" in got["2020"]["factor_vintage_rule"]
    # a run dated before the 2023 notice (31 Dec 2025) cannot use it
    early = {
        r["year"]: r
        for r in pick_grid_factor(keys, factors, "co2_average", as_of=date(2025, 6, 30))
        .collect()
        .iter_rows(named=True)
    }
    assert early["2025"]["factor_data_year"] == 2022 and early["2025"]["factor_tco2_per_mwh"] == 0.5366


def test_grid_region_spellings(factors):
    inst = lf([{"installation_id": i, "name": i, "country": c, "grid_region": g} for i, c, g in [
        ("a", "CN", "Zhejiang"), ("b", "CN", "华东电网"), ("c", "CN", "广东省"), ("d", "CN", "Mars"), ("e", "CN", None),
        ("f", "VN", "Hanoi")]])  # fmt: skip
    g = {
        r["installation_id"]: r
        for r in grid_regions({"installations": inst}, factors).collect().iter_rows(named=True)
    }
    assert (g["a"]["region"], g["a"]["regional_grid"]) == ("Zhejiang", "East China")
    assert (g["b"]["region"], g["b"]["region_level"]) == ("East China", "regional")
    assert g["c"]["region"] == "Guangdong"
    assert g["d"]["region"] == "China" and "not recognised" in g["d"]["region_issue"]
    assert g["e"]["region"] == "China" and "empty" in g["e"]["region_issue"]
    assert g["f"]["region"] is None and "VN" in g["f"]["region_issue"]


def test_totals_of_the_multi_plant_dataset(sites, raw, logistics):
    legs, alloc = logistics
    months, years = (sites.filter(pl.col("period_grain") == g) for g in ("month", "year"))
    se = synthetic.stream_emissions()
    assert months["scope1_tco2e"].sum() == pytest.approx(se["fossil_tco2e"].sum(), rel=REL)
    assert months["scope1_biogenic_memo_tco2e"].sum() == pytest.approx(se["biomass_tco2e"].sum(), rel=REL)
    # Scope 3 cat 1 precursors: purchased only (the own EAF → RM row is internal)
    assert months["scope3_cat1_precursors_tco2e"].sum() == pytest.approx(520 * 10 + 50 * 2, rel=REL)
    lines = purchased_material_lines(raw).collect()
    assert months["scope3_cat1_materials_tco2e"].sum() == pytest.approx(
        lines.filter(pl.col("kind") == "material")["tco2e"].sum(), rel=REL
    )
    assert months["scope3_cat3_fuel_upstream_tco2e"].sum() == pytest.approx(3.0, rel=REL)
    assert months["scope3_cat1_gap_lines"].sum() == 2
    transport = months["scope3_cat4_tco2e"].sum() + months["scope3_cat9_tco2e"].sum()
    assert transport == pytest.approx(legs["wtw_tco2e"].sum(), rel=REL)  # every leg attributed to a site
    location = 1000 * ZJ + 200 * EAST + 1000 * GD
    assert months["scope2_location_tco2e"].sum() == pytest.approx(location, rel=REL)
    assert months["scope2_market_tco2e"].sum() == pytest.approx((700 + 600) * RESIDUAL, rel=REL)
    for col in (
        "scope1_tco2e",
        "scope2_location_tco2e",
        "scope2_market_tco2e",
        "scope3_cat4_tco2e",
        "net_tco2e",
    ):
        assert years[col].sum() == pytest.approx(months[col].sum(), rel=REL), col
    assert set(years["scope1_basis"]) == {"sum_of_months"}
    assert not sites["provisional"].any()  # 2024 is before the as-of year 2026
    assert months["net_tco2e_ytd"].to_list() == months["net_tco2e"].to_list()  # a single month per site


def test_parks_default_by_city_and_given_grouping(sites, raw):
    parks = compute_park_progress(sites, raw)
    ningbo = parks.filter((pl.col("park_id") == "city:CN:ningbo") & (pl.col("period") == "2024-03")).row(
        0, named=True
    )
    nb = sites.filter(pl.col("installation_id").is_in(["NB1", "NB2"]) & (pl.col("period") == "2024-03"))
    assert ningbo["installation_count"] == 2
    for col in ("gross_tco2e", "net_tco2e", "gec_instrument_tco2e", "renewable_electricity_mwh"):
        assert ningbo[col] == pytest.approx(nb[col].sum(), rel=REL), col
    assert ningbo["renewable_electricity_share"] == pytest.approx((400 + 200) / (1100 + 200), rel=REL)
    given = compute_park_progress(
        sites, raw, parks=pl.DataFrame({"installation_id": ["NB1", "FS1"], "park_id": ["P1", "P1"]})
    )
    p1 = given.filter((pl.col("park_id") == "P1") & (pl.col("period") == "2024"))
    assert p1["installation_count"].item() == 2
    assert set(given["park_id"]) == {"P1", "city:CN:ningbo"}  # NB2 keeps its city park


def test_no_scope1_rows_leave_gross_and_net_empty_with_reason(raw, factors, logistics):
    se = synthetic.stream_emissions().filter(pl.col("installation_id") != "NB2")
    out = compute_site_inventory(raw, factors, se, synthetic.precursor_inputs(), logistics[1])
    r = site(out, "NB2")
    assert r["scope1_tco2e"] is None and r["gross_tco2e"] is None and r["net_tco2e"] is None
    assert r["scope1_basis"] == "missing" and "no stream_emissions" in r["issues"]
    assert r["scope2_location_tco2e"] == pytest.approx(200 * EAST, rel=REL)
    assert r["provisional"] is None  # no as-of date given


def test_precursor_without_real_footprint_counts_as_a_gap_line(raw, factors, logistics):
    pi = synthetic.precursor_inputs().with_columns(see_origin=pl.Series(["exempt_origin", None, "internal"]))
    out = compute_site_inventory(raw, factors, synthetic.stream_emissions(), pi, logistics[1])
    assert site(out, "FS1")["scope3_cat1_gap_lines"] == 2  # glue (material) + EU-origin billet (precursor)
    assert site(out, "NB1")["scope3_cat1_gap_lines"] == 1  # scrap
