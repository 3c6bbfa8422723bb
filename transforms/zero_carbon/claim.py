"""ISO 14068-1:2023 carbon-neutrality claim view per site and per declared park and year (docs/methodology/zero-carbon.md
section 3; PAS 2060 withdrawn 30 Nov 2025).

Boundary: Scope 1 + Scope 2 market-based of the site (a park: the sum over its member sites). Order reduce → remove →
offset: reductions against the base year are reported first, removals next (lingtan has no removal dataset: 0, said
so), then the credits retired for exactly that period (`carbon_credits.retired_for_period` = the year, or a month of
it); credits retired for another period never count. residual = gross − removals − credits. A claim is allowed only
when the year is closed (not provisional), the gross is known (Scope 1 on file for every site) and residual ≤ 0;
`why` says which condition decided.
"""

from __future__ import annotations

import polars as pl

from transforms.stable import canonical, fsum

CLAIM_COLUMNS = [
    "level", "entity_id", "year", "boundary", "base_year", "base_year_gross_tco2e", "gross_tco2e",
    "scope1_tco2e", "scope2_market_tco2e", "reductions_tco2e", "removals_tco2e", "credits_retired_tco2e",
    "removal_credits_tco2e", "avoidance_credits_tco2e", "credits_other_periods_tco2e", "residual_tco2e",
    "provisional", "claim_allowed", "why", "members", "credit_ids",
]  # fmt: skip
_TOL = 1e-9  # tCO2e: a residual within summation noise of zero is zero


def carbon_neutrality_claims(
    site_inventory: pl.DataFrame,
    credits: pl.DataFrame,
    parks: pl.DataFrame | pl.LazyFrame | None = None,
    base_year: int | None = None,
) -> pl.DataFrame:
    """CLAIM_COLUMNS per site × year and per park × year.

    `credits`: `ledger.credits_retired` (entity_id = a site or a park id, period `YYYY`/`YYYY-MM`); `base_year`:
    the base year of every entity (None: each entity's first year with a known gross)."""
    years = site_inventory.filter(pl.col("period_grain") == "year").select(
        "installation_id",
        year="period",
        scope1_tco2e="scope1_tco2e",
        scope2_market_tco2e="scope2_market_tco2e",
        provisional=pl.col("provisional").fill_null(False),
    )
    sites = years.with_columns(
        level=pl.lit("site"),
        entity_id="installation_id",
        members="installation_id",
        missing_s1=pl.col("scope1_tco2e").is_null(),
    )
    frames = [sites]
    if parks is not None:
        members = parks.lazy().select("park_id", "installation_id").unique().collect()
        park = (
            members.join(years, on="installation_id", how="inner")
            .group_by("park_id", "year")
            .agg(
                scope1_tco2e=pl.col("scope1_tco2e").pipe(fsum),
                scope2_market_tco2e=pl.col("scope2_market_tco2e").pipe(fsum),
                provisional=pl.col("provisional").any(),
                missing_s1=pl.col("scope1_tco2e").is_null().any(),
                members=pl.col("installation_id").sort().str.join(", "),
            )
            .with_columns(level=pl.lit("park"), entity_id="park_id")
        )
        frames.append(park)
    ent = pl.concat(
        [
            f.select(
                "level",
                "entity_id",
                "year",
                "scope1_tco2e",
                "scope2_market_tco2e",
                "provisional",
                "missing_s1",
                "members",
            )
            for f in frames
        ],
        how="vertical_relaxed",
    ).with_columns(
        gross_tco2e=pl.when(~pl.col("missing_s1")).then(
            pl.col("scope1_tco2e") + pl.col("scope2_market_tco2e")
        )
    )
    by_year = credits.with_columns(year=pl.col("period").str.slice(0, 4))
    this = by_year.group_by("entity_id", "year").agg(
        credits_retired_tco2e=pl.col("credits_retired_tco2e").pipe(fsum),
        removal_credits_tco2e=pl.col("removal_credits_tco2e").pipe(fsum),
        avoidance_credits_tco2e=pl.col("avoidance_credits_tco2e").pipe(fsum),
        credit_ids=pl.col("source_row_ids").list.explode(keep_nulls=False, empty_as_null=False).sort(),
    )
    total = by_year.group_by("entity_id").agg(_all_credits=pl.col("credits_retired_tco2e").pipe(fsum))
    known = ent.filter(pl.col("gross_tco2e").is_not_null())
    first = known.group_by("level", "entity_id").agg(base_year=pl.col("year").min())
    if base_year is not None:
        first = first.with_columns(base_year=pl.lit(str(base_year)))
    base = first.join(
        known.select("level", "entity_id", base_year="year", base_year_gross_tco2e="gross_tco2e"),
        on=["level", "entity_id", "base_year"],
        how="left",
    )
    out = (
        ent.join(this, on=["entity_id", "year"], how="left")
        .join(total, on="entity_id", how="left")
        .join(base, on=["level", "entity_id"], how="left")
        .with_columns(
            [pl.col(c).fill_null(0.0) for c in ("credits_retired_tco2e", "removal_credits_tco2e",
                                                 "avoidance_credits_tco2e", "_all_credits")],
            credit_ids=pl.col("credit_ids").fill_null(pl.lit([], pl.List(pl.String))),
            base_year=pl.col("base_year").fill_null(pl.lit(None if base_year is None else str(base_year), pl.String)),
            boundary=pl.when(pl.col("level") == "park")
            .then(pl.format("park {}: Scope 1 + Scope 2 market-based of its sites ({})", "entity_id", "members"))
            .otherwise(pl.lit("site: Scope 1 + Scope 2 market-based")),
            removals_tco2e=pl.lit(0.0),
        )
        .with_columns(
            reductions_tco2e=pl.col("base_year_gross_tco2e") - pl.col("gross_tco2e"),
            credits_other_periods_tco2e=pl.col("_all_credits") - pl.col("credits_retired_tco2e"),
            residual_tco2e=pl.col("gross_tco2e") - pl.col("removals_tco2e") - pl.col("credits_retired_tco2e"),
        )
    )  # fmt: skip
    residual_ok = pl.col("residual_tco2e") <= _TOL * pl.max_horizontal(
        pl.col("gross_tco2e").abs(), pl.lit(1.0)
    )
    why = (
        pl.when(pl.col("gross_tco2e").is_null())
        .then(pl.lit("gross emissions unknown: Scope 1 missing for the year"))
        .when(pl.col("provisional"))
        .then(pl.lit("year not closed (provisional): a claim covers a completed period"))
        .when(residual_ok)
        .then(pl.format("residual {} tCO2e ≤ 0 after credits retired for {}", pl.col("residual_tco2e").round(6), "year"))
        .when(pl.col("credits_other_periods_tco2e") > 0)
        .then(pl.format("residual {} tCO2e > 0; {} tCO2e of credits were retired for other periods and do not count",
                        pl.col("residual_tco2e").round(6), pl.col("credits_other_periods_tco2e").round(6)))
        .otherwise(pl.format("residual {} tCO2e > 0: not offset", pl.col("residual_tco2e").round(6)))
    )  # fmt: skip
    rise = pl.when(pl.col("reductions_tco2e") < 0).then(
        pl.format("; emissions rose {} tCO2e against base year {} (ISO 14068-1: reduce first)",
                  (-pl.col("reductions_tco2e")).round(6), "base_year")
    )  # fmt: skip
    out = out.with_columns(
        claim_allowed=pl.col("gross_tco2e").is_not_null()
        & ~pl.col("provisional")
        & residual_ok.fill_null(False),
        why=pl.concat_str([why, rise], ignore_nulls=True),
    )
    return canonical(out.select(CLAIM_COLUMNS), ["level", "entity_id", "year"])
