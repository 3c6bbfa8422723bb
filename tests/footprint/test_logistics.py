"""Logistics engine: hand-computed leg emissions, fuel data, allocation, distances from places."""

from __future__ import annotations

import csv
import math
from datetime import date

import polars as pl
import pytest

from tests.footprint.synthetic import lf
from tools.refbuild._common import fmt
from tools.refbuild.sea_routes import COLUMNS, REFERENCE_NM, build_rows, haversine_km
from transforms.logistics import compute_logistics, compute_shipments, logistics_lazy
from transforms.logistics.places import gcd_km
from transforms.reference.seeds import REFERENCE_DIR

REL = 1e-9
ROAD_WTW, ROAD_TTW = 107.00, 88.25  # g/tkm, ghg_transport_intensities.csv road default
SEA_WTW, SEA_TTW = 18.66, 15.36


def leg(**kw) -> dict:
    base = {
        "shipment_id": "S",
        "leg_no": 1,
        "ship_date": date(2024, 5, 1),
        "direction": "outbound",
        "mode": "road",
    }
    return base | kw


def one(rows: list[dict], factors, extra: dict | None = None) -> dict:
    raw = {"shipments": lf(rows)} | (extra or {})
    return compute_shipments(raw, factors).row(0, named=True)


def place(place_id: str) -> tuple[float, float]:
    with (REFERENCE_DIR / "ghg_places.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["place_id"] == place_id)
    return float(row["latitude"]), float(row["longitude"])


def test_leg_with_default_intensity(factors):
    r = one([leg(mass_t=10.0, distance_km=180.0)], factors)
    assert r["tonne_km"] == pytest.approx(1800.0, rel=REL)
    assert r["wtw_tco2e"] == pytest.approx(1800 * ROAD_WTW / 1e6, rel=REL)
    assert r["ttw_tco2e"] == pytest.approx(1800 * ROAD_TTW / 1e6, rel=REL)
    assert r["intensity_wtw_gco2e_per_tkm"] == ROAD_WTW
    assert r["intensity_source"] == "default:road/hgv_articulated_average"
    assert r["distance_source"] == "given"
    assert r["data_quality_rating"] == 3 and not r["is_primary_data"]
    assert r["factor_version"].startswith("transport_intensities@")


def test_leg_with_carrier_diesel_litres(factors):
    r = one(
        [leg(mass_t=10.0, distance_km=180.0, fuel_type="柴油", fuel_quantity=50.0, fuel_unit="L")], factors
    )
    fuel_t = 50 / 1000 * 0.832  # m3 × t/m3 (EN 16258 density)
    ttw = fuel_t * 43.0 / 1000 * 74.1  # t × GJ/t → TJ × tCO2/TJ
    wtt = fuel_t * 0.69
    assert r["ttw_tco2e"] == pytest.approx(ttw, rel=REL)
    assert r["wtw_tco2e"] == pytest.approx(ttw + wtt, rel=REL)
    assert r["intensity_wtw_gco2e_per_tkm"] == pytest.approx((ttw + wtt) * 1e6 / 1800, rel=REL)
    assert r["intensity_source"] == "carrier_fuel:diesel:fuel_wtt"
    assert r["is_primary_data"] and r["data_quality_rating"] == 2


def test_fuel_in_kg_equals_fuel_in_litres(factors):
    a = one(
        [leg(mass_t=10.0, distance_km=180.0, fuel_type="diesel", fuel_quantity=50.0, fuel_unit="L")], factors
    )
    b = one(
        [leg(mass_t=10.0, distance_km=180.0, fuel_type="gas oil", fuel_quantity=41.6, fuel_unit="kg")],
        factors,
    )
    assert b["wtw_tco2e"] == pytest.approx(a["wtw_tco2e"], rel=REL)


def test_heavy_fuel_oil_takes_wtt_ratio_of_the_mode_default(factors):
    r = one(
        [
            leg(
                mode="sea",
                mass_t=1000.0,
                distance_km=10_000.0,
                fuel_type="HFO",
                fuel_quantity=30.0,
                fuel_unit="t",
            )
        ],
        factors,
    )
    ttw = 30 * 40.4 / 1000 * 77.4
    assert r["ttw_tco2e"] == pytest.approx(ttw, rel=REL)
    assert r["wtw_tco2e"] == pytest.approx(ttw * SEA_WTW / SEA_TTW, rel=REL)
    assert r["intensity_source"] == "carrier_fuel:heavy_fuel_oil:wtt_ratio_of_mode_default"


def test_unusable_fuel_data_falls_back_to_default_with_reason(factors):
    r = one(
        [leg(mass_t=10.0, distance_km=100.0, fuel_type="whale oil", fuel_quantity=5.0, fuel_unit="L")],
        factors,
    )
    assert r["wtw_tco2e"] == pytest.approx(1000 * ROAD_WTW / 1e6, rel=REL)
    assert "unknown fuel_type whale oil" in r["issues"]
    r = one([leg(mass_t=10.0, distance_km=100.0, fuel_type="HFO", fuel_quantity=5.0, fuel_unit="L")], factors)
    assert "not convertible" in r["issues"] and r["intensity_source"].startswith("default:")


def test_fuel_data_needs_no_distance(factors):
    r = one(
        [
            leg(
                mass_t=10.0,
                origin="Atlantis",
                destination="Nowhere",
                fuel_type="diesel",
                fuel_quantity=41.6,
                fuel_unit="kg",
            )
        ],
        factors,
    )
    assert r["distance_km"] is None and r["tonne_km"] is None
    assert r["wtw_tco2e"] == pytest.approx(0.0416 * (43 / 1000 * 74.1 + 0.69), rel=REL)
    assert "origin not a known place: Atlantis" in r["issues"]


def test_allocation_across_two_products_on_one_leg(factors):
    rows = [
        leg(mass_t=6.0, distance_km=100.0, product_id="P1"),
        leg(mass_t=4.0, distance_km=100.0, product_id="P2"),
    ]
    legs, alloc = compute_logistics({"shipments": lf(rows)}, factors)
    assert legs.height == 1
    r = legs.row(0, named=True)
    assert r["mass_t"] == 10.0 and r["item_count"] == 2
    assert r["wtw_tco2e"] == pytest.approx(1000 * ROAD_WTW / 1e6, rel=REL)
    by_item = {x["item_id"]: x for x in alloc.iter_rows(named=True)}
    assert by_item["P1"]["mass_share"] == pytest.approx(0.6, rel=REL)
    assert by_item["P1"]["wtw_tco2e"] == pytest.approx(600 * ROAD_WTW / 1e6, rel=REL)
    assert by_item["P2"]["wtw_tco2e"] == pytest.approx(400 * ROAD_WTW / 1e6, rel=REL)
    assert by_item["P1"]["ttw_tco2e"] + by_item["P2"]["ttw_tco2e"] == pytest.approx(r["ttw_tco2e"], rel=REL)


def test_sea_distance_from_the_port_table(factors):
    r = one([leg(mode="sea", mass_t=20.0, origin="宁波舟山港", destination="NL RTM")], factors)
    assert r["distance_source"] == "sea_table"
    assert r["distance_km"] == pytest.approx(19_800, rel=0.05)  # about 19 800 km via Suez
    gcd = haversine_km(*place("CNNGB"), *place("NLRTM"))
    assert 8_800 < gcd < 9_300  # great-circle sanity (Ningbo-Rotterdam about 9 000 km)
    assert r["distance_km"] > 2 * gcd  # sea lanes go round Asia, not over it
    assert r["wtw_tco2e"] == pytest.approx(20 * r["distance_km"] * SEA_WTW / 1e6, rel=REL)


def test_distance_rules_per_mode(factors):
    hz, nb, sh, rt, dui = place("CNHGH"), place("CNNGB"), place("CNSHA"), place("NLRTM"), place("DEDUI")
    road = one([leg(mass_t=1.0, origin="Hangzhou", destination="Ningbo")], factors)
    assert road["distance_km"] == pytest.approx(1.2 * haversine_km(*hz, *nb), rel=REL)
    assert road["distance_source"] == "gcd_x1.2"
    assert road["data_quality_rating"] == 4
    air = one([leg(mode="air", mass_t=1.0, origin="Shanghai", destination="Rotterdam")], factors)
    assert air["distance_km"] == pytest.approx(haversine_km(*sh, *rt) + 95, rel=REL)
    assert air["distance_source"] == "gcd_plus_95km"
    assert air["intensity_source"] == "default:air/freighter"
    # a sea leg to an inland place: not in the port table → great circle × 1.3, flagged
    sea = one([leg(mode="sea", mass_t=1.0, origin="CNNGB", destination="Duisburg")], factors)
    assert sea["distance_km"] == pytest.approx(1.3 * haversine_km(*nb, *dui), rel=REL)
    assert sea["distance_source"] == "gcd_x1.3_flagged"
    assert "distance estimated" in sea["issues"]


def test_polars_great_circle_matches_python(factors):
    (a, b), (c, d) = place("CNXIY"), place("PLMAL")
    got = pl.select(gcd_km(pl.lit(a), pl.lit(b), pl.lit(c), pl.lit(d))).item()
    assert got == pytest.approx(haversine_km(a, b, c, d), rel=1e-12)
    # one degree of latitude on the mean sphere
    assert pl.select(gcd_km(pl.lit(0.0), pl.lit(0.0), pl.lit(1.0), pl.lit(0.0))).item() == pytest.approx(
        2 * math.pi * 6371.0088 / 360, rel=1e-12
    )


def test_unresolved_leg_keeps_its_row_with_reason(factors):
    r = one([leg(mass_t=5.0, origin="Atlantis", destination="Ningbo")], factors)
    assert r["wtw_tco2e"] is None and r["distance_source"] == "unresolved"
    assert r["data_quality_rating"] == 5 and "Atlantis" in r["issues"]


def test_pieces_and_units_convert_to_tonnes(factors):
    products = lf(
        [
            {
                "product_id": "P",
                "name": "p",
                "cn_code": "72142000",
                "installation_id": "I",
                "process_id": "X",
                "unit_mass_t": 0.5,
            }
        ]
    )
    r = one(
        [leg(quantity=200.0, unit="pcs", product_id="P", distance_km=10.0)], factors, {"products": products}
    )
    assert r["mass_t"] == 100.0 and r["mass_source"] == "pieces_x_unit_mass"
    r = one([leg(quantity=2500.0, unit="kg", distance_km=10.0)], factors)
    assert r["mass_t"] == 2.5 and r["mass_source"] == "quantity_unit"
    r = one([leg(quantity=3.0, unit="pcs", distance_km=10.0)], factors)
    assert r["mass_t"] is None and "unit_mass_t" in r["issues"]


def test_unknown_sub_type_uses_mode_default_with_reason(factors):
    r = one([leg(mass_t=1.0, distance_km=100.0, sub_type="container_deep_sea")], factors)
    assert r["intensity_source"] == "default:road/hgv_articulated_average"
    assert "not in the intensity table" in r["issues"]
    r = one([leg(mode="air", mass_t=1.0, distance_km=1000.0, sub_type="belly_short_haul")], factors)
    assert r["intensity_wtw_gco2e_per_tkm"] == 830.0


def test_installations_as_places_and_scope3_categories(logistics):
    legs, alloc = logistics
    out1 = legs.filter(pl.col("shipment_id") == "OUT1").sort("leg_no")
    assert out1["origin_place_id"].to_list() == ["NB1", "CNNGB"]
    cats = {
        (r["shipment_id"], r["leg_no"]): (
            r["installation_id"],
            r["scope3_category"],
            r["installation_source"],
        )
        for r in alloc.iter_rows(named=True)
    }
    assert cats[("IN1", 1)] == ("NB1", 4, "invoice")  # inbound → cat 4
    assert cats[("OUT1", 2)] == ("NB1", 9, "export")  # outbound, not paid by the company → cat 9
    assert cats[("OUT2", 1)] == ("FS1", 4, "product")  # outbound paid by the company → cat 4


def test_factor_tables_are_versioned_and_sourced(factors):
    for name, table in factors.tables.items():
        assert table["version"].n_unique() == 1, name
        if "source" in table.columns:
            assert table["source"].null_count() == 0, name
        if "status" in table.columns:
            assert set(table["status"].unique()) <= {"confirmed", "reported", "UNCONFIRMED"}, name
    ti = factors["transport_intensities"]
    assert ti.group_by("mode").agg(pl.col("is_mode_default").sum())["is_mode_default"].to_list() == [1] * 5


def test_committed_sea_table_is_the_builder_output():
    with (REFERENCE_DIR / "ghg_sea_distances.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        committed = list(reader)
    assert committed == [{c: fmt(r[c]) for c in COLUMNS} for r in build_rows()]


def test_sea_table_against_published_port_distances():
    rows = {(r["port_a"], r["port_b"]): r["distance_km"] for r in build_rows()}
    for (a, b), nm in REFERENCE_NM.items():
        km = rows.get((a, b)) or rows[(b, a)]
        assert km == pytest.approx(nm * 1.852, rel=0.05), (a, b)


def test_lazy_plan_does_not_collect(raw, factors):
    legs, alloc = logistics_lazy(raw, factors)
    assert isinstance(legs, pl.LazyFrame) and isinstance(alloc, pl.LazyFrame)


def test_legs_of_one_item_are_the_legs_grouping_gives(factors):
    """`_legs` takes the legs of one item as they stand and groups only the others: the same rows, to the bit,
    as grouping every leg (first values in file order, `fsum` of the masses, joined lineage)."""
    from transforms.logistics.engine import _LEG_FIRST, LEG_KEYS, _legs
    from transforms.stable import fsum

    items = pl.DataFrame(
        {
            "shipment_id": ["S1", "S2", "S3", "S4", "S4", "S5"],
            "leg_no": [1, 1, 1, 1, 1, 2],
            "item_mass_t": [-0.0, 1e-30, None, 0.1, 0.2, 0.007200000000000001],
            "mass_source": ["declared", "declared", None, "declared", "product", "declared"],
            "_row": [0, 1, 2, 3, 4, 5],
            "_source_row_id": [None, "f#2", "f#3", "f#4", None, "f#6"],
            **{c: [None, "x", "y", None, "z", "w"] for c in _LEG_FIRST},
        }
    ).lazy()
    every = items.group_by(LEG_KEYS).agg(
        *(pl.col(c).sort_by("_row").drop_nulls().first() for c in _LEG_FIRST),
        mass_t=pl.when(pl.col("item_mass_t").is_null().any())
        .then(None)
        .otherwise(pl.col("item_mass_t").pipe(fsum)),
        mass_source=pl.col("mass_source").min(),
        item_count=pl.len(),
        _row=pl.col("_row").min(),
        source_row_ids=pl.col("_source_row_id").sort_by("_row").drop_nulls().str.join("|"),
    )
    got, want = _legs(items).collect().sort(LEG_KEYS), every.collect().sort(LEG_KEYS)
    assert got.equals(want, null_equal=True)
    assert got["mass_t"].to_numpy().tobytes() == want["mass_t"].to_numpy().tobytes()
    assert got.filter(pl.col("shipment_id") == "S4")["item_count"].item() == 2
