"""One Gate type for every gate; the raw gate's rules and the ODCS SQL-rule operators; the publish helper."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from expectations.gate import Gate
from expectations.raw import audit_raw, contract_sql_checks, rule_holds
from orchestration.lib.publish import publish, staging
from transforms.contracts import dataset
from transforms.ingest.quarantine import FILES_SCHEMA


def test_gate_passes_without_failures_and_says_what_failed():
    ok, bad = Gate("raw_gate", (), 3), Gate.of("raw_gate", ["a", "b"])
    assert ok.passed and ok.details == "ok" and ok.summary() == "raw_gate: 3 expectations passed"
    assert not bad.passed and bad.details == "a; b" and bad.summary() == "raw_gate: a; b"


@pytest.mark.parametrize(
    ("value", "rule", "holds"),
    [
        (0, {"mustBe": 0}, True),
        (1, {"mustBe": 0}, False),
        (1, {"mustNotBe": 0}, True),
        (5, {"mustBeLessThan": 5}, False),
        (5, {"mustBeLessOrEqualTo": 5}, True),
        (5, {"mustBeGreaterThan": 5}, False),
        (5, {"mustBeGreaterOrEqualTo": 5}, True),
        (5, {"mustBeBetween": [1, 5]}, True),
        (6, {"mustBeBetween": [1, 5]}, False),
        (3, {"mustBeGreaterThan": 1, "mustBeLessThan": 3}, False),  # every operator must hold
        (3, {}, True),
    ],
)
def test_odcs_operators(value, rule, holds):
    assert rule_holds(value, rule) is holds


def _materials(ids: list[str | None], pcf: list[float | None], units: list[str | None]) -> pl.DataFrame:
    ds = dataset("materials")
    n = len(ids)
    frame = pl.DataFrame(
        {
            "material_id": ids,
            "name": ["steel"] * n,
            "kind": ["raw"] * n,
            "pcf_kgco2e_per_unit": pcf,
            "pcf_unit": units,
            "_drop_date": [date(2026, 3, 3)] * n,
        }
    )
    return frame.with_columns(
        [pl.lit(None, t).alias(c) for c, t in ds.schema.items() if c not in frame.columns]
    ).select(list(ds.schema))


def test_raw_gate_on_a_staged_table(tmp_path):
    ds = dataset("materials")
    good = tmp_path / "good.parquet"
    _materials(["M1", "M2"], [1.0, None], ["kg", None]).write_parquet(good)
    files = pl.DataFrame(
        {"file": ["a.csv"], "rows_read": [3], "rows_accepted": [2], "rows_quarantined": [1]}
    ).with_columns(
        [
            pl.lit(None, t).alias(c)
            for c, t in FILES_SCHEMA.items()
            if c not in ("file", "rows_read", "rows_accepted", "rows_quarantined")
        ]
    )
    assert audit_raw(ds, good, files) == Gate("raw_gate")

    bad = tmp_path / "bad.parquet"
    _materials(["M1", "M1", None], [1.0, 2.0, 3.0], ["kg", "kg", None]).write_parquet(bad)
    off = files.with_columns(rows_read=pl.lit(4, pl.Int64))
    gate = audit_raw(ds, bad, off)
    assert not gate.passed and gate.name == "raw_gate"
    assert gate.failures[0] == "a.csv: rows read 4 != accepted 2 + quarantined 1"
    assert "business key ['material_id'] not unique in the current table" in gate.failures
    assert "required column material_id has 1 empty values" in gate.failures
    sql = contract_sql_checks(ds, bad)  # the contract's rule: a PCF is given with its unit
    assert len(sql) == 1 and sql[0].endswith("gave 1") and sql[0] in gate.failures


def test_publish_moves_only_on_a_passing_gate_and_records_always(tmp_path):
    out = tmp_path / "published"
    with staging(tmp_path / "staging") as stage:
        (stage / "data").write_text("new")
        (stage / "ledger").write_text("blocked")
        publish(
            Gate.of("g", ["no"]),
            [(stage / "data", out / "data")],
            always=[(stage / "ledger", out / "ledger")],
        )
    assert not (out / "data").exists() and (out / "ledger").read_text() == "blocked"
    assert not (tmp_path / "staging").exists()  # the staging folder is gone, and its emptied root

    with staging(tmp_path / "staging", "run1") as stage:
        (stage / "data").write_text("new")
        publish(Gate("g"), [(stage / "data", out / "data")])
    assert (out / "data").read_text() == "new"


def test_an_immutable_version_is_never_replaced(tmp_path):
    target = tmp_path / "reports" / "kind" / "key" / "v1"
    target.mkdir(parents=True)
    (target / "report.json").write_text("{}")
    with staging(tmp_path / ".staging", "r", sweep=True) as stage:
        (stage / "v1").mkdir()
        (stage / "v1" / "report.json").write_text('{"other": 1}')
        with pytest.raises(OSError):
            publish(Gate("report_gate"), [(stage / "v1", target)], replace=False)
    assert (target / "report.json").read_text() == "{}" and not (tmp_path / ".staging").exists()
