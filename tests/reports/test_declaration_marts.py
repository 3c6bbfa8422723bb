"""The free-allocation and declaration marts: hand-computed SEFA / FAA / certificates on a synthetic warehouse (the
demo warehouse's reference seeds, upstream marts replaced by hand-made rows, then `dbt build` of the two marts and
their tests), and reconciliation of the demo's marts and packs with fct_cbam_export_lines."""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from orchestration.lib.home import Home
from tests.dbt.conftest import failures, run_dbt
from transforms.reports.base import ReportConfig
from transforms.reports.declaration import KIND, import_year_expr

CBAM_2027, CBAM_2028, ROD_B_C, BOLT_A = (
    0.95,
    0.9,
    1.364,
    0.038,
)  # cbam_constants; benchmarks 7213 91 49 (C), 7318

GOODS = [  # installation CN-T-001 (China): product, process, CN, determination, period
    ("H2", "PH", "28041000", "actual", "2027"),
    ("CLK", "PK", "25231000", "default", "2027"),
    ("POW", "PE", "27160000", "actual", "2027"),
    ("BOLT", "PB", "73181589", "actual", "2027"),
    ("WIRE", "PW", "73182200", "actual", "2027"),
    ("AC", "PA", "25233000", "actual", "2028"),
]
PRECURSORS = [  # consuming process, source, from process, CN, m_i (t/t)
    ("PB", "purchased", None, "72139149", 1.1),
    ("PB", "internal", "PW", None, 1.0),
    ("PW", "purchased", None, "72139149", 1.05),
]
EXPORTS = [  # importer, date, product, CN, mass, SEE chargeable, determination, dv_markup
    ("DE1", "2027-02-10", "H2", "28041000", 10.0, 12.0, "actual", None),
    ("DE1", "2027-05-05", "CLK", "25231000", 30.0, 1.529, "default", 0.2),
    ("DE1", "2027-08-01", "POW", "27160000", 100.0, 0.6, "actual", None),
    ("DE1", "2027-09-01", "BOLT", "73181589", 20.0, 3.0, "actual", None),
    ("DE1", "2025-03-01", "BOLT", "73181589", 7.0, 3.0, "actual", None),  # transitional: no declaration line
    ("DE2", "2028-04-01", "AC", "25233000", 5.0, 0.9, "actual", None),
]


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("rows_in", frame.to_arrow())
    con.execute(f"create or replace table {table} as select * from {table} where false")
    con.execute(f"insert into {table} by name select * from rows_in")
    con.unregister("rows_in")


def _seed_upstream(path: Path) -> None:
    inst = "CN-T-001"
    with duckdb.connect(str(path)) as con:
        _replace(con, "marts.dim_installation", pl.DataFrame({"installation_id": [inst], "country": ["CN"]}))
        _replace(
            con,
            "marts.dim_process",
            pl.DataFrame({"installation_id": [inst] * len(GOODS), "process_id": [g[1] for g in GOODS]}),
        )
        _replace(
            con,
            "marts.fct_goods_see",
            pl.DataFrame(
                {
                    "installation_id": [inst] * len(GOODS),
                    "product_id": [g[0] for g in GOODS],
                    "period": [g[4] for g in GOODS],
                    "period_grain": ["year"] * len(GOODS),
                    "process_id": [g[1] for g in GOODS],
                    "cn_code": [g[2] for g in GOODS],
                    "determination": [g[3] for g in GOODS],
                    "source_row_ids": [[f"production/2027-01-05/p.csv#{i}"] for i in range(len(GOODS))],
                }
            ),
        )
        _replace(
            con,
            "marts.fct_precursor_inputs",
            pl.DataFrame(
                {
                    "installation_id": [inst] * len(PRECURSORS),
                    "process_id": [p[0] for p in PRECURSORS],
                    "period": ["2027"] * len(PRECURSORS),
                    "period_grain": ["year"] * len(PRECURSORS),
                    "source": [p[1] for p in PRECURSORS],
                    "from_process_id": [p[2] for p in PRECURSORS],
                    "cn_code": [p[3] for p in PRECURSORS],
                    "origin_country": ["CN" if p[3] else None for p in PRECURSORS],
                    "mass_t": [1000.0 * p[4] for p in PRECURSORS],
                    "mass_share_t_per_t": [p[4] for p in PRECURSORS],
                }
            ),
        )
        ex = pl.DataFrame(
            {
                "export_id": [f"E{i}" for i in range(len(EXPORTS))],
                "line_no": [1] * len(EXPORTS),
                "importer_eori": [e[0] for e in EXPORTS],
                "importer_name": [f"Importer {e[0]}" for e in EXPORTS],
                "declaration_date": [date.fromisoformat(e[1]) for e in EXPORTS],
                "product_id": [e[2] for e in EXPORTS],
                "cn_code": [e[3] for e in EXPORTS],
                "installation_id": [inst] * len(EXPORTS),
                "origin_country": ["CN"] * len(EXPORTS),
                "production_period": [e[1][:4] for e in EXPORTS],
                "period_grain": ["year"] * len(EXPORTS),
                "annex_ii_direct_only": [not e[3].startswith("2523") for e in EXPORTS],
                "net_mass_t": [e[4] for e in EXPORTS],
                "see_chargeable_per_t": [e[5] for e in EXPORTS],
                "embedded_direct_tco2e": [e[4] * e[5] for e in EXPORTS],
                "embedded_indirect_tco2e": [0.0] * len(EXPORTS),
                "embedded_chargeable_tco2e": [e[4] * e[5] for e in EXPORTS],
                "determination": [e[6] for e in EXPORTS],
                "dv_markup": [e[7] for e in EXPORTS],
                "source_row_id": [f"exports/{e[1]}/x.csv#{i + 1}" for i, e in enumerate(EXPORTS)],
            }
        )
        _replace(con, "marts.fct_cbam_export_lines", ex)
        con.execute("drop view if exists staging.stg_lake__carbon_prices")
        con.execute(
            """create table staging.stg_lake__carbon_prices as select
                 'CN-T-001' as installation_id, date '2027-01-01' as period_start, date '2027-06-30' as period_end,
                 'national ETS' as instrument, 'test act' as legal_act, 20.0 as price, 'EUR' as currency,
                 0.5 as share_covered, 'free allocation' as rebate_type, 0.2 as rebate_share,
                 null::varchar as cn_code, null::varchar as product_id,
                 'carbon_prices/2027-01-05/cp.csv#1' as _source_row_id"""
        )


@pytest.fixture(scope="module")
def synthetic(demo_home: Home, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("declaration-wh")
    path = root / "lingtan.duckdb"
    shutil.copy(demo_home.warehouse, path)
    _seed_upstream(path)
    env = {
        "LINGTAN_HOME": str(root),
        "LINGTAN_WAREHOUSE_PATH": str(path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    select = [
        "fct_goods_free_allocation",
        "fct_cbam_declaration_lines",
        "assert_fct_cbam_declaration_lines_reconcile",
    ]
    result = run_dbt(["build", "--select", *select], env, root)
    assert result.success, "dbt build failed:\n" + "\n".join(failures(result))
    return path


def _rows(path: Path, sql: str) -> dict[str, dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {str(r["k"]): r for r in con.sql(sql).pl().iter_rows(named=True)}


def test_sefa_hand_computed(synthetic: Path) -> None:
    fa = _rows(synthetic, "select product_id as k, * from marts.fct_goods_free_allocation")
    # simple good, actual data: CBAM_2027 × CSCF 1.0 × Column A of hydrogen 5.089
    assert fa["H2"]["sefa_tco2e_per_t"] == pytest.approx(CBAM_2027 * 5.089, rel=1e-12)
    assert (fa["H2"]["benchmark_column"], fa["H2"]["good_kind"], fa["H2"]["cscf_status"]) == (
        "A",
        "simple",
        "provisional",
    )
    # default data, clinker: DVR China lists white (B) and grey (A) clinker → route unknown → the lower 0.666
    assert fa["CLK"]["benchmark_column"] == "B" and fa["CLK"]["benchmark_tco2e_per_t"] == 0.666
    assert "lowest" in fa["CLK"]["benchmark_match"]
    assert fa["CLK"]["sefa_tco2e_per_t"] == pytest.approx(CBAM_2027 * 0.666, rel=1e-12)
    # electricity: no free allocation
    assert fa["POW"]["sefa_tco2e_per_t"] == 0.0 and "electricity" in fa["POW"]["sefa_basis"]
    # complex good: own 7318 step + purchased rod (Column B, DVR China route C) + internal wire process
    wire = BOLT_A + 1.05 * ROD_B_C
    assert fa["WIRE"]["sefa_tco2e_per_t"] == pytest.approx(CBAM_2027 * wire, rel=1e-12)
    bolt = BOLT_A + 1.1 * ROD_B_C + 1.0 * wire
    assert fa["BOLT"]["good_kind"] == "complex"
    assert fa["BOLT"]["purchased_precursor_benchmark_tco2e_per_t"] == pytest.approx(1.1 * ROD_B_C, rel=1e-12)
    assert fa["BOLT"]["internal_precursor_benchmark_tco2e_per_t"] == pytest.approx(wire, rel=1e-12)
    assert fa["BOLT"]["sefa_tco2e_per_t"] == pytest.approx(CBAM_2027 * bolt, rel=1e-12)
    assert "first 6 digits" in fa["BOLT"]["benchmark_match"]  # 7318 15 89 is not in the workbook
    # period marker (2) from 2028: aluminous cement 0.686 (not 0.717), CBAM factor 2028
    assert fa["AC"]["benchmark_tco2e_per_t"] == 0.686
    assert fa["AC"]["sefa_tco2e_per_t"] == pytest.approx(CBAM_2028 * 0.686, rel=1e-12)


def test_declaration_lines_hand_computed(synthetic: Path) -> None:
    d = _rows(
        synthetic, "select cn_code as k, * from marts.fct_cbam_declaration_lines where importer_eori = 'DE1'"
    )
    assert set(d) == {"28041000", "25231000", "27160000", "73181589"}  # the 2025 line is not declared
    h2 = d["28041000"]
    faa = 10.0 * CBAM_2027 * 5.089
    assert h2["free_allocation_adjustment_tco2e"] == pytest.approx(faa, rel=1e-12)
    assert h2["certificates_due"] == pytest.approx(120.0 - faa, rel=1e-12)
    assert h2["never_de_minimis"] and not h2["verified"] and "verif" in h2["verified_reason"]
    assert h2["dv_unmarked_tco2e_per_t"] == 26.64
    # carbon price evidenced for half a year (181 of 365 days): shown, not deducted, with the reason
    assert h2["carbon_price_paid_amount"] == pytest.approx(120.0 * 0.5 * 20.0 * 0.8 * 181 / 365, rel=1e-12)
    assert h2["carbon_price_currency"] == "EUR" and h2["carbon_price_deduction_tco2e"] == 0.0
    assert "independent person" in h2["carbon_price_reason"]
    assert h2["carbon_price_source_row_ids"] == ["carbon_prices/2027-01-05/cp.csv#1"]
    clk = d["25231000"]  # a default line: Column B with the DVR route of the origin, CBAM factor of 2027
    assert clk["free_allocation_adjustment_tco2e"] == pytest.approx(30.0 * CBAM_2027 * 0.666, rel=1e-12)
    assert (
        clk["embedded_default_tco2e"] == pytest.approx(30.0 * 1.529, rel=1e-12)
        and clk["embedded_actual_tco2e"] == 0
    )
    assert clk["dv_unmarked_tco2e_per_t"] == 1.39  # China grey 1.39 > white 1.30: the higher
    assert (
        d["27160000"]["free_allocation_adjustment_tco2e"] == 0.0 and d["27160000"]["certificates_due"] == 60.0
    )
    bolt = BOLT_A + 1.1 * ROD_B_C + BOLT_A + 1.05 * ROD_B_C
    assert d["73181589"]["certificates_due"] == pytest.approx(60.0 - 20.0 * CBAM_2027 * bolt, rel=1e-12)


def test_synthetic_pack_quarterly_holding(synthetic: Path) -> None:
    from orchestration.lib.reports import read_marts

    marts = read_marts(synthetic, KIND.marts)
    docs = {d.key: d for d in KIND.build(marts, ReportConfig(date(2028, 11, 1), 70.0, "test"))}
    assert set(docs) == {"DE1_2027", "DE2_2028"}
    q = docs["DE1_2027"].model["quarterly_holding"]["quarters"]
    h2 = 10 * (
        26.64 - CBAM_2027 * 5.089
    )  # Q1 only hydrogen (never exempt; the 50 t threshold is not reached)
    assert docs["DE1_2027"].model["threshold"]["exempt"]  # 30 + 20 t counted ≤ 50 t
    assert q[0]["holding_certificates"] == pytest.approx(0.5 * h2, rel=1e-12)
    # electricity has no default value: its own SEE per MWh is used and named
    assert docs["DE1_2027"].model["quarterly_holding"]["lines_without_default"] == ["27160000"]
    assert q[3]["holding_certificates"] == pytest.approx(0.5 * (h2 + 100 * 0.6), rel=1e-12)


def test_demo_declaration_lines_reconcile_with_export_lines(demo_marts) -> None:
    decl, ex = demo_marts["fct_cbam_declaration_lines"], demo_marts["fct_cbam_export_lines"]
    ex = ex.with_columns(import_year_expr().alias("year")).filter(pl.col("year") >= 2026)
    assert decl.height > 0 and ex.height > 0
    keys = ["importer_eori", "year"]
    a = ex.group_by(keys).agg(
        pl.len().alias("n"), pl.col("net_mass_t").sum(), pl.col("embedded_chargeable_tco2e").sum()
    )
    b = decl.group_by(keys).agg(
        pl.col("export_line_count").sum().alias("n"),
        pl.col("net_mass_t").sum(),
        pl.col("embedded_tco2e").sum(),
    )
    j = a.join(b.with_columns(pl.col("year").cast(a["year"].dtype)), on=keys, how="full", coalesce=True)
    assert j.height == a.height == b.height
    for r in j.iter_rows(named=True):
        assert r["n"] == r["n_right"]
        assert math.isclose(r["net_mass_t"], r["net_mass_t_right"], rel_tol=1e-12)
        assert math.isclose(r["embedded_chargeable_tco2e"], r["embedded_tco2e"], rel_tol=1e-12)
    assert (decl["certificates_due"] >= 0).all() and (decl["free_allocation_adjustment_tco2e"] > 0).all()


def test_demo_packs_pass_their_check(demo_marts, tmp_path: Path) -> None:
    docs = KIND.build(demo_marts, ReportConfig(date(2026, 11, 24), 75.0, "test"))
    assert docs and len({d.key for d in docs}) == len(docs)
    for doc in docs:
        KIND.write(doc, tmp_path / doc.key)
        assert KIND.check(doc, tmp_path / doc.key, demo_marts) == []


def test_cscf_is_configurable(synthetic: Path, tmp_path: Path) -> None:
    """LINGTAN_CSCF replaces the seed's provisional 1.0 and the status says so."""
    path = tmp_path / "lingtan.duckdb"
    shutil.copy(synthetic, path)
    env = {
        "LINGTAN_HOME": str(tmp_path),
        "LINGTAN_WAREHOUSE_PATH": str(path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "LINGTAN_CSCF": "0.9",
    }
    result = run_dbt(["run", "--select", "fct_goods_free_allocation"], env, tmp_path)
    assert result.success, "dbt run failed:\n" + "\n".join(failures(result))
    h2 = _rows(path, "select product_id as k, * from marts.fct_goods_free_allocation")["H2"]
    assert (h2["cscf"], h2["cscf_status"]) == (0.9, "configured") and "LINGTAN_CSCF" in h2["cscf_source"]
    assert h2["sefa_tco2e_per_t"] == pytest.approx(CBAM_2027 * 0.9 * 5.089, rel=1e-12)
