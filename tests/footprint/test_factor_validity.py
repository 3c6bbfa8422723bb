"""Which factor row a leg gets when several are valid at its date: the latest valid_from wins, and a row without
valid_from (valid since always) is the OLDEST, so any dated row valid at that date beats it."""

from datetime import date

import polars as pl
import pytest

from tests.footprint.synthetic import lf
from transforms.ghg.factors import GhgFactors
from transforms.logistics import compute_shipments


def _leg() -> dict:
    return {
        "shipment_id": "S",
        "leg_no": 1,
        "ship_date": date(2024, 5, 1),
        "direction": "outbound",
        "mode": "road",
        "mass_t": 10.0,
        "distance_km": 180.0,
    }


def _with_open_start_row(factors: GhgFactors, table: str, changes: dict) -> GhgFactors:
    """The table plus a copy of its first road row with no valid_from and the given values changed."""
    t = factors[table]
    extra = (
        t.filter(pl.col("mode") == "road")
        .head(1)
        .with_columns(
            pl.lit(None, pl.Date).alias("valid_from"), *(pl.lit(v).alias(k) for k, v in changes.items())
        )
    )
    return factors.with_table(table, pl.concat([t, extra.select(t.columns)]))


def test_a_dated_intensity_beats_one_valid_since_always(factors: GhgFactors) -> None:
    dated = factors["transport_intensities"].filter(pl.col("mode") == "road", pl.col("is_mode_default"))
    (wtw,) = dated["wtw_gco2e_per_tkm"]
    both = _with_open_start_row(factors, "transport_intensities", {"wtw_gco2e_per_tkm": wtw * 3})
    r = compute_shipments({"shipments": lf([_leg()])}, both).row(0, named=True)
    assert r["intensity_wtw_gco2e_per_tkm"] == wtw  # the row from 2000-01-01, not the open-start one
    # alone, the open-start row is used (it is valid at the date)
    only = factors.with_table(
        "transport_intensities",
        factors["transport_intensities"]
        .filter(~(pl.col("mode") == "road"))
        .vstack(
            both["transport_intensities"].filter(pl.col("mode") == "road", pl.col("valid_from").is_null())
        ),
    )
    r = compute_shipments({"shipments": lf([_leg()])}, only).row(0, named=True)
    assert r["intensity_wtw_gco2e_per_tkm"] == pytest.approx(wtw * 3)


def test_a_dated_distance_rule_beats_one_valid_since_always(factors: GhgFactors) -> None:
    leg = _leg() | {"distance_km": None, "origin": "CNSHA", "destination": "CNNGB"}
    base = compute_shipments({"shipments": lf([leg])}, factors).row(0, named=True)
    both = _with_open_start_row(factors, "distance_adjustments", {"gcd_multiplier": 5.0})
    r = compute_shipments({"shipments": lf([leg])}, both).row(0, named=True)
    assert r["distance_km"] == base["distance_km"]  # the dated 2000-01-01 rule, not the ×5 open-start one
