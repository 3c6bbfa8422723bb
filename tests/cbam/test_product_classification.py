"""The computed table product_classification (what dim_product publishes): the engine's one CN-scope rule."""

from __future__ import annotations

import polars as pl

from transforms.cbam import frames_from_rows
from transforms.cbam.inputs import prepare
from transforms.cbam.products import product_classification
from transforms.computed import computed_table
from transforms.reference.cbam import CbamReference

CN_GOODS = pl.DataFrame(
    [
        {"cn_prefix": "7208", "in_scope": True, "goods_category": "Iron or steel products",
         "annex_ii_direct_only": True, "functional_unit": "t", "workbook_version": "v1"},
        {"cn_prefix": "720810", "in_scope": True, "goods_category": "Six digit match",
         "annex_ii_direct_only": True, "functional_unit": "t", "workbook_version": "v1"},
        {"cn_prefix": "72081000", "in_scope": True, "goods_category": "Eight digit match",
         "annex_ii_direct_only": False, "functional_unit": "t", "declaration_unit": "t", "workbook_version": "v1"},
        {"cn_prefix": "7202", "in_scope": True, "goods_category": "FeMn", "annex_ii_direct_only": True,
         "functional_unit": "t", "workbook_version": "v1"},
        {"cn_prefix": "720221", "in_scope": False, "goods_category": None, "exclusion_reason": "FeSi excluded",
         "workbook_version": "v1"},
    ]
)  # fmt: skip


def _classify() -> pl.DataFrame:
    raw = frames_from_rows(
        {
            "products": [
                {"product_id": pid, "name": pid, "cn_code": cn, "installation_id": "i1", "process_id": proc}
                for pid, cn, proc in (
                    ("coil", "72081000", "hsm"),
                    ("plate", "72089000", "hsm"),
                    ("fesi", "72022100", "alloy"),
                    ("tea", "09021000", "hsm"),
                )
            ],
            "processes": [
                {"installation_id": "i1", "process_id": "hsm", "goods_category": "Iron or steel products"}
            ],
        }
    )
    ref = CbamReference.from_frames(cn_goods=CN_GOODS)
    return product_classification(prepare(raw, "products"), prepare(raw, "processes"), ref).sort("product_id")


def test_longest_prefix_wins_and_an_excluded_longer_prefix_is_not_a_cbam_good() -> None:
    """8 digits beat 6 beat 4; an excluded longer prefix wins; no prefix = not a CBAM good (the cases of the dbt
    unit test that classified products in SQL before the engine's table replaced it)."""
    got = {r["product_id"]: r for r in _classify().iter_rows(named=True)}
    assert (got["coil"]["cn_match_prefix"], got["coil"]["is_cbam_good"], got["coil"]["goods_category"]) == (
        "72081000",
        True,
        "Eight digit match",
    )
    assert got["coil"]["annex_ii_direct_only"] is False and got["coil"]["declaration_unit"] == "t"
    assert (got["plate"]["cn_match_prefix"], got["plate"]["goods_category"]) == (
        "7208",
        "Iron or steel products",
    )
    assert got["plate"]["annex_ii_direct_only"] is True
    fesi = got["fesi"]
    assert (fesi["cn_match_prefix"], fesi["is_cbam_good"], fesi["goods_category"]) == ("720221", False, None)
    assert fesi["cn_exclusion_reason"] == "FeSi excluded" and fesi["process_goods_category"] is None
    tea = got["tea"]
    assert (tea["cn_match_prefix"], tea["is_cbam_good"], tea["goods_category"]) == (None, False, None)
    assert tea["process_goods_category"] == "Iron or steel products" and tea["cn_list_version"] is None
    assert got["coil"]["cn_list_version"] == "v1"


def test_the_engine_publishes_it_in_its_contract_shape() -> None:
    from transforms.cbam.engine import compute_cbam

    raw = frames_from_rows({"products": [{"product_id": "p", "name": "p", "cn_code": "72081000"}]})
    out = compute_cbam(raw, CbamReference.from_frames(cn_goods=CN_GOODS))["product_classification"]
    assert out.schema == computed_table("product_classification").schema
    ((product_id, is_cbam_good, category),) = out.select(
        "product_id", "is_cbam_good", "goods_category"
    ).rows()
    assert (product_id, is_cbam_good, category) == ("p", True, "Eight digit match")
