"""Properties: scaling an installation's activity data by k scales emissions by k and leaves SEE unchanged;
the order of input rows changes nothing."""

from __future__ import annotations

import copy
import random

import polars as pl
import pytest
from cbam_testkit import chain, close, run, year_rows

from tools.refbuild.examples.fixtures import load_fixture
from tools.refbuild.examples.landing import fixture_to_landing_rows

SCALED = {
    "stream_readings": ("quantity", "emissions_t"),
    "energy_bills": ("quantity", "gec_mwh"),
    "production": (
        "produced_t",
        "direct_emissions_t",
        "heat_imported_tj",
        "heat_exported_tj",
        "waste_gas_imported_tj",
        "waste_gas_exported_tj",
        "electricity_exported_mwh",
    ),
    "process_flows": ("mass_t",),
    "supplier_invoices": ("quantity",),
    "precursor_consumption": ("mass_t",),
}


def inputs() -> dict[str, list[dict]]:
    rows = {k: list(v) for k, v in chain().export("PC", 10.0).electricity(None, 40.0).rows.items()}
    steel = fixture_to_landing_rows(load_fixture("steel_eaf_alloys"), installation_id="STEEL")
    for k, v in steel.items():
        rows.setdefault(k, []).extend(v)
    return rows


def scaled(rows: dict[str, list[dict]], k: float) -> dict[str, list[dict]]:
    out = copy.deepcopy(rows)
    for dataset, cols in SCALED.items():
        for r in out.get(dataset, []):
            for c in cols:
                if r.get(c) is not None:
                    r[c] = r[c] * k
    return out


@pytest.mark.parametrize("k", [3.7, 0.001])
def test_scaling_activity_scales_emissions_and_keeps_see(k: float):
    years = [2023, 2026]
    base, big = run(inputs(), years=years), run(scaled(inputs(), k), years=years)
    for table, cols in (
        ("stream_emissions", ["fossil_tco2e", "biomass_tco2e", "activity_data", "energy_tj"]),
        ("installation_emissions", ["direct_tco2e", "indirect_tco2e", "reconciliation_diff_tco2e"]),
        ("process_attribution", ["dirEm_tco2e", "attributed_direct_tco2e", "activity_level_t"]),
        ("process_electricity", ["electricity_mwh", "indirect_tco2e"]),
    ):
        for a, b in zip(base[table].iter_rows(named=True), big[table].iter_rows(named=True), strict=True):
            for c in cols:
                assert close(b[c], k * a[c], rel=1e-12, abs_=1e-9), (table, c)
    for table, cols in (
        (
            "process_see",
            ["see_direct", "see_indirect", "default_value_share", "embedded_electricity_mwh_per_t"],
        ),
        ("goods_see", ["see_direct", "see_indirect", "see_chargeable"]),
    ):
        for a, b in zip(base[table].iter_rows(named=True), big[table].iter_rows(named=True), strict=True):
            for c in cols:
                assert close(b[c], a[c], rel=1e-12), (table, c)
    assert base["export_lines"]["see_direct"].to_list() == pytest.approx(
        big["export_lines"]["see_direct"].to_list()
    )


def _canonical(df: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c, t in df.schema.items() if t in (pl.String, pl.Boolean, pl.Date, pl.Int64)]
    return df.sort(keys, nulls_last=True) if keys else df


def test_permuting_input_rows_changes_nothing():
    rows = inputs()
    for dataset, items in rows.items():  # fix the lineage ids to the rows before shuffling
        for i, r in enumerate(items, start=1):
            r["_source_row_id"] = f"{dataset}#{i}"
    shuffled = copy.deepcopy(rows)
    rng = random.Random(20260101)
    for items in shuffled.values():
        rng.shuffle(items)
    a, b = run(rows, years=[2023, 2026]), run(shuffled, years=[2023, 2026])
    for table in a:
        x, y = _canonical(a[table]), _canonical(b[table])
        assert x.columns == y.columns and x.height == y.height, table
        for c in x.columns:
            if x.schema[c] == pl.Float64:
                for u, v in zip(x[c].to_list(), y[c].to_list(), strict=True):
                    assert close(u, v, rel=1e-12, abs_=1e-9), (table, c)
            else:
                assert x[c].to_list() == y[c].to_list(), (table, c)


def test_scaling_one_installation_leaves_the_other_untouched():
    rows = inputs()
    only_chain = copy.deepcopy(rows)
    for dataset, cols in SCALED.items():
        for r in only_chain.get(dataset, []):
            if r.get("installation_id") == "I1":
                for c in cols:
                    if r.get(c) is not None:
                        r[c] = r[c] * 2.0
    a = year_rows(run(rows, years=[2023, 2026])["installation_emissions"])
    b = year_rows(run(only_chain, years=[2023, 2026])["installation_emissions"])
    steel_a = a.filter(pl.col("installation_id") == "STEEL")["direct_tco2e"].item()
    steel_b = b.filter(pl.col("installation_id") == "STEEL")["direct_tco2e"].item()
    assert steel_a == steel_b
