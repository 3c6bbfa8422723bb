"""Default values: the committed cbam_default_values.csv / cbam_markups.csv and the lookup API over them.

Expected numbers come from docs/methodology/cbam.md (d) (China, printed to 3 decimals there) and the workbook's own
precision (China 7208: 3.186892655), not from re-reading the workbook.
"""

from __future__ import annotations

import polars as pl
import pytest

from transforms.reference import default_values, seeds

REL = 1e-9


def approx(x: float) -> pytest.approx:
    return pytest.approx(x, rel=REL)


def dv(country, cn, year=2026, route=None):
    return default_values.lookup_default(country, cn, year, route)


# --- the committed table -------------------------------------------------------------------------------------------


def test_every_sheet_resolved_to_one_country_and_other_and_annex_iv_present():
    df = seeds.default_values()
    countries = df.filter(pl.col("table_kind") == "country")
    assert countries["country_iso2"].null_count() == 0
    assert countries.select("sheet_name").n_unique() == countries.select("country_iso2").n_unique() == 119
    assert {"CN", "HK", "TW"} <= set(countries["country_iso2"])
    assert "MO" not in set(countries["country_iso2"])
    assert (
        df.filter(pl.col("table_kind") == "other").height
        == df.filter(pl.col("table_kind") == "annex_iv").height
    )
    assert (
        df.filter(pl.col("table_kind") != "country")["country_iso2"].null_count()
        == df.filter(pl.col("table_kind") != "country").height
    )


def test_versions_on_every_row():
    df = seeds.default_values()
    assert df["act"].unique().to_list() == ["IR (EU) 2025/2621"]
    assert set(df["workbook_version"]) == {"v1 2026-02-04", "OJ L 31.12.2025"}
    assert df.filter(pl.col("table_kind") == "annex_iv")["workbook_version"].unique().to_list() == [
        "OJ L 31.12.2025"
    ]


def test_cn_codes_are_digits_4_6_8():
    df = seeds.default_values()
    assert df["cn_code"].str.contains(r"^\d+$").all()
    assert set(df["cn_code"].str.len_chars().unique()) == {4, 6, 8}


def test_value_rows_have_total_and_no_value_rows_have_none():
    df = seeds.default_values()
    assert df.filter(pl.col("value_status") == "value")["total"].null_count() == 0
    assert df.filter(pl.col("value_status").is_in(["marker_dash", "empty", "see_below"]))[
        "total"
    ].null_count() == (df.filter(pl.col("value_status").is_in(["marker_dash", "empty", "see_below"])).height)


def test_albania_shifted_row_quarantined():
    row = (
        seeds.default_values()
        .filter((pl.col("country_iso2") == "AL") & (pl.col("cn_code") == "25232100"))
        .row(0, named=True)
    )
    assert row["value_status"] == "quarantined"
    assert row["total"] is None
    assert "shifted row" in row["status_reason"]
    assert (row["published_2026"], row["published_2027"], row["published_2028"]) == (1.23, 0.14, 1.37)


def test_tunisia_7615_rows_quarantined_as_not_cbam_goods():
    rows = seeds.default_values().filter(pl.col("cn_code").str.starts_with("7615"))
    assert rows.height == 4
    assert set(rows["country_iso2"]) == {"TN"}
    assert set(rows["value_status"]) == {"quarantined"}
    assert rows["status_reason"].str.starts_with("not_cbam_good").all()


def test_taiwan_value_error_rows_are_see_below_headings():
    rows = seeds.default_values().filter(
        (pl.col("country_iso2") == "TW") & pl.col("status_reason").is_not_null()
    )
    assert set(rows["value_status"]) == {"see_below"}
    assert rows["status_reason"].str.contains("#VALUE!|ignored").all()


def test_na_spellings_read_as_not_applicable():
    rows = seeds.default_values().filter(pl.col("cn_code") == "28041000")
    assert set(rows.filter(pl.col("table_kind") != "annex_iv")["indirect_status"]) == {"not_applicable"}
    odd = rows.filter(pl.col("status_reason").is_not_null() & (pl.col("table_kind") == "country"))
    assert set(odd["country_iso2"]) == {"CG", "GQ", "EC", "QA"}


def test_published_marked_up_columns_match_total_times_markup():
    df = seeds.default_values().filter(pl.col("value_status") == "value")
    m = seeds.markups()
    for year, col in (("2026", "published_2026"), ("2027", "published_2027"), ("2028+", "published_2028")):
        joined = df.join(
            m.filter(pl.col("year_label") == year).select("sector", "markup_fraction"), on="sector"
        )
        computed = pl.col("total") * (1 + pl.col("markup_fraction"))
        workbook = joined.filter(pl.col("table_kind") != "annex_iv", pl.col("published_markup_consistent"))
        assert workbook.filter(
            (pl.col(col) - computed).abs() > REL * computed.abs().clip(lower_bound=1)
        ).is_empty()
        annex = joined.filter(
            pl.col("table_kind") == "annex_iv"
        )  # printed to 3 decimals from unrounded values
        assert annex.filter((pl.col(col) - computed).abs() > 0.0016).is_empty()
    # Angola and Argentina compound the cement mark-up in 2027/2028 (the OJ prints the same); Chile has a '_'.
    flagged = df.filter(pl.col("published_markup_consistent").not_())
    assert sorted(zip(flagged["country_iso2"], flagged["cn_code"], strict=True)) == [
        ("AO", "25231000"), ("AO", "25232900"), ("AO", "25239000"), ("AR", "25231000"), ("AR", "25232900"),
        ("CL", "73061100"),
    ]  # fmt: skip


# --- mark-ups ------------------------------------------------------------------------------------------------------


def test_markups_table():
    m = {(r["sector"], r["year_label"]): r["markup_fraction"] for r in seeds.markups().iter_rows(named=True)}
    for sector in ("cement", "iron_steel", "aluminium", "hydrogen"):
        assert (m[(sector, "2026")], m[(sector, "2027")], m[(sector, "2028+")]) == (0.1, 0.2, 0.3)
    assert (m[("fertilisers", "2026")], m[("fertilisers", "2027")], m[("fertilisers", "2028+")]) == (
        0.01,
    ) * 3
    assert len(m) == 15


@pytest.mark.parametrize(
    ("cn", "year", "markup", "note"),
    [
        ("72081000", 2025, 0.0, "before_2026_no_markup"),
        ("72081000", 2026, 0.1, None),
        ("72081000", 2027, 0.2, None),
        ("72081000", 2028, 0.3, None),
        ("72081000", 2034, 0.3, None),
        ("31021012", 2026, 0.01, None),
        ("31021012", 2027, 0.01, None),
        ("31021012", 2031, 0.01, None),
    ],
)
def test_markup_by_year(cn, year, markup, note):
    d = dv("CN", cn, year)
    assert d["dv_markup"] == markup
    assert d["dv_markup_note"] == note
    assert d["dv_total_marked_up"] == approx(d["dv_total"] * (1 + markup))


def test_year_as_period_text():
    lf = pl.LazyFrame(
        {"country_iso2": ["CN", "CN"], "cn_code": ["72081000", "72081000"], "year": ["2027", "2027-05"]}
    )
    out = default_values.with_default_values(lf).collect()
    assert out["dv_markup"].to_list() == [0.2, 0.2]


# --- China (docs/methodology/cbam.md (d)) ----------------------------------------------------------------------------------


def test_china_grey_clinker_defaults_to_route_a_and_flags_it():
    d = dv("CN", "25231000")
    assert d["dv_used_table"] == "country" and d["dv_fallback_reason"] is None
    assert d["dv_total"] == approx(1.39)
    assert d["dv_direct"] == approx(1.35) and d["dv_indirect"] == approx(0.04)
    assert round(d["dv_total_marked_up"], 3) == 1.529
    assert d["dv_total_marked_up"] == approx(d["dv_total_published_marked_up"])
    assert d["dv_route"] == "(A)" and d["dv_route_key"] == "A"
    assert d["dv_route_note"] == "route_ambiguous_defaulted_grey"


@pytest.mark.parametrize("route", ["A", "(A)", "grey", "Grey"])
def test_china_grey_clinker_by_route(route):
    d = dv("CN", "25231000", route=route)
    assert d["dv_total"] == approx(1.39) and d["dv_route_note"] is None


@pytest.mark.parametrize("route", ["B", "(B)", "white"])
def test_china_white_clinker_by_route(route):
    d = dv("CN", "25231000", route=route)
    assert d["dv_total"] == approx(1.3) and d["dv_route"] == "(B)" and d["dv_route_note"] is None


def test_china_hydrogen():
    d = dv("CN", "28041000")
    assert d["dv_total"] == approx(26.64)
    assert d["dv_total_marked_up"] == approx(29.304)
    assert d["dv_indirect"] == 0.0
    assert d["dv_indirect_note"] == "not_applicable_annex_ii_good_set_to_0"


def test_china_7208_at_workbook_precision():
    d = dv("CN", "72081000")
    assert d["dv_cn_matched"] == "7208"
    assert d["dv_total"] == approx(3.186892655)  # the OJ prints 3.187
    assert d["dv_total_marked_up"] == approx(3.5055819205)  # the OJ prints 3.506
    assert round(d["dv_total"], 3) == 3.187 and round(d["dv_total_marked_up"], 3) == 3.506
    assert d["dv_route"] == "(C)"
    assert d["dv_sector"] == "iron_steel"
    assert (d["dv_workbook_version"], d["dv_act"]) == ("v1 2026-02-04", "IR (EU) 2025/2621")


def test_china_7601():
    d = dv("CN", "76011000")
    assert d["dv_total"] == approx(3.0)
    assert d["dv_total_marked_up"] == approx(3.3)
    assert d["dv_route"] == "(K)"


def test_china_dri_dash_falls_back_to_other_with_reason():
    d = dv("CN", "72031000")
    assert d["dv_used_table"] == "other"
    assert d["dv_fallback_reason"] == "marker_dash"
    assert d["dv_requested_country"] == "CN"
    other = seeds.default_values().filter((pl.col("table_kind") == "other") & (pl.col("cn_code") == "7203"))
    assert d["dv_total"] == approx(other["total"][0])


@pytest.mark.parametrize("spelling", ["CN", "中国", "CHN", "China", "中华人民共和国", "PRC", "cn"])
def test_china_spellings_all_the_same(spelling):
    base = dv("CN", "72081000")
    assert dv(spelling, "72081000") == base


# --- other countries -----------------------------------------------------------------------------------------------


def test_hong_kong_uses_its_own_table_and_falls_back_per_cn():
    d = dv("HK", "25231000", route="A")
    assert d["dv_used_table"] == "country" and d["dv_requested_country"] == "HK"
    assert d["dv_total"] == approx(0.91)
    steel = dv("中国香港", "72081000")
    assert steel["dv_requested_country"] == "HK"
    assert steel["dv_used_table"] == "other" and steel["dv_fallback_reason"] == "cn_not_in_country_table"


def test_taiwan_uses_its_own_table():
    d = dv("中国台湾", "72081000")
    assert d["dv_requested_country"] == "TW" and d["dv_used_table"] == "country"
    assert d["dv_total"] == approx(2.309552764)
    assert d["dv_total"] != dv("CN", "72081000")["dv_total"]


def test_macao_not_listed_falls_back_to_other():
    d = dv("MO", "72081000")
    assert d["dv_used_table"] == "other"
    assert d["dv_fallback_reason"] == "country_not_listed"
    assert d["dv_requested_country"] == "MO"
    other = seeds.default_values().filter((pl.col("table_kind") == "other") & (pl.col("cn_code") == "7208"))
    assert d["dv_total"] == approx(other["total"][0])


def test_unknown_country_uses_annex_iv():
    for country in (None, "Atlantis"):
        d = dv(country, "28041000")
        assert d["dv_used_table"] == "annex_iv" and d["dv_fallback_reason"] == "country_unknown"
        assert d["dv_total"] == approx(26.64) and d["dv_workbook_version"] == "OJ L 31.12.2025"
    assert dv("Atlantis", "28041000")["dv_requested_country"] == "Atlantis"


def test_annex_iv_without_split_keeps_parts_null():
    d = dv(None, "25231000", route="A")
    assert d["dv_total"] == approx(1.44)
    assert d["dv_direct"] is None and d["dv_indirect"] is None
    assert d["dv_indirect_note"] == "annex_iv_total_only"


def test_quarantined_country_row_falls_back_with_reason():
    d = dv("AL", "25232100")
    assert d["dv_used_table"] == "other" and d["dv_fallback_reason"] == "quarantined"


def test_country_with_value_never_falls_back_even_if_published_columns_disagree():
    d = dv("AO", "25231000", 2027, route="A")
    assert d["dv_used_table"] == "country" and d["dv_fallback_reason"] is None
    assert d["dv_total_marked_up"] == approx(1.26 * 1.2)
    assert d["dv_total_published_marked_up"] == approx(1.5246)  # compounded in the workbook and the OJ


def test_cn_not_found_and_invalid():
    assert dv("CN", "27160000")["dv_missing_reason"] == "cn_not_found"
    assert dv("CN", "2716000011")["dv_missing_reason"] == "cn_invalid"
    bad = dv("CN", "99999999")
    assert (
        bad["dv_used_table"] is None
        and bad["dv_total"] is None
        and bad["dv_missing_reason"] == "cn_not_found"
    )


def test_longest_prefix_prefers_subheading():
    # China 7219 is 'see below' (never a value); 7219 90 has its own row.
    d = dv("CN", "72199020")
    assert d["dv_cn_matched"] == "721990" and d["dv_used_table"] == "country"


# --- the vectorised form ----------------------------------------------------------------------------------------


def test_vectorised_matches_scalar_and_keeps_rows_in_order():
    cases = [("CN", "72081000", 2026), ("MO", "72081000", 2027), (None, "28041000", 2028), ("TW", "25231000", 2025),
             ("CN", "72031000", 2030), ("HK", "72081000", 2026), ("CN", "99999999", 2026)]  # fmt: skip
    lf = pl.LazyFrame(
        {"id": list(range(len(cases))), "country_iso2": [c[0] for c in cases], "cn_code": [c[1] for c in cases],
         "year": [c[2] for c in cases]},
        schema={"id": pl.Int64, "country_iso2": pl.String, "cn_code": pl.String, "year": pl.Int64},
    )  # fmt: skip
    out = default_values.with_default_values(lf).collect()
    assert out["id"].to_list() == list(range(len(cases)))
    assert out.columns == ["id", "country_iso2", "cn_code", "year", *default_values.DV_COLUMNS]
    for i, case in enumerate(cases):
        row = out.row(i, named=True)
        assert {k: row[k] for k in default_values.DV_COLUMNS} == dv(*case)


def test_custom_column_names_and_route_column():
    lf = pl.LazyFrame({"origin": ["中国", "中国"], "cn": ["2523 10 00", "2523.10.00"], "yr": [2026, 2026],
                       "variant": ["white", None]})  # fmt: skip
    out = default_values.with_default_values(
        lf, country_col="origin", cn_col="cn", year_col="yr", route_col="variant"
    ).collect()
    assert out["dv_total"].to_list() == [1.3, 1.39]
    assert out["dv_route_note"].to_list() == [None, "route_ambiguous_defaulted_grey"]


def test_existing_dv_columns_are_not_overwritten():
    lf = pl.LazyFrame({"country_iso2": ["CN"], "cn_code": ["72081000"], "year": [2026], "dv_total": [1.0]})
    with pytest.raises(ValueError, match="overwrite existing columns"):
        default_values.with_default_values(lf)
