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
from orchestration.defs.compute.ems import CARRY_DIR
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
    out = list(
        _publish(None, LingtanConfig(landing=str(tmp_path), home=str(home.root)), tables, lambda t: [], True)
    )
    checks = {r.asset_key.path[-1]: r for r in out if isinstance(r, dg.AssetCheckResult)}
    assert not checks["product_footprint"].passed and checks["site_inventory"].passed
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in checks.values())
    assert "primary_data_share is outside 0..1" in checks["product_footprint"].metadata["details"].value
    assert {r.asset_key.path[-1] for r in out if isinstance(r, dg.MaterializeResult)} == set(tables)
    published = pl.read_parquet(home.computed_table("product_footprint"))
    assert published["primary_data_share"].max() == 1.37  # visible in the lake and the marts, not hidden


def _goods(see_direct_a: float, **over) -> pl.DataFrame:
    df = pl.DataFrame(
        {
            "installation_id": [A, A, B],
            "product_id": ["G1", "G1", "G2"],
            "period": ["2026", "2026-02", "2026"],
            "period_grain": ["year", "month", "year"],
            "cn_code": ["72081000", "72081000", "76011000"],
            "see_direct": [see_direct_a, see_direct_a, 1.2],
            "see_indirect": [0.3, 0.3, 0.4],
            "see_total": [2.0, 2.0, 1.6],
            "see_chargeable": [1.7, 1.7, 1.2],
            "default_value_share": [0.0, 0.0, 0.5],
        }
    )
    return df.with_columns(**{k: pl.lit(v) for k, v in over.items()}) if over else df


def _emissions(direct_a: float) -> dict[str, pl.DataFrame]:
    """An installation total that is not the sum of its source streams (A only)."""
    ie = pl.DataFrame(
        {
            "installation_id": [A, B],
            "period": ["2026", "2026"],
            "period_grain": ["year", "year"],
            "direct_tco2e": [direct_a, 5.0],
            "indirect_tco2e": [1.0, 1.0],
            "biomass_tco2e": [0.0, 0.0],
            "electricity_mwh": [3.0, 3.0],
            "sum_dirEm_tco2e": [direct_a, 5.0],
            "reconciliation_diff_tco2e": [0.0, 0.0],
        }
    )
    se = pl.DataFrame(
        {
            "installation_id": [A, A, B],
            "period": ["2026"] * 3,
            "period_grain": ["year"] * 3,
            "fossil_tco2e": [4.0, 6.0, 5.0],
        }
    )
    return {"installation_emissions": ie, "stream_emissions": se}


def _hourly(expected_a: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "installation_id": [A, B],
            "meter_id": ["M-A", "M-B"],
            "hour_start": ["2026-03-01 10:00:00", "2026-03-01 10:00:00"],
            "quantity": [12.5, 8.0],
            "intervals_expected": [expected_a, 4],
            "intervals_measured": [4, 4],
            "intervals_estimated": [0, 0],
            "intervals_missing": [0, 0],
        }
    )


def test_cbam_row_rules_and_reconciliations_name_only_the_failing_installation():
    found = isolation.findings({"goods_see": _goods(-1.7), **_emissions(12.0)})
    assert set(found["installation"]) == {A} and set(found["year"]) == {"2026"}
    got = isolation.lines(found, "computed gate")
    assert any(
        ln.startswith(
            f"computed gate: installation {A} 2026: see_direct is negative in 2 row(s) of goods_see "
        )
        and "(see marts.fct_goods_see): G1 2026 = -1.7, G1 2026-02 = -1.7" in ln
        for ln in got
    ), got
    assert any(
        "direct_tco2e is not Σ stream fossil emissions in 1 row(s) of installation_emissions "
        "(see marts.fct_installation_emissions): 2026 = 12.0 vs Σ streams 10.0" in ln
        for ln in got
    ), got
    assert isolation.findings({"goods_see": _goods(1.7), **_emissions(10.0)}).is_empty()
    # the same rules on the marts (the report gate), whose columns the marts rename
    marts = {
        "fct_installation_emissions": _emissions(12.0)["installation_emissions"].rename(
            {"sum_dirEm_tco2e": "sum_process_dir_em_tco2e"}
        ),
        "fct_stream_emissions": _emissions(12.0)["stream_emissions"],
    }
    assert set(isolation.findings(marts, by_mart=True)["rule"]) == {
        "direct_tco2e is not Σ stream fossil emissions"
    }


def test_what_no_installation_can_be_blamed_for_is_structural():
    assert isolation.structural(
        {"goods_see": _goods(1.7).drop("see_direct")}, ("goods_see", "export_lines")
    ) == [
        "export_lines: table missing (the engine did not produce it)",
        "goods_see: column(s) see_direct missing (schema broken)",
    ]
    lone = {"installation_emissions": _emissions(10.0)["installation_emissions"]}
    assert isolation.structural(lone) == ["stream_emissions: table missing (the engine did not produce it)"]
    keyless = _goods(1.7).with_columns(installation_id=pl.lit(None, pl.String))
    (line,) = isolation.structural({"goods_see": keyless})
    assert line == "goods_see: installation_id is missing (a key) in 3 row(s) (see marts.fct_goods_see)"
    assert isolation.findings({"goods_see": keyless}).is_empty()  # blocking, so not a finding as well
    assert isolation.structural({"goods_see": _goods(-1.7)}) == []  # a bad value is a finding, not structural


def test_report_gate_blocks_the_documents_built_from_a_bad_cbam_row_of_one_installation():
    by_mart = gate.mart_failures({"fct_goods_see": _goods(-1.7)})
    comm = ("fct_goods_see", "fct_process_see", "fct_installation_emissions")
    declaration = ("fct_cbam_declaration_lines", "fct_cbam_export_lines")
    summary = ("fct_site_ghg_inventory", "fct_zero_carbon_indicators")
    (a,) = gate.doc_failures(_doc("operator_communication", {A}), {}, by_mart, comm)
    assert a.startswith(
        f"report gate: installation {A} 2026: see_direct is negative in 2 row(s) of goods_see"
    )
    assert "(see marts.fct_goods_see)" in a
    # the export lines and declaration lines are built from the goods' SEE: a declaration covering A is blocked
    assert gate.doc_failures(_doc("cbam_declaration", {A, B}), {}, by_mart, declaration) == [a]
    assert gate.doc_failures(_doc("operator_communication", {B}), {}, by_mart, comm) == []
    assert gate.doc_failures(_doc("cbam_declaration", {B}), {}, by_mart, declaration) == []
    assert gate.doc_failures(_doc("summary", {A, B}), {}, by_mart, summary) == []  # reads no CBAM mart here
    assert gate.doc_failures(_doc("operator_communication", {A}, 2025), {}, by_mart, comm) == []


def test_report_gate_blocks_what_reads_a_miscounted_balance_or_park_indicator_only():
    # the hours themselves are checked by the computed gate; the report gate reads the balance that sums them
    assert "fct_meter_hourly" not in isolation.MARTS
    assert gate.mart_failures({"fct_meter_hourly": _hourly(5)}) == {}
    balance = _hourly(5).select(
        "installation_id", "intervals_expected", "intervals_measured", "intervals_estimated", "intervals_missing",
        period=pl.lit("2026-03"), period_grain=pl.lit("month"),
    )  # fmt: skip
    by_mart = gate.mart_failures({"fct_energy_balance": balance})
    assert {k[1:] for k in by_mart} == {(A, "2026")}
    summary = (
        "fct_site_ghg_inventory",
        "fct_zero_carbon_indicators",
    )  # indicators are built from the balance
    (line,) = gate.doc_failures(_doc("summary", {A, B}), {}, by_mart, summary)
    assert (
        "intervals_expected is not measured + estimated + missing (the hours: fct_meter_hourly) in 1 row(s)"
        in line
    )
    assert "of energy_balance (see marts.fct_energy_balance): 2026-03 = 5" in line
    assert gate.doc_failures(_doc("summary", {B}), {}, by_mart, summary) == []
    assert gate.doc_failures(_doc("operator_communication", {A}), {}, by_mart, ("fct_goods_see",)) == []
    park = pl.DataFrame(
        {
            "level": ["park", "site"],
            "entity_id": ["PARK-1", B],
            "year": [2026, 2026],
            "indicator_id": ["P1", "F1"],
            "basis": ["x", "x"],
            "value": [None, 0.4],
            "passes": [True, True],
            "status": ["no data", "pass"],
        }
    )
    by_park = gate.mart_failures({"fct_zero_carbon_indicators": park})
    assert {k[1] for k in by_park} == {isolation.EVERY_INSTALLATION}
    got = gate.doc_failures(_doc("summary", {B}), {}, by_park, summary)  # a park row: every installation
    assert len(got) == 2, got  # a pass with status 'no data': both indicator rules
    assert all("PARK-1" in ln and "see marts.fct_zero_carbon_indicators" in ln for ln in got), got


def _cfg(tmp_path):
    from orchestration.lib.config import LingtanConfig

    return LingtanConfig(landing=str(tmp_path), home=str(tmp_path / "home"))


def test_cbam_row_finding_publishes_with_a_warning_and_a_structural_failure_blocks(tmp_path):
    from orchestration.defs.compute.assets import _publish

    home = Home(tmp_path / "home")
    tables = {"goods_see": _goods(-1.7), **_emissions(10.0)}
    out = list(_publish(None, _cfg(tmp_path), tables, lambda t: []))
    checks = {r.asset_key.path[-1]: r for r in out if isinstance(r, dg.AssetCheckResult)}
    assert not checks["goods_see"].passed and checks["goods_see"].severity == dg.AssetCheckSeverity.WARN
    assert checks["installation_emissions"].passed and checks["stream_emissions"].passed
    assert f"installation {A} 2026: see_direct is negative" in checks["goods_see"].metadata["details"].value
    assert pl.read_parquet(home.computed_table("goods_see"))["see_direct"].min() == -1.7  # published, visible

    broken = {"goods_see": _goods(1.7).drop("see_total")}
    with pytest.raises(dg.Failure, match="computed gate failed: goods_see: column.s. see_total missing"):
        list(_publish(None, _cfg(tmp_path / "b"), broken, lambda t: []))
    assert not Home(tmp_path / "b" / "home").computed_table("goods_see").exists()
    with pytest.raises(dg.Failure, match="computed gate failed"):  # the engine's own blocking lines
        list(
            _publish(
                None, _cfg(tmp_path / "c"), {"x": pl.DataFrame({"a": [1]})}, lambda t: ["x: key repeated"]
            )
        )
    assert not Home(tmp_path / "c" / "home").computed_table("x").exists()


def test_ems_gate_publishes_a_bad_hour_with_a_warning(tmp_path):
    from expectations.ems import interval_count_problems, reconcile_ems
    from orchestration.defs.compute.assets import gate_results
    from orchestration.lib.compute import publish_audited

    home = Home(tmp_path / "home")
    hourly = _hourly(5).with_columns(hour_start_utc=pl.col("hour_start"), intervals_missing=pl.lit(0))
    balance = pl.DataFrame(
        {
            "installation_id": [A],
            "period": ["2026"],
            "period_grain": ["year"],
            "renewable_share_hourly": [0.2],
            "metering_completeness": [1.0],
            "hours_total": [8760],
            "hours_with_data": [8760],
            **{c: [35040] for c in ("intervals_expected", "intervals_measured")},
            **{c: [0] for c in ("intervals_estimated", "intervals_missing")},
        }
    )
    tables = {"meter_hourly": hourly, "energy_balance": balance}

    audited = publish_audited(home, tables, reconcile_ems)
    assert audited.gate.passed and home.computed_table("meter_hourly").exists()
    res = {r.asset_key.path[-1]: r for r in gate_results(list(tables), audited, "EMS gate")}
    assert not res["meter_hourly"].passed and res["meter_hourly"].severity == dg.AssetCheckSeverity.WARN
    assert res["energy_balance"].passed
    (count,) = interval_count_problems(hourly)
    assert count.startswith(f"interval counts: installation {A} 2026: intervals_expected is not measured")
    dupes = {"meter_hourly": pl.concat([hourly, hourly]), "energy_balance": balance}
    blocked = publish_audited(Home(tmp_path / "d"), dupes, reconcile_ems)
    assert not blocked.gate.passed and not Home(tmp_path / "d").computed_table("meter_hourly").exists()
    with pytest.raises(dg.Failure, match="EMS gate: computed gate failed: meter_hourly: 2 rows repeat"):
        list(gate_results(list(dupes), blocked, "EMS gate"))


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


@pytest.mark.slow
def test_bad_cbam_row_of_one_installation_and_bad_meter_hours_of_the_other_block_only_what_reads_them(
    demo_home: Home, tmp_path, monkeypatch
):
    """The demo home rerun with the CBAM engine's goods SEE of CN-ZJ-001 in 2026 negative and the interval
    engine's hours of CN-GD-002 in 2026 miscounted: no step but the reports fails, the warehouse is published
    with the rows, the console names each gate, installation, rows and mart; CN-GD-002's CBAM communication is
    not blocked (it reads no EMS mart), CN-ZJ-001's 2026 one is (it reads fct_goods_see)."""
    import duckdb

    import transforms.cbam.engine as cbam
    import transforms.ems as ems
    from orchestration.lib.reports import versions
    from orchestration.pipeline import run_nightly

    bad_cbam, bad_ems = "CN-ZJ-001", "CN-GD-002"
    real_cbam, real_ems = cbam.compute_cbam, ems.run_ems
    in_2026 = pl.col("period").str.starts_with("2026")

    def cbam_altered(*args, **kwargs):
        t = real_cbam(*args, **kwargs)
        hit = (pl.col("installation_id") == bad_cbam) & in_2026 & (pl.col("see_direct") > 0)
        t["goods_see"] = t["goods_see"].with_columns(
            see_direct=pl.when(hit).then(-pl.col("see_direct")).otherwise(pl.col("see_direct"))
        )
        return t

    def ems_altered(raw, sink, *args, **kwargs):
        hit = (pl.col("installation_id") == bad_ems) & (pl.col("hour_start").dt.year() == 2026)

        def altered(part: pl.DataFrame) -> None:  # each batch of the hourly table (a carried run's too)
            sink(
                part.with_columns(
                    intervals_expected=pl.when(hit)
                    .then(pl.col("intervals_expected") + 1)
                    .otherwise(pl.col("intervals_expected"))
                )
            )

        return real_ems(raw, altered, *args, **kwargs)

    monkeypatch.setattr(cbam, "compute_cbam", cbam_altered)
    monkeypatch.setattr(ems, "run_ems", ems_altered)
    root = tmp_path / "copy"
    shutil.copytree(demo_home.root.parent / "landing", root / "landing", symlinks=True)
    shutil.copytree(
        demo_home.root, root / "home", symlinks=True, ignore=shutil.ignore_patterns("dagster", "runs")
    )
    home = Home(root / "home")
    for stamp in home.computed.glob(
        "_*.stamp.json"
    ):  # every engine runs again (no "inputs unchanged" replay)
        stamp.unlink()
    # and the interval engine over every reading: an incremental run keeps the carried hours as published (the dbt
    # step then rebuilds fct_meter_hourly from its `since` only), and this altered engine changes hours of 2026
    shutil.rmtree(home.computed / CARRY_DIR)
    before = home.warehouse.stat().st_mtime_ns
    lines: list[str] = []
    out = run_nightly(
        str(root / "landing"), str(home.root), date(2026, 11, 24), echo=lines.append, record=False
    )

    assert [s.split(":")[0] for s in out.failed_steps] in ([], ["reports"]), out.failed_steps
    assert home.warehouse.stat().st_mtime_ns != before, "the warehouse was published"
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        negative = con.execute(
            "select count(*) from marts.fct_goods_see where installation_id = ? and see_direct < 0",
            [bad_cbam],
        ).fetchone()[0]
        miscounted = con.execute(
            "select count(distinct installation_id) from marts.fct_meter_hourly where intervals_expected <> "
            "intervals_measured + intervals_estimated + intervals_missing"
        ).fetchone()[0]
    finally:
        con.close()
    assert negative > 0 and miscounted == 1, "analysts can see the failing rows in the marts"
    console = "\n".join(lines)
    assert (
        f"warning  computed/goods_see:computed_gate  computed gate: installation {bad_cbam} 2026: see_direct is "
        "negative in " in console
    ), console[-4000:]
    assert "of goods_see (see marts.fct_goods_see): " in console
    assert (
        f"warning  computed/meter_hourly:computed_gate  computed gate: installation {bad_ems} 2026: "
        "intervals_expected is not measured + estimated + missing in " in console
    ), console[-4000:]
    blocked = [ln for ln in lines if "gate blocked" in ln and "report_gate" in ln]
    assert any("operator_communication" in ln or bad_cbam in ln for ln in blocked), console[-4000:]
    for ln in blocked:  # each blocked document names the failing installation, the rows and the mart
        if "see marts.fct_goods_see" in ln:
            assert f"installation {bad_cbam} 2026: see_direct is negative" in ln, ln
        if "see marts.fct_meter_hourly" in ln:
            assert f"installation {bad_ems} 2026: intervals_expected" in ln, ln
    assert any(f"{bad_cbam} 2026: see_direct is negative" in c for c in out.failed_checks), out.failed_checks
    assert not any(bad_ems in c and "operator_communication" in c for c in out.failed_checks)
    for key in (f"{bad_ems}_2026", f"{bad_ems}_2025", f"{bad_cbam}_2025"):  # not blocked, still there
        assert versions(home, "operator_communication", key), key


def test_a_certificate_claimed_beyond_its_validity_concerns_its_site_and_year_a_siteless_one_blocks():
    ledger = pl.DataFrame(
        {
            "certificate_batch_id": ["G1", "G2", "G3"],
            "claimable": [True, True, False],
            "claimed_installation_id": [A, B, None],
            "claimed_period": ["2027", "2026-05", None],
            "valid_until": [date(2026, 12, 31), date(2026, 12, 31), date(2026, 1, 1)],
            "claimed_mwh": [10.0, 5.0, None],
            "mwh": [10.0, 5.0, 3.0],
        }
    )
    found = isolation.findings({"gec_ledger": ledger})
    assert found.select("installation", "year", "rows").rows() == [(A, "2027", 1)]
    (line,) = isolation.lines(found, "zero-carbon gate")
    assert (
        "claimed_period ends after the batch's validity on a claimable batch in 1 row(s) of gec_ledger"
        in line
    )
    assert "(see marts.fct_gec_ledger): G1 = 2027" in line
    assert isolation.structural({"gec_ledger": ledger}) == []  # the unclaimed batch without a site is fine
    siteless = ledger.with_columns(claimed_installation_id=pl.lit(None, pl.String))
    assert isolation.structural({"gec_ledger": siteless}) == [
        "gec_ledger: claimed_installation_id is missing on a claimable batch in 2 row(s) (see marts.fct_gec_ledger)"
    ]
    by_mart = gate.mart_failures({"fct_gec_ledger": ledger})
    summary = ("fct_site_ghg_inventory", "fct_zero_carbon_indicators")
    assert gate.doc_failures(
        _doc("summary", {A, B}, 2027), {}, by_mart, summary
    )  # its Scope 2 and indicators
    assert gate.doc_failures(_doc("summary", {B}, 2027), {}, by_mart, summary) == []
    assert gate.doc_failures(_doc("operator_communication", {A}, 2027), {}, by_mart, ("fct_goods_see",)) == []
