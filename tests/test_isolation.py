"""Isolation of bad data (issue 11, docs/reliability.md "Isolation"): a footprint or inventory row that fails its
rule concerns one installation and year. It never holds back the CBAM tables or another installation's numbers;
the warehouse is built with the row visible; only the documents that read the failing mart for that installation
and year are blocked, each failure in one console line naming the gate, the installation, the rows and the mart.
"""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import polars as pl
import pytest

from expectations import isolation
from expectations import reports as gate
from orchestration.lib.home import Home
from transforms.reports.base import ReportDoc

A, B = "INST-A", "INST-B"


def _footprint(share_a: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "product_id": ["P1", "P1", "P2"],
            "installation_id": [A, A, B],
            "period": ["2026", "2026-03", "2026"],
            "period_grain": ["year", "month", "year"],
            "cradle_to_gate_tco2e_per_t": [2.0, 2.1, 1.5],
            "primary_data_share": [share_a, share_a, 0.8],
            "renewable_electricity_share": [None, None, 0.1],
            "data_quality_score": [2.0, 2.0, 3.0],
        }
    )


def _inventory(share_a: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "installation_id": [A, B, B],
            "period": ["2026", "2026", "2025"],
            "period_grain": ["year", "year", "year"],
            "scope1_tco2e": [10.0, 20.0, None],  # a year without plant data: null, not a failure
            "scope2_location_tco2e": [1.0, 2.0, 0.0],
            "scope2_market_tco2e": [1.0, 2.0, 0.0],
            "renewable_electricity_share": [share_a, 0.3, 0.0],
        }
    )


def _doc(kind: str, installations: set[str], year: int = 2026) -> ReportDoc:
    return ReportDoc(
        kind, f"{kind}-{year}", kind, None, {}, installations=frozenset(installations), meta={"year": year}
    )


def test_row_rules_name_only_the_failing_installation_with_rows_and_mart():
    found = isolation.findings({"product_footprint": _footprint(1.37), "site_inventory": _inventory(0.5)})
    assert set(found["installation"]) == {A}
    (line,) = isolation.lines(found, "computed gate")
    assert line.startswith(
        f"computed gate: installation {A} 2026: primary_data_share is outside 0..1 in 2 row(s)"
    )
    assert "P1 2026 = 1.37" in line and "P1 2026-03 = 1.37" in line
    assert "of product_footprint (see marts.fct_product_footprint): " in line
    clean = isolation.findings({"product_footprint": _footprint(0.9), "site_inventory": _inventory(0.5)})
    assert clean.is_empty()


def test_report_gate_blocks_only_documents_reading_the_failing_mart_for_that_installation():
    marts = {"fct_product_footprint": _footprint(0.9), "fct_site_ghg_inventory": _inventory(1.5)}
    by_mart = gate.mart_failures(marts)
    assert list(by_mart) == [("fct_site_ghg_inventory", A, "2026")]
    reads_inventory = ("fct_site_ghg_inventory", "fct_goods_see")
    reads_cbam = ("fct_goods_see", "fct_process_see")
    summary_all = _doc("summary", {A, B})
    comm_a, comm_b = _doc("operator_communication", {A}), _doc("operator_communication", {B})
    blocked = gate.doc_failures(summary_all, {}, by_mart, reads_inventory)
    assert len(blocked) == 1 and blocked[0].startswith(f"report gate: installation {A} 2026:")
    assert "see marts.fct_site_ghg_inventory" in blocked[0]
    assert gate.doc_failures(comm_a, {}, by_mart, reads_cbam) == []  # A's CBAM report does not read it
    assert gate.doc_failures(_doc("summary", {B}), {}, by_mart, reads_inventory) == []  # B is clean
    assert gate.doc_failures(comm_b, {}, by_mart, reads_cbam) == []
    assert gate.doc_failures(_doc("summary", {A, B}, 2025), {}, by_mart, reads_inventory) == []  # other year


def test_failing_footprint_gate_is_a_warning_and_publishes_the_tables(tmp_path):
    from orchestration.defs.compute.assets import _publish
    from orchestration.lib.config import LingtanConfig

    home = Home(tmp_path / "home")
    tables = {"site_inventory": _inventory(0.5), "product_footprint": _footprint(1.37)}  # not the first table
    reconcile = lambda t: isolation.lines(isolation.findings(t), "computed gate")  # noqa: E731
    out = list(
        _publish(None, LingtanConfig(landing=str(tmp_path), home=str(home.root)), tables, reconcile, True)
    )
    checks = {r.asset_key.path[-1]: r for r in out if isinstance(r, dg.AssetCheckResult)}
    assert not checks["product_footprint"].passed and checks["site_inventory"].passed
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in checks.values())
    assert "primary_data_share is outside 0..1" in checks["product_footprint"].metadata["details"].value
    assert {r.asset_key.path[-1] for r in out if isinstance(r, dg.MaterializeResult)} == set(tables)
    published = pl.read_parquet(home.computed_table("product_footprint"))
    assert published["primary_data_share"].max() == 1.37  # visible in the lake and the marts, not hidden


def test_cbam_gate_still_blocks(tmp_path):
    from orchestration.defs.compute.assets import _publish
    from orchestration.lib.config import LingtanConfig

    home = Home(tmp_path / "home")
    gen = _publish(
        None, LingtanConfig(landing=str(tmp_path), home=str(home.root)), {"x": pl.DataFrame({"a": [1]})},
        lambda t: ["installation X 2026: direct 1 != Σ streams 2"],
    )  # fmt: skip
    with pytest.raises(dg.Failure, match="computed gate failed"):
        list(gen)
    assert not home.computed_table("x").exists()


@pytest.mark.slow
def test_failing_footprint_of_one_installation_blocks_only_what_reads_it(
    demo_home: Home, tmp_path, monkeypatch
):
    """The demo home, rerun with one installation's footprint share and renewable share out of range (the
    footprint engine's output altered for CN-ZJ-001 only): the warehouse is published with those rows, the CBAM
    communications of both installations are not blocked, the summary (which reads the site inventory and
    covers CN-ZJ-001) is, with one console line per failure naming the gate, installation, rows and mart."""
    import transforms.ghg.compute as ghg
    from orchestration.lib.reports import versions
    from orchestration.pipeline import run_nightly

    bad = "CN-ZJ-001"
    real = ghg.compute_ghg

    def altered(*args, **kwargs):
        t = real(*args, **kwargs)
        for name, col in (
            ("product_footprint", "primary_data_share"),
            ("site_inventory", "renewable_electricity_share"),
        ):
            t[name] = t[name].with_columns(
                pl.when(pl.col("installation_id") == bad).then(1.37).otherwise(pl.col(col)).alias(col)
            )
        return t

    monkeypatch.setattr(ghg, "compute_ghg", altered)
    root = tmp_path / "copy"
    shutil.copytree(demo_home.root.parent / "landing", root / "landing", symlinks=True)
    # without its run records the copy has no earlier run to be "unchanged since" (orchestration/lib/incremental)
    shutil.copytree(
        demo_home.root, root / "home", symlinks=True, ignore=shutil.ignore_patterns("dagster", "runs")
    )
    home = Home(root / "home")
    # the engine must run again: a rerun with unchanged inputs replays its last verdicts (orchestration/lib/incremental)
    for stamp in home.computed_table("x").parent.glob("_footprint_engines*.stamp.json"):
        stamp.unlink()
    before = home.warehouse.stat().st_mtime_ns
    lines: list[str] = []
    out = run_nightly(
        str(root / "landing"), str(home.root), date(2026, 11, 24), echo=lines.append, record=False
    )

    # only the report step "fails", by its own blocking report gate (the run exits 2); nothing upstream failed
    assert [s.split(":")[0] for s in out.failed_steps] in ([], ["reports"]), out.failed_steps
    assert home.warehouse.stat().st_mtime_ns != before, "the warehouse was published"
    import duckdb

    con = duckdb.connect(str(home.warehouse), read_only=True)
    shown = con.execute(
        "select count(*) from marts.fct_product_footprint where installation_id = ? and primary_data_share = 1.37",
        [bad],
    ).fetchone()[0]
    con.close()
    assert shown > 0, "analysts can see the failing rows in the marts"
    console = "\n".join(lines)
    assert f"warning  computed/product_footprint:computed_gate  computed gate: installation {bad}" in console
    blocked = [ln for ln in lines if "gate blocked" in ln and "report_gate" in ln]
    assert blocked and all(bad in ln and "see marts.fct_site_ghg_inventory" in ln for ln in blocked), blocked
    assert not any("operator_communication" in c for c in out.failed_checks if "report gate" in c)
    for key in (
        f"{bad}_2026",
        "CN-GD-002_2026",
    ):  # CBAM reports of both installations: still there, not blocked
        assert versions(home, "operator_communication", key), key
