"""`compute_cbam`: raw lake frames in, every CBAM table out (intermediate ones included, for inspection).

Order: source streams → installation totals → Eq 55 attribution → electricity (Eq 56) → precursors → SEE by
the input-output solve → goods → export lines. Float64 at full precision throughout; rounding happens only
when presenting (`summarise_goods`, reports), see docs/precision.md. Columns, types, units and grain: data_contracts/computed/ (docs/computed/cbam.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from transforms.cbam.attribution import process_attribution
from transforms.cbam.electricity import process_electricity
from transforms.cbam.inputs import INPUT_SCHEMAS, prepare
from transforms.cbam.periods import MONTH, YEAR
from transforms.cbam.precursors import internal_flows, purchased_precursors
from transforms.cbam.products import (
    export_lines,
    export_rows,
    goods_see,
    product_classification,
    with_goods_lineage,
)
from transforms.cbam.rounding import round_half_up
from transforms.cbam.see import KEYS, RHS, solve
from transforms.cbam.streams import installation_emissions, stream_emissions
from transforms.computed import computed_table, conform
from transforms.reference.cbam import CbamReference
from transforms.stable import canonical, distinct_sorted, fsum, quotient

TABLES = (
    "stream_emissions",
    "installation_emissions",
    "process_attribution",
    "process_electricity",
    "precursor_inputs",
    "process_see",
    "goods_see",
    "export_lines",
    "product_classification",
)


def _precursor_inputs(
    purchased: pl.DataFrame, internal: pl.DataFrame, process_see: pl.DataFrame
) -> pl.DataFrame:
    al = process_see.select(*KEYS, "activity_level_t")
    buy = purchased.join(al, on=KEYS, how="left").with_columns(
        from_process_id=pl.lit(None, dtype=pl.String),
        mass_share_t_per_t=pl.when(pl.col("activity_level_t") > 0).then(
            quotient(pl.col("mass_t"), pl.col("activity_level_t"))
        ),
    )
    own = internal.with_columns(
        source=pl.lit("internal"),
        see_origin=pl.lit("internal"),
        determination=pl.lit("actual"),
        is_default=pl.lit(False),
        see_direct=pl.col("src_see_direct"),
        see_indirect=pl.col("src_see_indirect"),
        embedded_electricity_mwh_per_t=pl.col("src_embedded_electricity_mwh_per_t"),
        embedded_direct_tco2e=pl.col("mass_t") * pl.col("src_see_direct"),
        embedded_indirect_tco2e=pl.col("mass_t") * pl.col("src_see_indirect"),
        embedded_electricity_mwh=pl.col("mass_t") * pl.col("src_embedded_electricity_mwh_per_t"),
        default_direct_tco2e=pl.col("mass_t") * pl.col("src_default_direct_per_t"),
        embedded_indirect_non_annex_ii_tco2e=pl.col("mass_t") * pl.col("src_see_indirect_non_annex_ii"),
    ).drop([f"src_{c}" for c in RHS])
    out = pl.concat([buy, own], how="diagonal_relaxed")
    first = [
        *KEYS,
        "source",
        "from_process_id",
        "material_id",
        "cn_code",
        "supplier_id",
        "supplier_installation_id",
        "origin_country",
        "quantity_source",
        "mass_t",
        "mass_share_t_per_t",
        "see_direct",
        "see_indirect",
        "embedded_electricity_mwh_per_t",
        "see_origin",
        "determination",
        "is_default",
        "actual_unverified",
    ]
    return out.select(first + [c for c in out.columns if c not in first]).sort(
        "installation_id",
        "period_grain",
        "period",
        "process_id",
        "source",
        "from_process_id",
        "material_id",
        "supplier_installation_id",
        "origin_country",
        "quantity_source",
        nulls_last=True,
    )


def _installation_table(
    inst: pl.DataFrame, el_totals: pl.DataFrame, attribution: pl.DataFrame
) -> pl.DataFrame:
    keys = ["installation_id", "period", "period_grain"]
    sums = attribution.group_by(keys).agg(
        sum_dirEm_tco2e=pl.col("dirEm_tco2e").pipe(fsum),
        sum_attributed_direct_tco2e=pl.col("attributed_direct_tco2e").pipe(fsum),
        heat_term_tco2e=pl.col("heat_term_tco2e").pipe(fsum),
        waste_gas_term_tco2e=pl.col("waste_gas_term_tco2e").pipe(fsum),
    )
    joined = inst.join(el_totals, on=keys, how="full", coalesce=True).join(
        sums, on=keys, how="full", coalesce=True
    )
    floats = [c for c, t in joined.schema.items() if t == pl.Float64]
    out = (
        joined.with_columns(pl.col(floats).fill_null(0.0))
        .with_columns(
            reconciliation_diff_tco2e=pl.col("direct_tco2e") - pl.col("sum_dirEm_tco2e"),
            total_tco2e=pl.col("direct_tco2e") + pl.col("indirect_tco2e"),
            _source_row_ids=distinct_sorted(
                pl.concat_list(
                    pl.col("_source_row_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                    pl.col("electricity_row_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                )
            ),
        )
        .drop("electricity_row_ids")
    )
    first = [*keys, "direct_tco2e", "biomass_tco2e", "indirect_tco2e", "total_tco2e"]
    return out.select(first + [c for c in out.columns if c not in first]).sort(keys)


def compute_cbam(
    raw: Mapping[str, pl.LazyFrame | pl.DataFrame],
    ref: CbamReference | None = None,
    *,
    years: Iterable[int] | None = None,
    grains: Sequence[str] = (YEAR, MONTH),
) -> dict[str, pl.DataFrame]:
    """Every CBAM table for the raw lake frames `raw` (dataset name → frame; absent datasets count as empty).

    `years`: reporting years to compute (default: every year present); `grains`: `year` (the CBAM reporting
    period) and/or `month` (monitoring). Raises a `CbamError` subclass listing the installations, processes
    and periods concerned when the input cannot give a correct number."""
    # Dozens of plans over mostly small frames: polars' in-memory engine runs them with less fixed cost than the
    # streaming engine (its default since 2.0), about 0.2 s of 0.95 at scale 100, with the same bits
    # (docs/performance.md, 5 December). The setting is the process's until the block ends.
    with pl.Config(engine_affinity="in-memory"):
        return _compute(raw, ref if ref is not None else CbamReference.from_seeds(), years, grains)


def _compute(
    raw: Mapping[str, pl.LazyFrame | pl.DataFrame],
    ref: CbamReference,
    years: Iterable[int] | None,
    grains: Sequence[str],
) -> dict[str, pl.DataFrame]:
    yrs = sorted(set(years)) if years is not None else None
    t = {name: prepare(raw, name) for name in INPUT_SCHEMAS}
    # Purchased precursors and the export lines' rows need none of the installation's own emissions: they run in
    # other threads while the streams, attribution and electricity (dozens of small plans, mostly planning: one
    # core) run in this one. polars releases the GIL while it plans and runs. Errors come in the same order.
    with ThreadPoolExecutor(max_workers=2) as pool:
        purchasing = pool.submit(
            purchased_precursors,
            t["materials"],
            t["suppliers"],
            t["supplier_invoices"],
            t["precursor_consumption"],
            t["supplier_emissions"],
            ref,
            yrs,
        )
        reading_exports = pool.submit(export_rows, t["exports"])
        se = stream_emissions(
            t["source_streams"], t["stream_readings"], t["energy_bills"], ref, yrs, (YEAR, MONTH)
        )
        inst = installation_emissions(se)
        attr = process_attribution(se, inst, t["production"], ref, yrs)
        el_proc, el_totals = process_electricity(
            t["energy_bills"], t["installations"], attr.select(*KEYS, "activity_level_t"), ref, yrs
        )
        flows = internal_flows(t["process_flows"], yrs)
        purchased = purchasing.result()
        psee, internal = solve(attr, el_proc, purchased, flows, t["processes"])
        # What the solve settles is finished in another thread while the goods and their lineage (the longest
        # step left) are worked out in this one, and the export lines in a third.
        settling = pool.submit(
            lambda: _finished(
                {
                    "stream_emissions": se,
                    "installation_emissions": _installation_table(inst, el_totals, attr),
                    "process_attribution": attr,
                    "process_electricity": el_proc,
                    "precursor_inputs": _precursor_inputs(purchased, internal, psee),
                    "process_see": psee,
                },
                grains,
            )
        )
        goods_numbers = goods_see(t["products"], psee, t["production"], ref, yrs)
        exports = reading_exports.result()
        exporting = pool.submit(
            lambda: _finished(
                {"export_lines": export_lines(exports, t["products"], t["installations"], goods_numbers, ref)}
            )
        )
        goods = _finished({"goods_see": with_goods_lineage(goods_numbers, psee)}, grains)
        classification = _finished(
            {"product_classification": product_classification(t["products"], t["processes"], ref)}
        )
        return {**settling.result(), **goods, **exporting.result(), **classification}


def _finished(
    tables: Mapping[str, pl.DataFrame], grains: Sequence[str] | None = None
) -> dict[str, pl.DataFrame]:
    """Each table with the columns, order and types its contract declares (data_contracts/computed/
    <table>.odcs.yaml) and its rows in grain order; with `grains`, only those grains' rows."""
    # (no filter when it would keep every row: it would still copy the lineage lists)
    dropping = grains is not None and not {YEAR, MONTH} <= set(grains)
    out = {}
    for name, table in tables.items():
        kept = table.filter(pl.col("period_grain").is_in(list(grains))) if dropping and grains else table
        out[name] = canonical(conform(name, kept), computed_table(name).grain)
    return out


def summarise_goods(goods: pl.DataFrame, decimals: int = 5) -> pl.DataFrame:
    """Per good (installation × product × reporting year) for people: SEE rounded half-up to `decimals` (MIR
    Annex II A.1(8): at most 5), default-value share as a rounded fraction, the electricity factor source."""
    year = goods.filter(pl.col("period_grain") == YEAR)
    return year.select(
        "installation_id",
        "period",
        "product_id",
        "product_name",
        "cn_code",
        "goods_category",
        "annex_ii_direct_only",
        "determination",
        *(
            round_half_up(pl.col(c), decimals).alias(c)
            for c in (
                "see_direct",
                "see_indirect",
                "see_total",
                "see_chargeable",
                "embedded_electricity_mwh_per_t",
            )
        ),
        round_half_up(pl.col("default_value_share"), 4).alias("default_value_share"),
        "electricity_ef_source",
        "functional_unit",
        round_half_up(pl.col("see_total_per_fu"), decimals).alias("see_total_per_fu"),
    ).sort("installation_id", "period", "product_id")
