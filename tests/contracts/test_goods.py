"""transforms.reference.goods: the 20 aggregated goods categories, their sectors and accepted spellings."""

from __future__ import annotations

import re

import polars as pl
import pytest

from transforms.paths import REPO_ROOT
from transforms.reference import goods

SPEC_CATEGORIES = [  # docs/landing-zone.md, "Goods categories"
    "Cement clinker", "Cement", "Calcined clay", "Aluminous cement", "Nitric acid", "Urea", "Ammonia",
    "Mixed fertilisers", "Sintered ore", "Pig iron", "FeMn", "FeCr", "FeNi", "DRI", "Crude steel",
    "Iron or steel products", "Unwrought aluminium", "Aluminium products", "Hydrogen", "Electricity",
]  # fmt: skip
TEMPLATE = REPO_ROOT.parent / "shared" / "reference" / "cbam" / "communication_template.xlsx"


def resolve(values: list[str | None], cn_codes: list[str | None] | None = None) -> list[str | None]:
    frame = pl.DataFrame(
        {"v": values, "cn": cn_codes or [None] * len(values)}, schema={"v": pl.String, "cn": pl.String}
    )
    cn = pl.col("cn") if cn_codes is not None else None
    return frame.select(goods.category_expr(pl.col("v"), cn))["v"].to_list()


def test_categories_and_sectors() -> None:
    assert list(goods.CATEGORIES) == SPEC_CATEGORIES
    assert list(goods.SECTOR_OF) == SPEC_CATEGORIES
    assert set(goods.SECTOR_OF.values()) == set(goods.SECTORS)
    assert [c for c in SPEC_CATEGORIES if goods.SECTOR_OF[c] == "cement"] == SPEC_CATEGORIES[:4]
    assert [c for c in SPEC_CATEGORIES if goods.SECTOR_OF[c] == "fertilisers"] == SPEC_CATEGORIES[4:8]
    assert [c for c in SPEC_CATEGORIES if goods.SECTOR_OF[c] == "iron_steel"] == SPEC_CATEGORIES[8:16]
    assert [c for c in SPEC_CATEGORIES if goods.SECTOR_OF[c] == "aluminium"] == SPEC_CATEGORIES[16:18]
    assert set(goods.TEMPLATE_LABEL_OF) == set(SPEC_CATEGORIES)


def test_canonical_names_any_case_resolve_to_themselves() -> None:
    assert resolve(SPEC_CATEGORIES) == SPEC_CATEGORIES
    assert resolve([c.upper() for c in SPEC_CATEGORIES]) == SPEC_CATEGORIES
    assert resolve(["  crude   STEEL ", "ｆｅｍｎ", "dri"]) == [
        "Crude steel",
        "FeMn",
        "DRI",
    ]  # spaces, full-width


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("Sintered Ore", "Sintered ore"),
        ("Calcined clays ", "Calcined clay"),
        ("Direct reduced iron", "DRI"),
        ("Electricity (export to EU)", "Electricity"),
        ("Pig iron", "Pig iron"),
        ("MIXED FERTILISERS", "Mixed fertilisers"),
        ("Ferro-manganese", "FeMn"),
        ("ferrochrome", "FeCr"),
        ("镍铁", "FeNi"),
        ("水泥熟料", "Cement clinker"),
        ("水泥", "Cement"),
        ("未锻轧铝", "Unwrought aluminium"),
    ],
)
def test_aliases(label: str, category: str) -> None:
    assert resolve([label]) == [category]
    assert goods.to_category(label) == category


def test_unknown_and_empty_are_null_never_a_guess() -> None:
    assert resolve(["steel", "cement products", "Alloys", "", "   ", None]) == [None] * 6
    assert goods.to_category("steel") is None and goods.to_category(None) is None


def test_alloys_label_needs_a_cn_code() -> None:
    label = "Alloys (FeMn, FeCr, FeNi)"
    assert resolve([label, label.lower()]) == [None, None]
    assert goods.to_category(label) is None
    cn = ["7202 11 20", "72024190", "7202.60.00", "72081000", None, "７２０２１９００"]
    assert resolve([label] * 6, cn) == ["FeMn", "FeCr", "FeNi", None, None, "FeMn"]
    # a CN code never overrides an unambiguous spelling
    assert resolve(["Crude steel", "FeCr"], ["72021120", "72026000"]) == ["Crude steel", "FeCr"]
    flags = (
        pl.DataFrame({"v": [label, "FeMn", None]}).select(goods.ambiguous_expr(pl.col("v")))["v"].to_list()
    )
    assert flags == [True, False, False]


def test_sector_expr() -> None:
    frame = pl.DataFrame({"c": ["FeNi", "Urea", "Hydrogen", "Electricity", None]})
    got = frame.select(goods.sector_expr(pl.col("c")))["c"].to_list()
    assert got == ["iron_steel", "fertilisers", "hydrogen", "electricity", None]


@pytest.mark.shared
@pytest.mark.skipif(
    not TEMPLATE.exists(), reason="needs ../shared/reference/cbam/communication_template.xlsx"
)
def test_template_labels_are_the_workbooks() -> None:
    """The category labels the template's CN code list uses (Parameters_CNCodes column E → Translations column C)."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(TEMPLATE, read_only=True)
    english = {i: row[2] for i, row in enumerate(wb["Translations"].iter_rows(values_only=True), start=1)}
    refs = {row[4] for row in wb["Parameters_CNCodes"].iter_rows(min_row=4, values_only=True) if row[4]}
    labels = {english[int(m.group(1))] for ref in refs if (m := re.search(r"\$B\$(\d+)", str(ref)))}
    assert labels == set(goods.TEMPLATE_LABEL_OF.values())
    for label in labels:
        assert goods.to_category(label) is not None or label in goods.AMBIGUOUS
