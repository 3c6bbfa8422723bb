"""Logistics carried from night to night (orchestration/defs/compute/logistics.py): computing again only the
shipments a drop touches, over the earlier run's tables, gives `compute_logistics` of the whole lake, to the bit."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.footprint import synthetic
from transforms.computed import conform
from transforms.logistics.carry import shipments_touched, update_logistics
from transforms.logistics.engine import compute_logistics

COPIES = 4  # the synthetic shipments, invoices and exports, each copied with the ids suffixed _0 … _3


def _copies(frame: pl.DataFrame, columns: list[str], k: int) -> pl.DataFrame:
    return frame.with_columns(pl.col(c) + f"_{k}" for c in columns)


def _lakes() -> tuple[dict[str, pl.LazyFrame], dict[str, pl.LazyFrame], dict[str, pl.DataFrame]]:
    """(earlier lake, lake with the drop, the drop's rows). The drop: every shipment of copy 3 (new), leg 2 of
    OUT1_1 restated with another mass, a line of invoice I1_0 and of export X1_2 with an installation that sorts
    first (an allocation's installation is the lowest over its invoice's or export's lines)."""
    base = {n: f.collect() for n, f in synthetic.raw().items()}
    ship = pl.concat(
        _copies(base["shipments"], ["shipment_id", "invoice_id", "export_id"], k) for k in range(COPIES)
    ).with_columns(_source_row_id=pl.format("shipments/2024-04-01/legs.csv#{}", pl.int_range(pl.len()) + 1))
    invoices = pl.concat(_copies(base["supplier_invoices"], ["invoice_id"], k) for k in range(COPIES))
    exports = pl.concat(_copies(base["exports"], ["export_id"], k) for k in range(COPIES))

    restated = ship.filter((pl.col("shipment_id") == "OUT1_1") & (pl.col("leg_no") == 2)).with_columns(
        mass_t=pl.col("mass_t") * 1.5, _source_row_id=pl.lit("shipments/2024-05-01/legs.csv#1")
    )
    new_ship = pl.concat([ship.filter(pl.col("shipment_id").str.ends_with("_3")), restated])
    new_invoice = invoices.filter(pl.col("invoice_id") == "I1_0").with_columns(
        line_no=pl.col("line_no") + 100, installation_id=pl.lit("AA0")
    )
    new_export = exports.filter(pl.col("export_id") == "X1_2").with_columns(
        line_no=pl.col("line_no") + 100, installation_id=pl.lit("AA0")
    )
    earlier = {
        **base,
        "shipments": ship.filter(~pl.col("shipment_id").str.ends_with("_3")),
        "supplier_invoices": invoices,
        "exports": exports,
    }
    after = {
        **base,
        # the current table: the restated key's latest version replaces the earlier one
        "shipments": pl.concat([ship.filter(~((pl.col("shipment_id") == "OUT1_1") & (pl.col("leg_no") == 2))),
                                restated]),
        "supplier_invoices": pl.concat([invoices, new_invoice]),
        "exports": pl.concat([exports, new_export]),
    }  # fmt: skip
    drop = {"shipments": new_ship, "supplier_invoices": new_invoice, "exports": new_export}
    lazy = lambda lake: {n: f.lazy() for n, f in lake.items()}  # noqa: E731
    return lazy(earlier), lazy(after), drop


def _published(legs: pl.DataFrame, allocations: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """As the asset publishes them (their contracts' columns and types), written and read back."""
    return conform("shipment_emissions", legs), conform("shipment_allocations", allocations)


@pytest.fixture(scope="module")
def case(factors):
    earlier, after, drop = _lakes()
    carried = _published(*compute_logistics(earlier, factors))
    touched = shipments_touched(
        after["shipments"],
        drop["shipments"].lazy().select("shipment_id"),
        drop["supplier_invoices"].lazy().select("invoice_id"),
        drop["exports"].lazy().select("export_id"),
    )
    return after, carried, touched


def test_the_touched_shipments_are_the_new_the_restated_and_those_of_a_changed_invoice_or_export(
    case,
) -> None:
    after, _, touched = case
    ship = after["shipments"].collect()
    of = lambda col, value: ship.filter(pl.col(col) == value)["shipment_id"].unique().to_list()  # noqa: E731
    expected = {s for s in ship["shipment_id"] if s.endswith("_3")} | {"OUT1_1"}
    expected |= set(of("invoice_id", "I1_0")) | set(of("export_id", "X1_2"))
    assert of("invoice_id", "I1_0") and of("export_id", "X1_2")
    assert set(touched.to_list()) == expected
    assert len(expected) < ship["shipment_id"].n_unique()  # some shipments are carried as they were


def test_computing_the_touched_shipments_again_gives_the_tables_of_the_whole_lake(case, factors) -> None:
    after, carried, touched = case
    legs, allocations = update_logistics(after, factors, *carried, touched)
    full_legs, full_allocations = _published(*compute_logistics(after, factors))
    assert_frame_equal(legs, full_legs, check_exact=True)
    assert_frame_equal(allocations, full_allocations, check_exact=True)
    # every kind of touch changed a row: leaving any one out gives other tables
    ship = after["shipments"].collect()
    for left_out in ("OUT1_3", "OUT1_1", *ship.filter(pl.col("invoice_id") == "I1_0")["shipment_id"],
                     *ship.filter(pl.col("export_id") == "X1_2")["shipment_id"]):  # fmt: skip
        partial = update_logistics(after, factors, *carried, touched.filter(touched != left_out))
        assert not (partial[0].equals(full_legs) and partial[1].equals(full_allocations)), left_out


def test_nothing_touched_keeps_the_carried_tables(case, factors) -> None:
    after, carried, _ = case
    legs, allocations = update_logistics(after, factors, *carried, pl.Series("shipment_id", [], pl.String))
    assert_frame_equal(legs, carried[0], check_exact=True)
    assert_frame_equal(allocations, carried[1], check_exact=True)


def test_the_asset_carries_only_while_what_the_carry_read_still_holds(case, tmp_path, monkeypatch) -> None:
    """`logistics_plan` → incremental over the new drops only when the carry exists and its code, products,
    materials, installations, drops read and published tables are still those; else a run over every shipment.
    `carried_logistics` then gives the tables of the whole lake."""
    from orchestration.defs.compute import logistics as carry
    from orchestration.lib.home import Home
    from transforms.footprint import load_factors

    home = Home(tmp_path / "home")
    earlier, after, drop = _lakes()
    for name in (*carry.DEPENDS, *carry.DROPPED):
        home.raw_table(name).mkdir(parents=True)
        (home.raw_dir(name) / "history").mkdir()
        after[name].collect().write_parquet(home.raw_table(name) / "part-00000.parquet")
    for name in carry.DROPPED:  # drop 1: the earlier lake's rows; drop 2: the new rows
        earlier[name].collect().write_parquet(home.raw_dir(name) / "history" / "2024-04-01.parquet")
    home.computed.mkdir(parents=True)
    for name, table in zip(carry.TABLES, case[1], strict=True):
        table.write_parquet(home.computed_table(name))

    assert carry.logistics_plan(home).new is None  # no carry yet
    carry.save_logistics_carry(home, carry.logistics_plan(home))
    plan = carry.logistics_plan(home)
    assert plan.new == {n: [] for n in carry.DROPPED} and plan.why == "0 new drop(s)"

    for name in carry.DROPPED:
        drop[name].write_parquet(home.raw_dir(name) / "history" / "2024-05-01.parquet")
    plan = carry.logistics_plan(home)
    assert plan.why == "1 new drop(s)" and all(len(files) == 1 for files in plan.new.values())
    factors = load_factors()
    carried = carry.carried_logistics(home, plan, after, factors)
    out, why = carried.tables, carried.why
    assert out is not None and "shipment(s) computed again" in why
    full = _published(*compute_logistics(after, factors))
    assert_frame_equal(out[0], full[0], check_exact=True)
    assert_frame_equal(out[1], full[1], check_exact=True)
    # the gate's suite reads the legs computed again, when the publication they were carried from passed it
    touched = set(carried.touched)
    assert 0 < len(touched) < full[0]["shipment_id"].n_unique()
    rows = carried.suite_rows({"shipment_emissions": {"passed": True}})
    assert set(out[0].filter(rows["shipment_emissions"])["shipment_id"]) == touched
    assert carried.suite_rows({"shipment_emissions": {"passed": False}}) == {} == carried.suite_rows({})
    assert (
        carry.CarriedLogistics(None, "every shipment").suite_rows({"shipment_emissions": {"passed": True}})
        == {}
    )

    # what breaks the carry: a drop read before rewritten, the published table changed, a master table changed,
    # other code
    first = home.raw_dir("exports") / "history" / "2024-04-01.parquet"
    saved = first.read_bytes()
    drop["exports"].write_parquet(first)
    assert "exports read before changed" in carry.logistics_plan(home).why
    first.write_bytes(saved)
    table = home.computed_table("shipment_emissions")
    saved = table.read_bytes()
    case[1][0].head(1).write_parquet(table)
    assert "shipment_emissions is not the table" in carry.logistics_plan(home).why
    table.write_bytes(saved)
    part = home.raw_table("materials") / "part-00000.parquet"
    after["materials"].collect().head(1).write_parquet(part)
    assert "materials or installations changed" in carry.logistics_plan(home).why
    after["materials"].collect().write_parquet(part)
    assert carry.logistics_plan(home).new is not None
    monkeypatch.setattr(carry, "code_fingerprint", lambda: "other code")
    assert carry.logistics_plan(home).why == "code changed: every shipment"
