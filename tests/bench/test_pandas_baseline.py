"""The benchmark's pandas baseline computes the same numbers as the polars CBAM engine on the demo data (scale
0.1, ingested like a real home): goods SEE at year grain and export-line embedded emissions agree to 1e-9
relative. Its default-value lookup is checked against transforms.reference on its own (the demo's export
lines all have an actual SEE)."""

from __future__ import annotations

import math

import pandas as pd
import polars as pl
import pytest

from tests.bench.pandas_cbam import PandasReference, compute_cbam_pandas, load_raw
from transforms.cbam.engine import compute_cbam
from transforms.contracts import datasets
from transforms.reference import default_values

REL = 1e-9
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def both(demo_home) -> tuple[dict[str, pl.DataFrame], dict[str, pd.DataFrame]]:
    """Both engines on the raw lake of the session's shared demo home (scale 0.1, ingested by `lingtan run`)."""
    raw = {n: pl.scan_parquet(demo_home.raw_table(n)) for n in datasets() if demo_home.raw_table(n).exists()}
    return compute_cbam(raw), compute_cbam_pandas(load_raw(demo_home.root))


def _assert_close(engine: pd.DataFrame, baseline: pd.DataFrame, keys: list[str], columns: list[str]) -> None:
    merged = engine.merge(baseline, on=keys, how="outer", suffixes=("_engine", "_pandas"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", keys]
    for c in columns:
        for a, b, key in zip(
            merged[f"{c}_engine"], merged[f"{c}_pandas"], merged[keys].itertuples(index=False), strict=True
        ):
            if pd.isna(a) or pd.isna(b):
                assert pd.isna(a) and pd.isna(b), (c, key, a, b)
            else:
                assert math.isclose(a, b, rel_tol=REL, abs_tol=1e-12), (c, key, a, b)


def test_goods_see_per_year_agree(both):
    engine, baseline = both
    keys = ["installation_id", "product_id", "period"]
    cols = ["see_direct", "see_indirect", "see_total", "see_chargeable"]
    ours = engine["goods_see"].filter(pl.col("period_grain") == "year").select(*keys, *cols).to_pandas()
    theirs = baseline["goods_see"].query("period_grain == 'year'")[keys + cols]
    assert len(ours) > 0
    _assert_close(ours, theirs, keys, cols)


def test_export_lines_agree(both):
    engine, baseline = both
    keys = ["export_id", "line_no"]
    cols = ["net_mass_t", "embedded_direct_tco2e", "embedded_indirect_tco2e", "embedded_chargeable_tco2e"]
    ours = engine["export_lines"].select(*keys, *cols, "determination").to_pandas()
    theirs = baseline["export_lines"][keys + cols + ["determination"]]
    assert len(ours) > 0
    _assert_close(ours, theirs, keys, cols)
    assert (
        ours.sort_values(keys)["determination"].to_numpy() == theirs.sort_values(keys)["determination"]
    ).all()


def test_default_value_lookup_matches_reference():
    ref = PandasReference.from_seeds()
    keys = pd.DataFrame(
        [
            (cn, country, year)
            for cn in ("72139149", "76012020", "73181589", "76042100", "72071111", "25231000", "99999999")
            for country in ("CN", "VN", "TR", "FR", None)
            for year in (2025, 2026, 2027, 2028, 2030)
        ],
        columns=["cn_code", "country", "year"],
    )
    ours = ref.lookup_default_values(keys)
    # transforms.reference on every key in one query (lookup_default is this on one row; row order is kept, see
    # tests/reference/test_default_values.py)
    wanted = pl.LazyFrame(
        {
            "country_iso2": [None if pd.isna(c) else c for c in ours["country"]],
            "cn_code": list(ours["cn_code"]),
            "year": [int(y) for y in ours["year"]],
            "route": [None] * len(ours),
        },
        schema={"country_iso2": pl.String, "cn_code": pl.String, "year": pl.Int64, "route": pl.String},
    )
    expected_rows = (
        default_values.with_default_values(wanted, route_col="route")
        .collect()
        .select(default_values.DV_COLUMNS)
        .to_dicts()
    )
    for row, expected in zip(ours.itertuples(index=False), expected_rows, strict=True):
        for ours_col, ref_col in (
            ("dv_direct_marked_up", "dv_direct_marked_up"),
            ("dv_total_marked_up", "dv_total_marked_up"),
            ("dv_markup", "dv_markup"),
            ("dv_used_table", "dv_used_table"),
        ):
            got, want = getattr(row, ours_col), expected[ref_col]
            if ours_col == "dv_markup" and expected["dv_total"] is None:
                continue  # no default value: the reference's mark-up column is not meaningful
            if want is None:
                assert pd.isna(got), (row, ours_col, got)
            elif isinstance(want, float):
                assert math.isclose(got, want, rel_tol=REL), (row, ours_col, got, want)
            else:
                assert got == want, (row, ours_col, got, want)
