"""Energy balance per installation × period (docs/outputs.md `fct_energy_balance`, docs/methodology/zero-carbon.md §5).

From the hourly electricity meters the balance counts (`meters.normalise_meters`: supply-side roles, a meter whose
parent has the same role never added to it, sub-meters never): grid import and export, onsite generation, PPA
delivery (all PPA; only a PPA without a parent arrives over its own line and adds to the load), storage charge
and discharge, all MWh. load = grid import + onsite generation − export + direct-line PPA + storage discharge −
charge. Hourly matching: per hour, matched = min(onsite generation + PPA, load), summed over the hours with data
(every counted meter of the installation active in that hour has all its intervals: gaps are not filled) and
divided by the load of those same hours. Self-consumption per hour = max(0, generation − export), over hours where
both are known. Bills (the legal record): electricity bills supplied through the grid connection (`supply_type`
grid — the default — or ppa), split pro rata by month (`transforms/periods.py`), against the grid-import meters the
bills name (`metered_basis` says when no bill names one and every grid-import meter was used instead).
`gec_claimed_mwh` and `renewable_share_certificates` come from the certificate ledger, joined in the mart.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from transforms.carriers import is_electricity
from transforms.ems.intervals import KEY_SHIFT
from transforms.periods import split_by_month
from transforms.stable import fsum
from transforms.text import key_expr, nfkc
from transforms.units import canonical_expr, convert_expr, to_factor_expr

_ROLE_KEYS = {
    "grid_import": "grid_import_mwh",
    "grid_export": "grid_export_mwh",
    "onsite_generation": "onsite_generation_mwh",
    "ppa_delivery": "ppa_delivered_mwh",
    "storage_charge": "storage_charge_mwh",
    "storage_discharge": "storage_discharge_mwh",
}
_RANK_LIMIT = 2**20  # counted meters the one-integer order can rank (the hour in seconds × this + rank)
_COUNTS = ["intervals_expected", "intervals_measured", "intervals_estimated", "intervals_missing"]
_GRID_SUPPLY = ("grid", "ppa")


def billed_electricity(bills: pl.LazyFrame, installations: pl.LazyFrame) -> pl.LazyFrame:
    """Per installation × month (`year`, `month` ints): electricity billed through the grid connection, MWh, and
    the bills' count in an energy unit that could not be used. Only `installations` (those with counted meters)."""
    b = (
        bills.filter(is_electricity(pl.col("carrier")))
        .with_columns(
            installation_id=nfkc(pl.col("installation_id")),
            _supply=pl.coalesce(key_expr(pl.col("supply_type")), pl.lit("grid")),
            _f=to_factor_expr(canonical_expr(pl.col("unit")), "MWh"),
        )
        .filter(pl.col("_supply").is_in(_GRID_SUPPLY))
        .join(installations, on="installation_id", how="semi")
    )
    parts = split_by_month(b).with_columns(
        year=pl.col("month").str.slice(0, 4).cast(pl.Int32),
        month=pl.col("month").str.slice(5, 2).cast(pl.Int32),
        _mwh=pl.col("quantity") * pl.col("_f") * pl.col("fraction"),
    )
    return parts.group_by("installation_id", "year", "month").agg(
        electricity_billed_mwh=fsum(pl.col("_mwh")),
        bills_unusable_unit=pl.col("_f").is_null().sum().cast(pl.Int64),
    )


def named_grid_meters(bills: pl.LazyFrame, meters: pl.LazyFrame) -> pl.LazyFrame:
    """The counted grid-import meters a grid-supplied electricity bill names (meter_id), per installation; where no
    bill of an installation names one, every counted grid-import meter of it (`metered_basis`)."""
    grid = meters.filter(pl.col("counted") & (pl.col("role") == "grid_import")).select(
        "meter_id", "installation_id"
    )
    named = (
        bills.filter(is_electricity(pl.col("carrier")))
        .filter(pl.coalesce(key_expr(pl.col("supply_type")), pl.lit("grid")).is_in(_GRID_SUPPLY))
        .select(nfkc(pl.col("meter_id")).alias("meter_id"))
        .drop_nulls()
        .unique()
    )
    hit = grid.join(named, on="meter_id", how="semi")
    some = hit.select("installation_id").unique()
    fallback = grid.join(some, on="installation_id", how="anti")
    return pl.concat(
        [
            hit.with_columns(metered_basis=pl.lit("meters_named_by_bills")),
            fallback.with_columns(metered_basis=pl.lit("all_grid_import_meters")),
        ]
    )


def _period_text(grain: str) -> pl.Expr:
    y = pl.col("year").cast(pl.String)
    if grain == "year":
        return y
    return pl.concat_str([y, pl.lit("-"), pl.col("month").cast(pl.String).str.zfill(2)])


def energy_balance(
    hourly: pl.DataFrame, meters: pl.DataFrame, bills: pl.LazyFrame, as_of: date | None = None
) -> pl.LazyFrame:
    """Installation × period (`YYYY` year and `YYYY-MM` month rows, local time of the meters) energy balance.
    `hourly`: the meter_hourly table; `meters`: `normalise_meters` output, collected."""
    named = named_grid_meters(bills, meters.lazy()).collect()  # a handful of meters
    m = meters.filter(pl.col("counted")).select("installation_id").unique().sort("installation_id")
    counted = meters.filter(pl.col("counted") & pl.col("_mi").is_not_null())
    roles = list(_ROLE_KEYS)
    role_code = pl.col("role").cast(pl.Enum(roles), strict=False).to_physical().cast(pl.Int8)
    rc = pl.col("_rc")
    # One order (installation, hour, role, meter): each hour's sums add the same values in the same order. The
    # counted meters ranked by (installation, role, meter_id) once; the hourly rows sorted by (hour, rank), which
    # keeps each installation-hour together and in that order, on one integer key.
    ranked = counted.select("meter_id", "installation_id", _rc=role_code).sort(
        "installation_id", "_rc", "meter_id"
    )
    rank = pl.col("meter_id").cast(pl.Enum(ranked["meter_id"]), strict=False).to_physical().cast(pl.Int64)
    first_of_site = ranked.with_row_index("_r").select(
        pl.col("_r").min().over("installation_id").cast(pl.Int64)
    )
    # only the columns the balance reads are sorted (not the lineage texts)
    h = hourly.filter(pl.col("counted")).select(
        "installation_id",
        "meter_id",
        "hour_start",
        "hour_start_utc",
        "quantity",
        "ppa_direct",
        *_COUNTS,
        _mwh=convert_expr(pl.col("quantity"), "kWh", "MWh"),  # counted meters are electricity, in kWh
        _named=pl.col("meter_id").is_in(named["meter_id"].implode()),
        _rc=role_code,
        _rank=rank,
    )
    if ranked.height < _RANK_LIMIT and h["_rank"].null_count() == 0:
        hour = pl.col("hour_start_utc").dt.epoch("s") * _RANK_LIMIT
        h = (
            h.drop("meter_id")
            .sort(hour + pl.col("_rank"))
            .with_columns(_g=(hour + pl.lit(first_of_site.to_series()).gather(pl.col("_rank"))).set_sorted())
        )
    else:  # (a meter the meters table does not rank)
        insts = m["installation_id"]
        h = h.with_columns(
            _g=pl.col("installation_id").replace_strict(
                insts, pl.int_range(len(insts), dtype=pl.Int64, eager=True), return_dtype=pl.Int64
            )
            * KEY_SHIFT
            + pl.col("hour_start_utc").dt.epoch("s")
        ).sort("_g", "_rc", "meter_id")
        h = h.with_columns(pl.col("_g").set_sorted())

    def q(cond: pl.Expr) -> pl.Expr:
        return pl.col("_mwh").filter(cond).sum()

    def all_known(r: str) -> pl.Expr:
        return pl.col("quantity").filter(rc == roles.index(r)).null_count() == 0

    # sorted slices, in-memory: each sum adds its values one after the other in that order
    per_hour = (
        h.lazy()
        .group_by("_g", maintain_order=True)
        .agg(
            pl.col("installation_id").first(),
            pl.col("hour_start").first(),
            *[q(rc == i).alias(name) for i, name in enumerate(_ROLE_KEYS.values())],
            q((rc == roles.index("ppa_delivery")) & pl.col("ppa_direct")).alias("ppa_direct_line_mwh"),
            q(pl.col("_named")).alias("grid_import_metered_mwh"),
            (pl.col("intervals_missing") == 0).all().alias("_complete"),
            (all_known("onsite_generation") & all_known("grid_export")).alias("_self_known"),
            *[pl.col(c).sum() for c in _COUNTS],
        )
        .collect(engine="in-memory")
        .lazy()
        .with_columns(
            _load=pl.col("grid_import_mwh")
            + pl.col("onsite_generation_mwh")
            - pl.col("grid_export_mwh")
            + pl.col("ppa_direct_line_mwh")
            + pl.col("storage_discharge_mwh")
            - pl.col("storage_charge_mwh"),
            _supply=pl.col("onsite_generation_mwh") + pl.col("ppa_delivered_mwh"),
        )
        .with_columns(
            _matched=pl.min_horizontal("_supply", pl.col("_load").clip(0)).clip(0),
            _self=(pl.col("onsite_generation_mwh") - pl.col("grid_export_mwh")).clip(0),
            year=pl.col("hour_start").dt.year().cast(pl.Int32),
            month=pl.col("hour_start").dt.month().cast(pl.Int32),
        )
    )
    sums = [*_ROLE_KEYS.values(), "ppa_direct_line_mwh", "grid_import_metered_mwh"]
    cplt = pl.col("_complete")
    monthly = per_hour.group_by("installation_id", "year", "month").agg(
        *[fsum(pl.col(c)).alias(c) for c in sums],
        fsum(pl.col("_self").filter(pl.col("_self_known"))).alias("onsite_self_consumed_mwh"),
        fsum(pl.col("_load").filter(cplt)).alias("load_hours_with_data_mwh"),
        fsum(pl.col("_matched").filter(cplt)).alias("renewable_matched_hourly_mwh"),
        pl.len().cast(pl.Int64).alias("hours_total"),
        cplt.sum().cast(pl.Int64).alias("hours_with_data"),
        *[pl.col(c).sum().cast(pl.Int64) for c in _COUNTS],
    )
    billed = billed_electricity(bills, m.lazy())
    keys = ["installation_id", "year", "month"]
    monthly = monthly.join(billed, on=keys, how="full", coalesce=True)
    additive = [*sums, "onsite_self_consumed_mwh", "load_hours_with_data_mwh", "renewable_matched_hourly_mwh"]
    counts = ["hours_total", "hours_with_data", *_COUNTS, "bills_unusable_unit"]
    yearly = monthly.group_by("installation_id", "year").agg(
        *[fsum(pl.col(c)).alias(c) for c in additive],
        # billed: null when no bill of the year (never a 0 that would read as "billed nothing")
        pl.when(pl.col("electricity_billed_mwh").is_not_null().any())
        .then(fsum(pl.col("electricity_billed_mwh")))
        .alias("electricity_billed_mwh"),
        *[pl.col(c).sum().cast(pl.Int64) for c in counts],
    )
    frames = [
        monthly.with_columns(period=_period_text("month"), period_grain=pl.lit("month")),
        yearly.with_columns(period=_period_text("year"), period_grain=pl.lit("year")),
    ]
    out = pl.concat([f.drop("month", strict=False) for f in frames], how="diagonal_relaxed")
    basis = named.lazy().group_by("installation_id").agg(metered_basis=pl.col("metered_basis").first())
    no_meter_data = pl.col("hours_total").fill_null(0) == 0
    out = (
        out.join(basis, on="installation_id", how="left")
        .with_columns(pl.when(no_meter_data).then(None).otherwise(pl.col(c)).alias(c) for c in additive)
        # no grid-import meter at all: nothing metered to compare the bills with (null, not 0)
        .with_columns(
            grid_import_metered_mwh=pl.when(pl.col("metered_basis").is_not_null()).then(
                "grid_import_metered_mwh"
            )
        )
    )
    load = (
        pl.col("grid_import_mwh")
        + pl.col("onsite_generation_mwh")
        - pl.col("grid_export_mwh")
        + pl.col("ppa_direct_line_mwh")
        + pl.col("storage_discharge_mwh")
        - pl.col("storage_charge_mwh")
    )
    lwd = pl.col("load_hours_with_data_mwh")
    out = out.with_columns(
        load_mwh=load,
        billed_minus_metered_mwh=pl.col("electricity_billed_mwh") - pl.col("grid_import_metered_mwh"),
        renewable_share_hourly=pl.when(lwd > 0).then(pl.col("renewable_matched_hourly_mwh") / lwd),
        metering_completeness=pl.when(pl.col("intervals_expected") > 0).then(
            pl.col("intervals_measured") / pl.col("intervals_expected")
        ),
        provisional=pl.lit(None, dtype=pl.Boolean) if as_of is None else pl.col("year") >= as_of.year,
        issues=pl.concat_str(
            [
                pl.when(no_meter_data).then(pl.lit("no meter data in the period: billed only")),
                pl.when(pl.col("metered_basis") == "all_grid_import_meters").then(
                    pl.lit("no bill names a grid-import meter: metered = every grid-import meter")
                ),
                pl.when(pl.col("electricity_billed_mwh").is_null() & ~no_meter_data).then(
                    pl.lit("no grid electricity bill for the period")
                ),
                pl.when(pl.col("bills_unusable_unit").fill_null(0) > 0).then(
                    pl.format("{} bill(s) not in an energy unit left out", pl.col("bills_unusable_unit"))
                ),
                pl.when(pl.col("hours_with_data") < pl.col("hours_total")).then(
                    pl.format(
                        "hourly matching over {} of {} hours (the others have missing intervals)",
                        pl.col("hours_with_data"),
                        pl.col("hours_total"),
                    )
                ),
            ],
            separator="; ",
            ignore_nulls=True,
        ),
    )
    return out.select(BALANCE_COLUMNS).with_columns(
        pl.when(pl.col("issues") != "").then(pl.col("issues")).alias("issues")
    )


BALANCE_COLUMNS = [
    "installation_id",
    "period",
    "period_grain",
    "provisional",
    "electricity_billed_mwh",
    "grid_import_metered_mwh",
    "metered_basis",
    "billed_minus_metered_mwh",
    "grid_import_mwh",
    "grid_export_mwh",
    "onsite_generation_mwh",
    "onsite_self_consumed_mwh",
    "ppa_delivered_mwh",
    "ppa_direct_line_mwh",
    "storage_charge_mwh",
    "storage_discharge_mwh",
    "load_mwh",
    "load_hours_with_data_mwh",
    "renewable_matched_hourly_mwh",
    "renewable_share_hourly",
    "hours_total",
    "hours_with_data",
    "intervals_expected",
    "intervals_measured",
    "intervals_estimated",
    "intervals_missing",
    "metering_completeness",
    "issues",
]
