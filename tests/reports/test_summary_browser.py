"""The summary page in a real browser: Debian's headless Chromium, networking disabled, must open it with no
request leaving the file, no console error, the key figures in the DOM equal to the marts (computed here
independently), Chinese text rendered with a CJK font, and hostile names shown as text without running."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.reports.test_summary import HOSTILE_FORMULA, HOSTILE_SCRIPT, hostile_marts
from transforms.reports import summary
from transforms.reports.base import ReportConfig

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONFIG = ReportConfig(
    run_date=date(2026, 11, 24), certificate_price_eur_per_t=75.5, certificate_price_source="test"
)
CJK = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian package `chromium` with fonts-noto-cjk)"
)


@dataclass
class Visit:
    """What happened while the page was open."""

    blocked: list[str] = field(default_factory=list)  # non-file requests (aborted)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    sync_api = pytest.importorskip("playwright.sync_api")
    user_data = tmp_path_factory.mktemp("chromium-profile")  # fresh profile: no cache, no extensions
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(user_data),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            offline=True,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield ctx
        finally:
            ctx.close()


def open_page(ctx, path: Path):
    """Open a written page with every non-file request aborted and recorded."""
    visit = Visit()
    page = ctx.new_page()

    def route(r) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            visit.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda req: visit.failed.append(f"{req.url}: {req.failure}"))
    page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))

    def dialog(d) -> None:
        visit.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(path.as_uri(), wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, visit


def figure(page, name: str) -> tuple[float, str]:
    el = page.locator(f'[data-figure="{name}"]').first
    return float(el.get_attribute("data-value")), (el.text_content() or "").strip()


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_summary_opens_offline_and_shows_the_marts(
    demo_marts, browser_context, tmp_path_factory: pytest.TempPathFactory
):
    out = tmp_path_factory.mktemp("summary-pages")
    artifacts = tmp_path_factory.getbasetemp() / "artifacts"
    artifacts.mkdir(exist_ok=True)
    lines = demo_marts["fct_cbam_export_lines"].with_columns(y=pl.col("declaration_date").dt.year())
    dq = demo_marts["fct_data_quality"]
    docs = summary.build(demo_marts, CONFIG)
    assert docs
    for doc in docs:
        year = doc.model["year"]
        (path,) = summary.KIND.write(doc, out / doc.key)
        page, visit = open_page(browser_context, path)
        try:
            assert visit.blocked == [] and visit.failed == []
            assert visit.console_errors == [] and visit.page_errors == [] and visit.dialogs == []

            # Key figures in the DOM against the marts, computed here and not by the builder.
            mine = lines.filter(pl.col("y") == year)
            value, text = figure(page, "total/embedded_chargeable_tco2e")
            assert close(value, mine["embedded_chargeable_tco2e"].sum())
            assert text.replace(",", "") == f"{mine['embedded_chargeable_tco2e'].sum():.0f}"
            value, _ = figure(page, "total/net_mass_t")
            assert close(value, mine["net_mass_t"].sum())
            actual = mine.filter(pl.col("determination") == "actual")["embedded_chargeable_tco2e"].sum()
            value, text = figure(page, "determination/actual_share")
            assert close(value, actual / mine["embedded_chargeable_tco2e"].sum()) and text.endswith("%")
            for (eori,), part in mine.group_by(["importer_eori"]):
                value, _ = figure(page, f"importer/{eori}/embedded_chargeable_tco2e")
                assert close(value, part["embedded_chargeable_tco2e"].sum())
            value, _ = figure(page, "stake/extra_cost_eur")
            assert close(value, doc.figures["stake/extra_tco2e"] * 75.5)
            files = dq.filter(pl.col("drop_date").dt.year() == year)
            assert figure(page, "quality/files")[0] == files.height
            assert figure(page, "quality/rows_quarantined")[0] == files["rows_quarantined"].sum()

            # Chinese renders: CJK text in a visible box, with a CJK font the page can use offline.
            zh = page.locator("h1 .zh")
            assert CJK.search(zh.inner_text())
            box = zh.bounding_box()
            assert box and box["width"] > 40 and box["height"] > 10
            assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '中文汇总')")
            assert page.locator("svg.chart").count() >= 5

            shot = artifacts / f"summary-{year}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
            print(f"summary page screenshot: {shot} (page {path.stat().st_size / 1024:.0f} KB)")
        finally:
            page.close()


def test_hostile_names_show_as_text_and_never_run(demo_marts, browser_context, tmp_path: Path):
    marts = hostile_marts(demo_marts)
    doc = summary.build(marts, CONFIG)[-1]
    (path,) = summary.KIND.write(doc, tmp_path)
    page, visit = open_page(browser_context, path)
    try:
        assert visit.dialogs == [] and visit.page_errors == [] and visit.console_errors == []
        assert page.locator("script").count() == 0
        body = page.locator("body").inner_text()
        svg_text = " ".join(page.locator("svg text").all_text_contents())
        assert HOSTILE_SCRIPT in body + svg_text
        assert HOSTILE_FORMULA in body + svg_text
    finally:
        page.close()
