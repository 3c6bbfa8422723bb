"""Factor registry: version pinning, the dim_emission_factor catalogue, and restatement diffs after a change."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from tests.footprint import synthetic
from transforms.footprint import factor_catalog, load_factors, restatement_diff
from transforms.ghg.factors import TABLES
from transforms.inventory import compute_site_inventory
from transforms.reference.seeds import REFERENCE_DIR


def test_every_table_loads_with_one_pinned_version(factors):
    assert set(factors.versions) == set(TABLES)
    assert factors.tag("places") == f"places@{factors.versions['places']}"
    with pytest.raises(ValueError, match="not found"):
        load_factors({"transport_intensities": "1999.1"})
    with pytest.raises(KeyError):
        load_factors({"no_such_table": "1"})


def test_pinning_picks_the_requested_version(tmp_path):
    for file, *_rest in TABLES.values():
        (tmp_path / file).write_bytes((REFERENCE_DIR / file).read_bytes())
    path = tmp_path / "ghg_transport_intensities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    newer = [
        ln.replace(
            "road,hgv_articulated_average,true,107.00", "road,hgv_articulated_average,true,99.00"
        ).replace(",2025.1", ",2026.1")
        for ln in lines[1:]
    ]
    path.write_text("\n".join([*lines, *newer]) + "\n", encoding="utf-8")
    latest = load_factors(reference_dir=tmp_path)
    pinned = load_factors({"transport_intensities": "2025.1"}, reference_dir=tmp_path)
    road = pl.col("sub_type") == "hgv_articulated_average"
    assert latest.versions["transport_intensities"] == "2026.1"
    assert latest["transport_intensities"].filter(road)["wtw_gco2e_per_tkm"].item() == 99.0
    assert pinned["transport_intensities"].filter(road)["wtw_gco2e_per_tkm"].item() == 107.0


def test_catalogue_lists_every_factor_with_source_and_version(factors):
    cat = factor_catalog(factors)
    assert set(cat.columns) == {
        "kind",
        "key",
        "value",
        "unit",
        "source",
        "status",
        "valid_from",
        "valid_to",
        "version",
    }
    assert cat["source"].null_count() == 0 and cat["value"].null_count() == 0
    zj = cat.filter(
        (pl.col("kind") == "electricity_co2_average") & (pl.col("key") == "provincial/Zhejiang/2023")
    )
    assert zj["value"].item() == 0.4974 and zj["status"].item() == "UNCONFIRMED"
    assert cat.filter(pl.col("kind") == "electricity_lifecycle_footprint")["value"].sort().to_list() == [
        0.5777,
        0.6205,
    ]
    assert (
        cat.filter((pl.col("kind") == "fuel_density") & (pl.col("key") == "diesel"))["value"].item() == 0.832
    )


def test_a_factor_change_is_a_restatement_with_a_diff(raw, factors, logistics):
    rest = (synthetic.stream_emissions(), synthetic.precursor_inputs(), logistics[1])
    before = compute_site_inventory(raw, factors, *rest, as_of=date(2026, 1, 15))
    grid = factors["china_grid_factors"].with_columns(
        value=pl.when((pl.col("region") == "Zhejiang") & (pl.col("data_year") == 2023))
        .then(0.5)
        .otherwise("value")
    )
    changed = factors.with_table("china_grid_factors", grid, version="2026.1")
    after = compute_site_inventory(raw, changed, *rest, as_of=date(2026, 1, 15))
    assert before["factor_version"][0] != after["factor_version"][0]
    assert "china_grid_factors@2026.1" in after["factor_version"][0]
    diff = restatement_diff(
        before, after, ["installation_id", "period", "period_grain"], ["scope2_location_tco2e", "net_tco2e"]
    )
    assert set(diff["installation_id"]) == {"NB1"}  # only the Zhejiang site moves
    loc = diff.filter((pl.col("column") == "scope2_location_tco2e") & (pl.col("period") == "2024-03")).row(
        0, named=True
    )
    assert loc["old_value"] == pytest.approx(1000 * 0.4974, rel=1e-9)
    assert loc["new_value"] == pytest.approx(1000 * 0.5, rel=1e-9)
    assert loc["delta"] == pytest.approx(1000 * (0.5 - 0.4974), rel=1e-9)
    assert "china_grid_factors@2025.1" in loc["old_factor_version"]
    assert restatement_diff(
        before, before, ["installation_id", "period", "period_grain"], ["net_tco2e"]
    ).is_empty()
