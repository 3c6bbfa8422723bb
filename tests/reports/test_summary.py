"""The summary page: figures from the demo marts (computed again here, independently), the page written from
them (self-contained, escaped, deterministic) and its check, which must catch a tampered or leaky page."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import lxml.html
import polars as pl
import pytest

from transforms.reports import summary
from transforms.reports.base import ReportConfig
from transforms.reports.writers import summary_html

RUN = ReportConfig(run_date=date(2026, 11, 24))
PRICED = ReportConfig(
    run_date=date(2026, 11, 24), certificate_price_eur_per_t=80.0, certificate_price_source="test"
)
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_FORMULA = '=HYPERLINK("x")'


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def docs(demo_marts):
    return {d.model["year"]: d for d in summary.build(demo_marts, PRICED)}


def test_one_doc_per_year_with_the_kind_contract(demo_marts, docs):
    years = set(demo_marts["fct_cbam_export_lines"]["declaration_date"].dt.year().unique().to_list())
    assert years and years <= set(docs)
    for year, doc in docs.items():
        assert doc.kind == summary.KIND.name == "summary"
        assert doc.key == f"home_{year}"
        assert summary.KIND.writer_version == "summary-html/1"
        assert doc.sources and all("#" not in s and s.count("/") >= 2 for s in doc.sources)
        assert doc.installations


def test_totals_and_rankings_equal_the_export_lines_mart(demo_marts, docs):
    lines = demo_marts["fct_cbam_export_lines"].with_columns(y=pl.col("declaration_date").dt.year())
    for year, doc in docs.items():
        mine = lines.filter(pl.col("y") == year)
        f = doc.figures
        assert close(f["total/embedded_chargeable_tco2e"], mine["embedded_chargeable_tco2e"].sum())
        assert close(f["total/net_mass_t"], mine["net_mass_t"].sum())
        assert f["total/export_lines"] == mine.height
        for (eori,), part in mine.group_by(["importer_eori"]):
            assert close(
                f[f"importer/{eori}/embedded_chargeable_tco2e"], part["embedded_chargeable_tco2e"].sum()
            )
        for (pid,), part in mine.group_by(["product_id"]):
            assert close(
                f[f"product/{pid}/embedded_chargeable_tco2e"], part["embedded_chargeable_tco2e"].sum()
            )
        months = sum(
            f[k]
            for k in f
            if k.startswith("month/") and k.endswith("chargeable_tco2e") and isinstance(f[k], float)
        )
        assert close(months, f["total/embedded_chargeable_tco2e"])


def test_sources_add_up_to_direct_plus_indirect_and_precursors_match_process_see(demo_marts, docs):
    proc = demo_marts["fct_process_see"]
    for doc in docs.values():
        f = doc.figures
        parts = [k for k in f if k.startswith("source/") and k.endswith("_tco2e") and "transport" not in k]
        total = f["total/embedded_direct_tco2e"] + f["total/embedded_indirect_tco2e"]
        assert close(sum(f[k] for k in parts), total)
        assert f["source/precursors_direct_tco2e"] > 0 and f["source/own_direct_tco2e"] > 0
    # Independently: own part = mass × own SEE of the producing process (goods → process), per line.
    lines = demo_marts["fct_cbam_export_lines"].filter(pl.col("determination") == "actual")
    goods = demo_marts["fct_goods_see"].select(
        "installation_id",
        "product_id",
        pl.col("period").alias("production_period"),
        "period_grain",
        "process_id",
    )
    own = (
        lines.join(goods, on=["installation_id", "product_id", "production_period", "period_grain"])
        .join(
            proc.select(
                "installation_id",
                "process_id",
                pl.col("period").alias("production_period"),
                "period_grain",
                "own_see_direct",
            ),
            on=["installation_id", "process_id", "production_period", "period_grain"],
        )
        .group_by(pl.col("declaration_date").dt.year().alias("y"))
        .agg((pl.col("net_mass_t") * pl.col("own_see_direct")).sum().alias("own"))
    )
    for y, v in own.iter_rows():
        assert close(docs[y].figures["source/own_direct_tco2e"], v)


def test_transport_and_sites_and_quality_come_from_their_marts(demo_marts, docs):
    ship = demo_marts["fct_shipment_emissions"]
    inv = demo_marts["fct_site_ghg_inventory"].filter(pl.col("period_grain") == "year")
    dq = demo_marts["fct_data_quality"]
    for year, doc in docs.items():
        f = doc.figures
        out = ship.filter((pl.col("ship_date").dt.year() == year) & (pl.col("direction") == "outbound"))
        assert close(f["source/transport_outbound_wtw_tco2e"], out["wtw_tco2e"].sum())
        for r in inv.filter(pl.col("period") == str(year)).iter_rows(named=True):
            site = f"site/{r['installation_id']}"
            assert close(f[f"{site}/scope1_tco2e"], r["scope1_tco2e"])
            assert close(f[f"{site}/renewable_electricity_share"], r["renewable_electricity_share"])
        files = dq.filter(pl.col("drop_date").dt.year() == year)
        assert f["quality/files"] == files.height
        assert f["quality/rows_quarantined"] == files["rows_quarantined"].sum()


def test_money_at_stake_prices_the_default_what_if(demo_marts):
    plain = {d.key: d for d in summary.build(demo_marts, RUN)}
    priced = {d.key: d for d in summary.build(demo_marts, PRICED)}
    for key, doc in priced.items():
        f, g = doc.figures, plain[key].figures
        assert (
            f["stake/extra_tco2e"]
            == f["stake/if_default_chargeable_tco2e"] - f["stake/actual_chargeable_tco2e"]
        )
        assert close(f["stake/extra_cost_eur"], f["stake/extra_tco2e"] * 80.0)
        assert g["stake/extra_cost_eur"] is None and g["stake/certificate_price_eur_per_t"] is None
        assert g["stake/extra_tco2e"] == f["stake/extra_tco2e"]
        # China's default values with the mark-up exceed the demo plants' actual SEE.
        assert f["stake/extra_tco2e"] > 0


def test_written_page_passes_its_check_and_is_deterministic(demo_marts, docs, tmp_path: Path):
    for doc in docs.values():
        a, b = tmp_path / "a" / doc.key, tmp_path / "b" / doc.key
        (pa,) = summary.KIND.write(doc, a)
        again = {d.key: d for d in summary.build(demo_marts, PRICED)}[doc.key]
        (pb,) = summary.KIND.write(again, b)
        assert pa.read_bytes() == pb.read_bytes()
        assert summary.KIND.check(doc, a, demo_marts) == []
        root = lxml.html.document_fromstring(pa.read_text(encoding="utf-8"))
        shown = {el.get("data-figure") for el in root.xpath("//*[@data-figure]")}
        assert set(summary_html.KEY_FIGURES) <= shown
        assert root.xpath("//svg") and not root.xpath("//script|//link|//img")
        html = pa.read_text(encoding="utf-8")
        zc = demo_marts.get("fct_zero_carbon_indicators")
        parks = (
            None
            if zc is None
            else zc.filter(pl.col("park_id").is_not_null() & (pl.col("year") == doc.key[-4:]))
        )
        if parks is None or parks.is_empty():
            assert "暂无数据" in html  # no park indicators: said so, never "passed"
        else:  # P1 on both bases, each its own figure
            assert "P1 (physical only)" in html and "P1 (with certificates)" in html


def test_page_without_price_says_so(demo_marts, tmp_path: Path):
    doc = summary.build(demo_marts, RUN)[-1]
    (path,) = summary.KIND.write(doc, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "no certificate price configured" in text and summary.KIND.check(doc, tmp_path, demo_marts) == []


def test_check_catches_a_tampered_or_leaky_page(demo_marts, docs, tmp_path: Path):
    doc = docs[max(docs)]
    (path,) = summary.KIND.write(doc, tmp_path)
    good = path.read_text(encoding="utf-8")
    total = doc.figures["total/embedded_chargeable_tco2e"]
    tampered = good.replace(f'data-value="{total!r}"', f'data-value="{total + 1!r}"', 1)
    assert tampered != good
    path.write_text(tampered, encoding="utf-8")
    assert any("total/embedded_chargeable_tco2e" in p for p in summary.KIND.check(doc, tmp_path, demo_marts))
    path.write_text(good.replace("</body>", '<img src="https://example.com/x.png"></body>'), encoding="utf-8")
    problems = summary.KIND.check(doc, tmp_path, demo_marts)
    assert any("external" in p for p in problems) and any("<img>" in p for p in problems)
    path.write_text(good.replace("<style>", "<style>@import 'x.css';"), encoding="utf-8")
    assert any("external" in p for p in summary.KIND.check(doc, tmp_path, demo_marts))
    path.unlink()
    assert any("not written" in p for p in summary.KIND.check(doc, tmp_path, demo_marts))


def hostile_marts(marts):
    """The demo marts with an importer and a product named like an attack (HTML and spreadsheet formula)."""
    lines = marts["fct_cbam_export_lines"]
    eori = lines["importer_eori"].drop_nulls().sort()[0]
    products = marts["dim_product"]
    pid = products["product_id"].sort()[0]
    return {
        **marts,
        "fct_cbam_export_lines": lines.with_columns(
            importer_name=pl.when(pl.col("importer_eori") == eori)
            .then(pl.lit(HOSTILE_SCRIPT))
            .otherwise(pl.col("importer_name"))
        ),
        "dim_product": products.with_columns(
            name_en=pl.when(pl.col("product_id") == pid)
            .then(pl.lit(HOSTILE_FORMULA))
            .otherwise(pl.col("name_en"))
        ),
    }


def test_hostile_names_are_text_on_the_page(demo_marts, tmp_path: Path):
    marts = hostile_marts(demo_marts)
    doc = summary.build(marts, RUN)[-1]
    (path,) = summary.KIND.write(doc, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert HOSTILE_SCRIPT not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    root = lxml.html.document_fromstring(text)
    assert not root.xpath("//script")
    labels = [el.text_content() for el in root.xpath("//*[@data-figure]")] + [
        t.text_content() for t in root.xpath("//text|//title")
    ]
    assert any(HOSTILE_SCRIPT in t for t in labels)
    assert any(HOSTILE_FORMULA in t for t in labels)
    assert summary.KIND.check(doc, tmp_path, marts) == []


def test_figures_do_not_depend_on_the_marts_row_order(demo_marts, docs):
    """Float sums in one fixed order: a re-run over the same data (rows in another order) publishes nothing."""
    shuffled = {
        name: df.sample(fraction=1.0, shuffle=True, seed=3)
        for name, df in demo_marts.items()
        if name in ("fct_cbam_export_lines", "fct_shipment_emissions", "fct_goods_see", "fct_process_see")
    }
    again = {d.model["year"]: d for d in summary.build({**demo_marts, **shuffled}, PRICED)}
    assert {y: d.fingerprint() for y, d in again.items()} == {y: d.fingerprint() for y, d in docs.items()}


def test_park_indicators_show_when_the_mart_exists(demo_marts, tmp_path: Path):
    """outputs.md fct_zero_carbon_indicators (site or park × year × indicator): park rows appear, site rows not."""
    zc = pl.DataFrame(
        {
            "park_id": ["city:CN:宁波", None],
            "installation_id": [None, "CN-ZJ-001"],
            "year": [2026, 2026],
            "indicator_id": ["P2", "F3"],
            "name_en": ["Clean-energy share", "Physically delivered non-fossil power share"],
            "name_zh": ["清洁能源消费占比", "非化石电力物理认定量占比"],
            "value": [0.42, 0.3],
            "unit": ["fraction", "fraction"],
            "threshold": [0.9, None],
            "passes": [False, None],
        }
    )
    doc = summary.build({**demo_marts, "fct_zero_carbon_indicators": zc}, RUN)[-1]
    assert doc.model["year"] == doc.meta["year"] == 2026
    assert (
        doc.figures["park/city:CN:宁波/P2/value"] == 0.42
        and doc.figures["park/city:CN:宁波/P2/passes"] is False
    )
    assert not any(k.startswith("park/") and "F3" in k for k in doc.figures)
    (path,) = summary.KIND.write(doc, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "清洁能源消费占比" in text and "fail · 未达标" in text and "园区指标尚未计算" not in text
    assert summary.KIND.check(doc, tmp_path, demo_marts) == []


def test_long_rankings_fold_into_others_and_keep_every_figure(demo_marts, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(summary, "TOP_N", 4)
    doc = summary.build(demo_marts, RUN)[-1]
    f = doc.figures
    importers = [k for k in f if k.startswith("importer/") and k.endswith("/embedded_chargeable_tco2e")]
    assert len(importers) > 4 and len(doc.model["importers"]) == 4 and doc.model["importers"][-1].get("other")
    shown = sum(r["value"] for r in doc.model["importers"][:3])
    assert close(shown + f["importers_other/embedded_chargeable_tco2e"], f["total/embedded_chargeable_tco2e"])
    assert f["importers_other/count"] == len(importers) - 3
    (path,) = summary.KIND.write(doc, tmp_path)
    assert "others" in path.read_text(encoding="utf-8")
    assert summary.KIND.check(doc, tmp_path, demo_marts) == []
