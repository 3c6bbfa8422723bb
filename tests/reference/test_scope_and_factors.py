"""CN scope / Annex II flags, grid factors, benchmarks, standard factors, GWP and constants (committed CSVs)."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.reference import cbam_grid, cn_codes, seeds


def info(cn: str) -> dict:
    return cn_codes.with_cn_info(pl.LazyFrame({"cn_code": [cn]})).collect().row(0, named=True)


@pytest.mark.parametrize(
    ("cn", "category", "direct_only", "fu"),
    [
        ("72081000", "Iron or steel products", True, "t"),
        ("25232900", "Cement", False, "t clinker"),
        ("26011200", "Sintered ore", False, "t"),
        ("27160000", "Electricity", True, "MWh"),
        ("28041000", "Hydrogen", True, "t"),
        ("76011000", "Unwrought aluminium", True, "t"),
        ("76169990", "Aluminium products", True, "t"),
        ("72021120", "FeMn", True, "t"),
        ("72024110", "FeCr", True, "t"),
        ("72026000", "FeNi", True, "t"),
        ("72031000", "DRI", True, "t"),
        ("72071111", "Crude steel", True, "t"),
        ("72011011", "Pig iron", True, "t"),
        ("28080000", "Nitric acid", False, "kgN"),
        ("28141000", "Ammonia", False, "kgN"),
        ("31021010", "Urea", False, "supplementary unit"),
        ("31023010", "Mixed fertilisers", False, "supplementary unit"),
        ("31052010", "Mixed fertilisers", False, "kgN"),
        ("25233000", "Aluminous cement", False, "t"),
        ("25070080", "Calcined clay", False, "t"),
        ("73181510", "Iron or steel products", True, "t"),
    ],
)
def test_cn_info(cn, category, direct_only, fu):
    row = info(cn)
    assert row["in_scope"] is True
    assert (row["goods_category"], row["annex_ii_direct_only"], row["functional_unit"]) == (
        category,
        direct_only,
        fu,
    )


@pytest.mark.parametrize(
    "cn",
    ["72042100", "76020011", "76151010", "72022100", "72023000", "72029910", "31056000", "84000000", "10"],
)
def test_out_of_scope(cn):
    row = info(cn)
    assert row["in_scope"] is False and row["goods_category"] is None


@pytest.mark.parametrize(
    ("cn", "word"), [("72051000", "pig iron"), ("25231000", "white"), ("25239000", "white"), ("25070080", "calcined"),
                     ("76011000", "secondary"), ("76042100", "secondary")]
)  # fmt: skip
def test_ask_operator(cn, word):
    assert word in info(cn)["ask_operator"]


def test_cn_info_prefix_and_clash():
    lf = pl.LazyFrame(
        {"cn_code": ["72081000", "84000000"], "goods_category": ["Iron or steel products", None]}
    )
    out = cn_codes.with_cn_info(lf, prefix="cn_").collect()
    assert out.columns == ["cn_code", "goods_category", *[f"cn_{c}" for c in cn_codes.CN_INFO_COLUMNS]]
    assert out["cn_matched_prefix"].to_list() == ["7208", None]
    assert out["cn_in_scope"].to_list() == [True, False]
    with pytest.raises(ValueError, match="overwrite existing columns"):
        cn_codes.with_cn_info(lf)


def test_cn_info_expr_and_prefix_expr_agree_with_join():
    df = pl.DataFrame({"cn_code": ["72081000", "2523 29 00", "27160000", "76151010", None]})
    out = df.with_columns(
        cn_codes.cn_prefix_expr("cn_code").alias("p"),
        cn_codes.cn_info_expr("annex_ii_direct_only").alias("a2"),
        cn_codes.cn_info_expr("in_scope").alias("scope"),
    )
    assert out["p"].to_list() == ["7208", "25232900", "27160000", "76151010", None]
    assert out["a2"].to_list() == [True, False, True, None, None]
    assert out["scope"].to_list() == [True, True, True, False, False]


def test_cn_goods_covers_every_default_value_cn():
    goods = set(seeds.cn_goods()["cn_prefix"])
    assert set(seeds.default_values()["cn_code"]) <= goods
    assert seeds.cn_goods()["cn_prefix"].is_unique().all()


# --- grid factors ------------------------------------------------------------------------------------------------


def test_grid_factor_values():
    g = seeds.grid_factor_cbam()
    by = dict(zip(g["iso2"].to_list(), g["value_tco2_per_mwh"].to_list(), strict=True))
    assert (by["CN"], by["HK"], by["TW"]) == (0.605, 0.663, 0.561)
    other = g.filter(pl.col("table_kind") == "other")
    assert other.height == 1 and other["value_tco2_per_mwh"][0] == 0.465 and other["iso2"][0] is None
    assert set(g["source_code"]) == {"D.4(a)"} and set(g["act"]) == {"IR (EU) 2025/2621"}
    assert {"CD", "KP", "PS"} <= set(by)  # Annex II spellings outside transforms/reference/countries aliases


def test_with_cbam_grid_factor():
    lf = pl.LazyFrame({"c": ["CN", "中国香港", "Chinese Taipei", "MO", None, "Atlantis"]})
    out = cbam_grid.with_cbam_grid_factor(lf, "c").collect()
    assert out["grid_ef_tco2_per_mwh"].to_list() == [0.605, 0.663, 0.561, 0.465, 0.465, 0.465]
    assert out["grid_ef_fallback_reason"].to_list() == [None, None, None, "country_not_listed", "country_unknown",
                                                        "country_unknown"]  # fmt: skip
    assert set(out["grid_ef_source"]) == {"D.4(a)"}


# --- benchmarks, fuels, GWP, constants ---------------------------------------------------------------------------


def test_benchmarks():
    b = seeds.benchmarks()
    assert b["cn_code"].n_unique() == 570
    assert b["cn_code"].str.len_chars().unique().to_list() == [8]
    assert b["bm_b_tco2e_per_t"].null_count() == 0
    clinker = b.filter(pl.col("cn_code") == "25231000").sort("variant_no")
    assert clinker["route_b"].to_list() == ["(A)", "(B)"] and clinker["bm_b_tco2e_per_t"].to_list() == [
        0.666,
        0.859,
    ]
    # merged Column A cell forward-filled over the routes of one CN code
    steel = b.filter(pl.col("cn_code") == "72081000")
    assert (
        steel.height > 1
        and steel["bm_a_tco2e_per_t"].n_unique() == 1
        and steel["bm_a_from_merged_cell"].any()
    )
    tool = b.filter((pl.col("cn_code") == "72241010") & (pl.col("route_b") == "(F)(1)"))
    assert tool["route_letter_b"][0] == "F" and tool["period_marker_b"][0] == "1"


def test_fuel_factors():
    f = seeds.fuel_factors()
    ng = f.filter(pl.col("material") == "Natural gas").row(0, named=True)
    assert (ng["ef_tco2_per_tj"], ng["ncv_gj_per_t"], ng["table_ref"]) == (56.1, 48.0, "G.1")
    assert f.filter(pl.col("material") == "Industrial wastes")["ncv_gj_per_t"][0] is None
    by = {(r["table_ref"], r["material"]): r for r in f.iter_rows(named=True)}
    assert by[("G.3", "CaCO3")]["ef_tco2_per_t"] == 0.44 and by[("G.4", "CaO")]["ef_tco2_per_t"] == 0.785
    assert by[("G.4", "MgO")]["ef_tco2_per_t"] == 1.092
    assert by[("G.5", "Steel / steel scrap")]["ef_tco2_per_t"] == 0.04
    assert by[("G.2", "Charcoal")]["preliminary"] and by[("G.2", "Charcoal")]["ef_tco2_per_tj"] == 112.0
    assert by[("G.2", "Municipal waste (fossil fraction)")]["ef_tco2_per_tj"] == 91.7
    assert by[("G.1", "Waste tyres")]["preliminary"] is True
    assert f["source_code"].null_count() == 0 and f["act"].null_count() == 0


def test_gwp():
    assert seeds.gwp() == {"CO2": 1.0, "CO2e": 1.0, "N2O": 265.0, "CF4": 6630.0, "C2F6": 11100.0}


def test_constants():
    assert seeds.constant("f_co2_per_c") == 3.664
    assert seeds.constant("corr_eta_waste_gas") == 0.667
    assert seeds.constant("ef_natural_gas_tco2_per_tj") == 56.1
    assert [seeds.constant(f"cbam_factor_{y}") for y in range(2026, 2035)] == [
        0.975, 0.95, 0.9, 0.775, 0.515, 0.39, 0.265, 0.14, 0.0]  # fmt: skip
    c = pl.read_csv(seeds.REFERENCE_DIR / "cbam_constants.csv")
    assert c.filter(pl.col("name") == "cscf")["status"][0] == "provisional"
    with pytest.raises(KeyError, match="unknown CBAM constant"):
        seeds.constant("nope")
