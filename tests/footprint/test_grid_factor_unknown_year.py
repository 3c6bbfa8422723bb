"""A grid-factor row whose data year is unknown (an edited or extended factor table with the cell empty) must not
win the vintage rule over a dated factor: before, its rank was null and nulls sorted first, so the undated row
was picked for every year and reported with `factor_data_year` null. Now it ranks after every dated row; when
it is the only row of its region it is still used, and said so."""

from __future__ import annotations

import polars as pl

from tests.footprint.synthetic import lf
from transforms.ghg.electricity import grid_regions, pick_grid_factor


def _with_undated(factors, value: float, region: str = "Zhejiang"):
    table = factors["china_grid_factors"]
    dated = table.filter((pl.col("series") == "co2_average") & (pl.col("region") == region)).head(1)
    undated = dated.with_columns(
        data_year=pl.lit(None, pl.Int32), value=pl.lit(value), value_text=pl.lit(str(value))
    )
    return factors.with_table("china_grid_factors", pl.concat([table, undated]))


def _pick(factors, year: str) -> dict:
    inst = lf([{"installation_id": "A", "name": "a", "country": "CN", "grid_region": "浙江省"}])
    keys = grid_regions({"installations": inst}, factors).join(pl.LazyFrame({"year": [year]}), how="cross")
    return pick_grid_factor(keys, factors, "co2_average").collect().row(0, named=True)


def test_a_factor_without_data_year_does_not_beat_a_dated_one(factors):
    before = _pick(factors, "2025")
    after = _pick(_with_undated(factors, 9.99), "2025")
    assert after["factor_tco2_per_mwh"] == before["factor_tco2_per_mwh"] != 9.99
    assert after["factor_data_year"] == before["factor_data_year"] == 2023


def test_a_factor_without_data_year_is_used_when_it_is_the_only_one_and_flagged(factors):
    table = factors["china_grid_factors"]
    only = table.filter(pl.col("region") != "Zhejiang").vstack(
        table.filter((pl.col("series") == "co2_average") & (pl.col("region") == "Zhejiang"))
        .head(1)
        .with_columns(data_year=pl.lit(None, pl.Int32), value=pl.lit(0.777), value_text=pl.lit("0.777"))
    )
    # keep Zhejiang's undated row only, and no regional or national row to fall back to
    only = only.filter(~pl.col("region").is_in(["East China", "China"]))
    got = _pick(factors.with_table("china_grid_factors", only), "2025")
    assert got["factor_tco2_per_mwh"] == 0.777 and got["factor_data_year"] is None
    assert "unknown" in got["factor_vintage_rule"]
