"""The benchmark's DuckDB SQL reference (tests/bench/duckdb_cbam.py) computes the same numbers as the polars
CBAM engine and the pandas reference on the demo data (scale 0.1, ingested like a real home): process SEE and
goods SEE at both grains and export-line embedded emissions agree to 1e-9 relative. Its default-value lookup
(SQL, longest CN prefix, mark-ups) is checked against the pandas one on a grid of keys the demo does not reach
(every demo export line has an actual SEE)."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from tests.bench.duckdb_cbam import DuckCbam, compute_cbam_duckdb
from tests.bench.pandas_cbam import PandasReference, compute_cbam_pandas, load_raw
from tests.bench.test_pandas_baseline import _assert_close
from transforms.cbam.engine import compute_cbam
from transforms.contracts import datasets

pytestmark = pytest.mark.slow
GOODS_KEYS = ["installation_id", "product_id", "period", "period_grain"]
GOODS_COLS = ["see_direct", "see_indirect", "see_total", "see_chargeable"]
LINE_KEYS = ["export_id", "line_no"]
LINE_COLS = ["net_mass_t", "embedded_direct_tco2e", "embedded_indirect_tco2e", "embedded_chargeable_tco2e"]


@pytest.fixture(scope="module")
def three(demo_home) -> tuple[dict, dict, dict]:
    raw = {n: pl.scan_parquet(demo_home.raw_table(n)) for n in datasets() if demo_home.raw_table(n).exists()}
    ref = PandasReference.from_seeds()
    return (
        compute_cbam(raw),
        compute_cbam_pandas(load_raw(demo_home.root), ref),
        compute_cbam_duckdb(demo_home.root, ref),
    )


def test_goods_see_agrees_with_engine_and_pandas(three):
    engine, pandas_out, duck = three
    ours = duck["goods_see"][GOODS_KEYS + GOODS_COLS]
    assert len(ours) > 0 and set(ours["period_grain"]) == {"month", "year"}
    _assert_close(
        engine["goods_see"].select(*GOODS_KEYS, *GOODS_COLS).to_pandas(), ours, GOODS_KEYS, GOODS_COLS
    )
    _assert_close(pandas_out["goods_see"][GOODS_KEYS + GOODS_COLS], ours, GOODS_KEYS, GOODS_COLS)


def test_process_see_agrees_with_pandas(three):
    _, pandas_out, duck = three
    keys = ["installation_id", "period", "period_grain", "process_id"]
    cols = ["see_direct", "see_indirect", "see_indirect_non_annex_ii", "embedded_electricity_mwh_per_t"]
    _assert_close(pandas_out["process_see"][keys + cols], duck["process_see"][keys + cols], keys, cols)
    status = pandas_out["process_see"].merge(duck["process_see"], on=keys)
    assert (status["see_status_x"] == status["see_status_y"]).all()


def test_export_lines_agree_with_engine_and_pandas(three):
    engine, pandas_out, duck = three
    ours = duck["export_lines"][LINE_KEYS + LINE_COLS + ["determination"]]
    assert len(ours) > 0
    theirs = engine["export_lines"].select(*LINE_KEYS, *LINE_COLS, "determination").to_pandas()
    _assert_close(theirs, ours, LINE_KEYS, LINE_COLS)
    _assert_close(pandas_out["export_lines"][LINE_KEYS + LINE_COLS], ours, LINE_KEYS, LINE_COLS)
    merged = theirs.merge(ours, on=LINE_KEYS)
    assert (merged["determination_x"] == merged["determination_y"]).all()


def test_default_value_lookup_matches_pandas(demo_home):
    ref = PandasReference.from_seeds()
    keys = pd.DataFrame(
        [
            (cn, country, year)
            for cn in ("72139149", "7601 20 20", "73181589", "760421", "7207", "25231000", "99999999", None)
            for country in ("CN", "VN", "TR", "FR", "China", "Atlantis", None)
            for year in (2025, 2026, 2027, 2028, 2030)
        ],
        columns=["cn_code", "country", "year"],
    )
    db = DuckCbam(demo_home.root, ref)
    db.con.register("wanted", keys)
    db.default_values("dv", "select * from wanted")
    ours = db.df("select * from dv")
    theirs = ref.lookup_default_values(keys)
    k = ["cn_code", "country", "year"]
    merged = ours.merge(theirs, on=k, how="outer", suffixes=("_sql", "_pandas"), indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(keys)
    assert merged["dv_total_marked_up_sql"].notna().sum() > 20  # the grid reaches real default values
    for c in ("dv_direct_marked_up", "dv_total_marked_up", "dv_markup"):
        a, b = merged[f"{c}_sql"], merged[f"{c}_pandas"]
        assert (((a - b).abs() <= 1e-12 * b.abs().clip(lower=1.0)) | (a.isna() & b.isna())).all(), c
    used = merged[["dv_used_table_sql", "dv_used_table_pandas"]].fillna("-")
    assert (used["dv_used_table_sql"] == used["dv_used_table_pandas"]).all()
