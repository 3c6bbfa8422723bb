"""fct_meter_hourly and fct_energy_balance built by dbt (enforced contracts, tests, unit test) over the engine's
output on the hand-computed week, through the computed-table contracts (conform), as the Dagster asset writes them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.compute.ems import write_hourly
from orchestration.lib.home import Home
from tests.dbt.conftest import failures, run_dbt
from tests.ems.helpers import readings, run
from tests.ems.test_balance import _week_meters, _week_rows
from transforms.computed import conform_all

MODELS = [
    "stg_computed__meter_hourly",
    "stg_computed__energy_balance",
    "stg_computed__meter_reading_issues",
    "stg_computed__gec_claims",  # fct_energy_balance joins the certificate ledger's claims
    "fct_meter_hourly",
    "fct_energy_balance",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    tables = conform_all(run(_week_meters(), readings(_week_rows()), as_of=date(2026, 1, 5)))
    folder = home / "lake" / "computed"
    folder.mkdir(parents=True)
    for name, df in tables.items():
        if name == "meter_hourly":  # (stored by month)
            write_hourly(df, Home(home).computed_table(name))
        else:
            df.write_parquet(folder / f"{name}.parquet")
    db = home / "warehouse" / "build" / "lingtan.duckdb"
    db.parent.mkdir(parents=True)
    env = {
        "LINGTAN_HOME": str(home),
        "LINGTAN_WAREHOUSE_PATH": str(db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    # relationships to dim_installation need the whole warehouse (tests/dbt builds it); here: the EMS models only
    result = run_dbt(
        ["build", "--select", *MODELS, "--exclude", "test_name:relationships"],
        env,
        tmp_path_factory.mktemp("dbt"),
    )
    assert result.success, "dbt build failed:\n" + "\n".join(failures(result))
    return db


def _q(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_marts_carry_the_engine_rows_and_hand_numbers(built: Path) -> None:
    assert _q(built, "select count(*), sum(intervals_missing) from marts.fct_meter_hourly") == [(6 * 168, 0)]
    ((share, load, provisional),) = _q(
        built,
        "select renewable_share_hourly, load_mwh, is_provisional from marts.fct_energy_balance "
        "where installation_id = 'I1' and period = '2025' and period_grain = 'year'",
    )
    assert share == pytest.approx(0.55) and load == pytest.approx(16.8) and provisional is False
    ((first, last),) = _q(
        built,
        "select source_row_id_first, source_row_id_last from marts.fct_meter_hourly "
        "where meter_id = 'G' order by hour_start limit 1",
    )
    assert first.endswith("#1") and first == last  # one hourly reading per hour: first = last
