"""`expectations.runner.validate` hands GX only the columns a suite reads (and the id columns) when every
expectation names one, the whole frame otherwise; the verdict and failure lines are the same either way."""

from __future__ import annotations

import polars as pl

from expectations.runner import _read_by, validate
from expectations.suites.computed import SUITES


def _legs() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "shipment_id": ["S1", "S1", "S2"],
            "leg_no": [1, 2, 1],
            "mode": ["road", "sea", "rocket"],
            "tonne_km": [10.0, -1.0, 5.0],
            "wtw_tco2e": [0.1, 0.2, 0.3],
            "ttw_tco2e": [0.1, 0.1, 0.2],
            "notes": [[1], [2], [3]],  # a column no expectation reads (a list: GX could not hash it)
        }
    )


def test_the_legs_suite_reads_its_columns_and_finds_every_failure() -> None:
    suite = SUITES["shipment_emissions"]()
    cut = _read_by(_legs(), suite, ["shipment_id"])
    assert cut.columns == ["shipment_id", "leg_no", "mode", "tonne_km", "wtw_tco2e", "ttw_tco2e"]
    gate = validate(_legs(), suite, ["shipment_id"])
    assert not gate.passed
    text = "\n".join(gate.failures)
    assert "expect_column_values_to_be_between(tonne_km)" in text
    assert "expect_column_values_to_be_in_set(mode)" in text and "S2" in text
    assert validate(_legs().filter(pl.col("tonne_km") > 0, pl.col("mode") != "rocket"), suite).passed


def test_a_table_level_expectation_gets_the_whole_frame() -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(
        name="t",
        expectations=[
            gxe.ExpectColumnValuesToNotBeNull(column="shipment_id"),
            gxe.ExpectTableColumnCountToEqual(value=3),
        ],
    )
    df = _legs().drop("notes")
    assert _read_by(df, suite, None).columns == df.columns
    assert not validate(df, suite).passed  # 6 columns, not 3: it saw them all
    assert validate(df.select("shipment_id", "leg_no", "mode"), suite).passed


def test_the_gate_reads_the_legs_it_is_told_to(tmp_path) -> None:
    """`audit`'s `suite_rows`: the suite reads only those legs (the others carried from a publication it passed)."""
    from expectations.computed import audit

    staged = {"shipment_emissions": tmp_path / "shipment_emissions.parquet"}
    _legs().drop("notes").write_parquet(staged["shipment_emissions"])

    def suite_failures(**kw) -> list[str]:
        return [f for f in audit(staged, lambda t: [], **kw).gate.failures if "expect_column" in f]

    assert suite_failures() and suite_failures(
        suite_rows={"shipment_emissions": pl.col("shipment_id") == "S2"}
    )
    assert suite_failures(suite_rows={"shipment_emissions": pl.col("leg_no") == 1}) != suite_failures()
    none = pl.col("shipment_id") == "S1"
    assert not suite_failures(suite_rows={"shipment_emissions": none & (pl.col("leg_no") == 1)})
