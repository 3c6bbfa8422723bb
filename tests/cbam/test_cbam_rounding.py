"""Output rounding: half-up on the printed decimal, once, at presentation (docs/precision.md)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from cbam_testkit import Plant, close

from tools.refbuild.examples.fixtures import load_fixture
from transforms.cbam import round_half_up, summarise_goods
from transforms.cbam.rounding import round_half_up_value


def test_half_up_on_the_printed_decimal():
    s = pl.DataFrame({"x": [1.234565, -1.234565, 0.12224275, 2.5, 0.7852147410358565, None]})
    got = s.select(round_half_up(pl.col("x"), 5))["x"].to_list()
    assert got == [
        Decimal("1.23457"),
        Decimal("-1.23457"),
        Decimal("0.12224"),
        Decimal("2.50000"),
        Decimal("0.78521"),
        None,
    ]
    assert s.select(round_half_up(pl.col("x"), 0))["x"].to_list()[3] == Decimal("3")  # not banker's 2
    assert round(2.5) == 2 and round(0.12224275, 7) == 0.1222427  # what Python's round would have done


def test_documented_illustrations_round_as_printed():
    """docs/methodology/cbam.md quotes the cement example as 0.7852147 / 0.1222428 (7 decimals, half-up)."""
    cement = load_fixture("cement")["expected"]["summary_communication"][0]
    assert round_half_up_value(cement["see_direct"], 7) == 0.7852147
    assert round_half_up_value(cement["see_indirect"], 7) == 0.1222428
    steel = load_fixture("steel_eaf_alloys")["expected"]["summary_processes"]["specific"]
    assert round_half_up_value(steel[0]["see_direct"], 10) == 1.0014904121
    assert round_half_up_value(steel[1]["see_direct"], 10) == 1.4396064878


def test_summary_rounds_only_the_presented_copy():
    p = Plant().process("P", "Cement").stream("S", "process", ef=0.123456785, ef_unit="tCO2/t")
    p.rows["source_streams"][0]["default_process_id"] = "P"
    p.reading("S", 1000.0).produce("P", 1000.0).product("PR", "P", "25232900")
    out = p.run()
    summary = summarise_goods(out["goods_see"])
    assert summary["see_direct"].to_list() == [Decimal("0.12346")]
    full = out["goods_see"].filter(pl.col("period_grain") == "year")["see_direct"][0]
    assert close(full, 0.123456785, rel=1e-15)  # the table itself keeps full precision
