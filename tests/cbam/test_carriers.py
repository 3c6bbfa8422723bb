"""One carrier rule (transforms/carriers.py) for CBAM indirect emissions and GHG Scope 2: the same bill is
electricity for both, whatever accepted spelling it is written in; an unlisted spelling is electricity for neither."""

from __future__ import annotations

import polars as pl
import pytest
import yaml
from cbam_testkit import Plant, close, one, year_rows

from transforms.carriers import canonical_carrier, carrier_expr, carriers, energy_kind_expr
from transforms.cbam import frames_from_rows
from transforms.contracts import dataset
from transforms.footprint import load_factors
from transforms.ghg.electricity import energy_bill_months
from transforms.inventory import scope2_lines


@pytest.fixture(scope="module")
def factors():
    return load_factors()


def _plant(carrier: str) -> Plant:
    p = Plant().process("A", "Cement").produce("A", 100.0)
    return p.bill(carrier, 120_000.0, "kWh", process_id="A")


@pytest.mark.parametrize(
    "spelling", ["电力", "power", "Electricity", " ELECTRIC  POWER ", "ｅｌｅｃｔｒｉｃｉｔｙ"]
)
def test_an_accepted_spelling_is_electricity_for_cbam_and_scope2(spelling: str, factors) -> None:
    p = _plant(spelling)
    cbam = one(year_rows(p.run()["process_electricity"]), process_id="A")
    assert close(cbam["electricity_mwh"], 120.0) and close(cbam["indirect_tco2e"], 120.0 * 0.605)
    raw = frames_from_rows(dict(p.rows))
    lines = scope2_lines(raw, factors).collect()
    assert lines.height == 12  # the year's bill, split into its twelve months
    assert set(lines["energy_kind"]) == {"electricity"}
    assert close(lines["purchased_mwh"].sum(), 120.0)
    assert (lines["scope2_location_tco2e"] > 0).all()


@pytest.mark.parametrize("spelling", ["电费", "electricity bill", "natural_gas", "天然气"])
def test_other_carriers_are_electricity_for_neither(spelling: str, factors) -> None:
    p = _plant(spelling)
    assert p.run()["process_electricity"].height == 0
    months = energy_bill_months(frames_from_rows(dict(p.rows))).collect()
    assert months.height == 0  # neither electricity nor heat: not a Scope 2 bill


def test_the_vocabulary_is_the_contracts() -> None:
    """Every canonical value and alias written in the contract file is understood as written there."""
    doc = yaml.safe_load(dataset("energy_bills").contract_path.read_text(encoding="utf-8"))
    prop = next(p for p in doc["schema"][0]["properties"] if p["name"] == "carrier")
    custom = {c["property"]: c["value"] for c in prop["customProperties"]}
    assert carriers() == tuple(custom["canonicalValues"])
    for canonical, spellings in custom["valueAliases"].items():
        assert canonical_carrier(canonical) == canonical
        for s in spellings:
            assert canonical_carrier(s) == canonical, s
    assert canonical_carrier("steam") == "steam" and canonical_carrier("unknown fuel") is None


def test_energy_kind_of_heat_carriers_and_fuels() -> None:
    df = pl.DataFrame({"c": ["蒸汽", "Hot Water", "热力", "Natural Gas", "柴油", None, "电"]})
    got = df.select(canon=carrier_expr(pl.col("c")), kind=energy_kind_expr(pl.col("c")))
    assert got["canon"].to_list() == ["steam", "heat", "heat", "natural_gas", "diesel", None, "electricity"]
    assert got["kind"].to_list() == ["heat", "heat", "heat", None, None, None, "electricity"]
