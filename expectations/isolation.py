"""Row rules of the computed tables, attributed to the installation and year they concern (docs/reliability.md,
"Isolation").

A failing row here never holds back another installation's numbers: the computed gate reports these lines as a
warning (the tables are published, so the warehouse shows the rows), and the report gate blocks the documents
that read the failing mart, or a mart built from it (`Table.affects`), for that installation and year. What
cannot be attributed (a table or a column missing, a key repeated) stays blocking in the engines' gates.

The rules live here once; they are evaluated on the computed tables (computed gate) and on the marts of the same
shape (report gate; `Table.renames` maps a mart's column names back to the table's). Rules across tables (the
CBAM engine's reconciliations) are `CROSS_RULES`, evaluated the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from transforms.reports.base import NO_INSTALLATION
from transforms.zero_carbon.ledger import period_bounds

# A park-level row (zero-carbon park indicators and claims) concerns every installation of the home: it blocks
# the documents of that year that read its mart, whichever installations they cover.
EVERY_INSTALLATION = "(every installation)"
REL_TOL = 1e-9  # the engines' reconciliation tolerance (relative, with an absolute floor of REL_TOL)


@dataclass(frozen=True)
class RowRule:
    column: str  # the value shown for a failing row
    bad: pl.Expr  # true on a failing row
    says: str  # what is wrong, in words
    needs: tuple[str, ...] = ()  # further columns the rule reads (a table without them fails structurally)
    structural: bool = False  # a failing row cannot be attributed (a key missing): it blocks (`structural`)


def _not_null(c: str) -> RowRule:
    return RowRule(c, pl.col(c).is_null(), "is missing")


def _key(c: str) -> RowRule:
    """A key column: a row without it belongs to no installation or year, and the mart's contract refuses it."""
    return RowRule(c, pl.col(c).is_null(), "is missing (a key)", structural=True)


def _non_negative(c: str) -> RowRule:
    return RowRule(c, pl.col(c) < 0, "is negative")


def _share(c: str) -> RowRule:
    return RowRule(c, ~pl.col(c).is_between(0, 1 + 1e-9), "is outside 0..1")


def _finite(c: str) -> RowRule:
    return RowRule(c, ~pl.col(c).is_finite(), "is not finite")


def _grain() -> RowRule:
    return RowRule("period_grain", ~pl.col("period_grain").is_in(["year", "month"]), "is not year/month")


def _cn(c: str = "cn_code") -> RowRule:
    return RowRule(c, ~pl.col(c).cast(pl.String).str.contains(r"^\d{8}$"), "is not an 8-digit CN code")


def _far(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """a and b differ beyond the reconciliation tolerance (nulls count as 0, as the engines' sums do)."""
    a, b = a.fill_null(0.0), b.fill_null(0.0)
    return (a - b).abs() > REL_TOL * pl.max_horizontal(pl.lit(1.0), a.abs(), b.abs())


@dataclass(frozen=True)
class Table:
    mart: str  # where a person looks (schema `marts`)
    keys: tuple[str, ...]  # the columns naming a failing row
    rules: tuple[RowRule, ...]
    affects: tuple[
        str, ...
    ] = ()  # marts built from this table besides its own: their documents are blocked too
    installation: pl.Expr = field(default_factory=lambda: pl.col("installation_id"))
    year: pl.Expr = field(default_factory=lambda: pl.col("period").cast(pl.String).str.slice(0, 4))
    needs: tuple[str, ...] = ("installation_id", "period")  # what `installation` and `year` read
    renames: Mapping[str, str] = field(default_factory=dict)  # mart column → table column
    # the report gate reads the mart again (False: too many rows to read whole for every report run; a table
    # that sums it carries the rule there, as energy_balance does meter_hourly's counts)
    report_gate: bool = True


_CBAM = (
    "fct_stream_emissions",
    "fct_installation_emissions",
    "fct_process_see",
    "fct_precursor_inputs",
    "fct_goods_see",
    "fct_goods_free_allocation",
    "fct_cbam_export_lines",
    "fct_cbam_declaration_lines",
)
_GOODS = ("fct_goods_see", "fct_goods_free_allocation", "fct_cbam_export_lines", "fct_cbam_declaration_lines")
_EXPORTS = ("fct_cbam_export_lines", "fct_cbam_declaration_lines")
_GHG = ("fct_site_ghg_inventory", "fct_product_footprint")
_ZERO_CARBON = ("fct_zero_carbon_indicators", "fct_carbon_neutrality_claim")
_EMS = ("fct_meter_hourly", "fct_energy_balance")
# an installation's emissions feed every CBAM figure of it, its inventory (Scope 1 = CBAM direct), its product
# footprints and its zero-carbon indicators
_EMISSIONS_FEED = _CBAM + _GHG + _ZERO_CARBON

_used = pl.col("intervals_measured") + pl.col("intervals_estimated")
_COUNTS = ("intervals_expected", "intervals_measured", "intervals_estimated", "intervals_missing")
_site_or_every = (
    pl.when(pl.col("level") == "park").then(pl.lit(EVERY_INSTALLATION)).otherwise(pl.col("entity_id"))
)

# computed table → its mart, the key columns shown, the rules, and what else it feeds
RULES: dict[str, Table] = {
    # --- CBAM engine (the Great Expectations suites these replace checked the same, without the installation)
    "installation_emissions": Table(
        "fct_installation_emissions",
        ("period",),
        (
            *map(_key, ("installation_id", "period")),
            *map(_not_null, ("direct_tco2e", "indirect_tco2e")),
            *map(_finite, ("direct_tco2e", "indirect_tco2e")),
            *map(_non_negative, ("direct_tco2e", "indirect_tco2e", "biomass_tco2e", "electricity_mwh")),
            _grain(),
        ),
        _EMISSIONS_FEED,
    ),
    "process_see": Table(
        "fct_process_see",
        ("process_id", "period"),
        (
            *map(_key, ("installation_id", "process_id", "period")),
            _not_null("activity_level_t"),
            *map(_finite, ("see_direct", "see_indirect")),
            *map(
                _non_negative,
                (
                    "activity_level_t",
                    "see_direct",
                    "see_indirect",
                    "attributed_direct_tco2e",
                    "attributed_indirect_tco2e",
                ),
            ),
            _share("default_value_share"),
            _grain(),
        ),
        _EMISSIONS_FEED,
    ),
    "goods_see": Table(
        "fct_goods_see",
        ("product_id", "period"),
        (
            *map(_key, ("installation_id", "product_id", "period")),
            _not_null("cn_code"),
            *map(_finite, ("see_direct", "see_indirect", "see_total", "see_chargeable")),
            *map(_non_negative, ("see_direct", "see_indirect", "see_total", "see_chargeable")),
            _share("default_value_share"),
            _cn(),
            _grain(),
        ),
        _GOODS,
    ),
    "export_lines": Table(
        "fct_cbam_export_lines",
        ("export_id", "line_no"),
        (
            *map(_key, ("export_id", "line_no")),
            *map(_not_null, ("cn_code", "net_mass_t", "determination")),
            *map(_finite, ("net_mass_t", "embedded_direct_tco2e", "embedded_indirect_tco2e")),
            *map(
                _non_negative,
                (
                    "net_mass_t",
                    "embedded_direct_tco2e",
                    "embedded_indirect_tco2e",
                    "embedded_chargeable_tco2e",
                ),
            ),
            _share("default_value_share"),
            _cn(),
            RowRule(
                "embedded_direct_tco2e",
                _far(pl.col("embedded_direct_tco2e"), pl.col("net_mass_t") * pl.col("see_direct"))
                & pl.col("see_direct").is_not_null(),
                "is not net mass × SEE direct",
                ("net_mass_t", "see_direct"),
            ),
        ),
        _EXPORTS,
        # a line is reported in the year its good was produced, else the year it was declared
        year=pl.coalesce(pl.col("production_period"), pl.col("declaration_date"))
        .cast(pl.String)
        .str.slice(0, 4),
        needs=("installation_id", "production_period", "declaration_date"),
    ),
    # --- footprint engines
    "product_footprint": Table(
        "fct_product_footprint",
        ("product_id", "period"),
        (
            _not_null("product_id"),
            _not_null("period"),
            _not_null("cradle_to_gate_tco2e_per_t"),
            _finite("cradle_to_gate_tco2e_per_t"),
            _non_negative("cradle_to_gate_tco2e_per_t"),
            _share("primary_data_share"),
            _share("renewable_electricity_share"),
            RowRule("data_quality_score", ~pl.col("data_quality_score").is_between(1, 5), "is outside 1..5"),
            _grain(),
        ),
    ),
    "site_inventory": Table(
        "fct_site_ghg_inventory",
        ("period",),
        (
            _not_null("installation_id"),
            _not_null("period"),
            _finite("scope1_tco2e"),  # null is legitimate: a period without plant data (scope1_basis missing)
            _non_negative("scope1_tco2e"),
            _non_negative("scope2_location_tco2e"),
            _non_negative("scope2_market_tco2e"),
            _share("renewable_electricity_share"),
            _grain(),
        ),
    ),
    # --- interval engine (EMS): its hours and balances feed the zero-carbon indicators (F3, hourly matching)
    "meter_hourly": Table(
        "fct_meter_hourly",
        ("meter_id", "hour_start"),
        (
            RowRule(
                "intervals_expected",
                (pl.col("intervals_expected") != _used + pl.col("intervals_missing"))
                | (pl.col("intervals_missing") < 0),
                "is not measured + estimated + missing",
                _COUNTS,
            ),
            RowRule(
                "quantity",
                pl.col("quantity").is_null() != (_used == 0),
                "is null against its interval counts (null exactly when nothing was measured or estimated)",
                _COUNTS,
            ),
            _non_negative("quantity"),
            _finite("quantity"),
        ),
        _EMS + _ZERO_CARBON,
        year=pl.col("hour_start").cast(pl.String).str.slice(0, 4),
        needs=("installation_id", "hour_start"),
        report_gate=False,  # one row per meter and hour; the balance sums its counts
    ),
    "energy_balance": Table(
        "fct_energy_balance",
        ("period",),
        (
            RowRule(
                "intervals_expected",
                pl.col("intervals_expected") != _used + pl.col("intervals_missing"),
                "is not measured + estimated + missing (the hours: fct_meter_hourly)",
                _COUNTS,
            ),
            _share("renewable_share_hourly"),
            _share("metering_completeness"),
            RowRule(
                "hours_with_data",
                pl.col("hours_with_data") > pl.col("hours_total"),
                "is more than hours_total",
                ("hours_total",),
            ),
            _grain(),
        ),
        _ZERO_CARBON,
    ),
    # --- certificate ledger: a claimable batch counts in its site's market-based Scope 2, energy balance and
    # indicators (a claimable batch without site or period is structural: it belongs to no installation)
    "gec_ledger": Table(
        "fct_gec_ledger",
        ("certificate_batch_id",),
        (
            RowRule(
                "claimed_installation_id",
                pl.col("claimable") & pl.col("claimed_installation_id").is_null(),
                "is missing on a claimable batch",
                ("claimable",),
                structural=True,
            ),
            RowRule(
                "claimed_period",
                pl.col("claimable") & period_bounds(pl.col("claimed_period"))[1].is_null(),
                "is not a YYYY or YYYY-MM period on a claimable batch",
                ("claimable",),
                structural=True,
            ),
            RowRule(
                "claimed_period",
                pl.col("claimable") & (period_bounds(pl.col("claimed_period"))[1] > pl.col("valid_until")),
                "ends after the batch's validity on a claimable batch",
                ("claimable", "valid_until"),
            ),
            RowRule(
                "claimed_mwh",
                pl.col("claimable") & (pl.col("claimed_mwh") > pl.col("mwh")),
                "is more than the batch's MWh on a claimable batch",
                ("claimable", "mwh"),
            ),
        ),
        ("fct_energy_balance", "fct_site_ghg_inventory", "fct_product_footprint", *_ZERO_CARBON),
        installation=pl.col("claimed_installation_id"),
        year=pl.col("claimed_period").cast(pl.String).str.slice(0, 4),
        needs=("claimed_installation_id", "claimed_period"),
    ),
    # --- zero-carbon indicators and claims (park rows concern every installation)
    "zero_carbon_indicators": Table(
        "fct_zero_carbon_indicators",
        ("level", "entity_id", "indicator_id", "basis"),
        (
            RowRule(
                "status",
                pl.col("passes").fill_null(False) & (pl.col("status") != "pass"),
                "is not 'pass' although the indicator passes",
                ("passes",),
            ),
            RowRule(
                "value",
                (pl.col("status") == "no data")
                & (pl.col("value").is_not_null() | pl.col("passes").is_not_null()),
                "is set although the status is 'no data'",
                ("status", "passes"),
            ),
            _finite("value"),
        ),
        ("fct_carbon_neutrality_claim",),
        installation=_site_or_every,
        year=pl.col("year").cast(pl.String),
        needs=("level", "entity_id", "year"),
    ),
    "carbon_neutrality_claims": Table(
        "fct_carbon_neutrality_claim",
        ("level", "entity_id"),
        (
            RowRule(
                "claim_allowed",
                pl.col("claim_allowed")
                & (
                    pl.col("provisional")
                    | pl.col("gross_tco2e").is_null()
                    | (pl.col("residual_tco2e") > 1e-6)
                ),
                "is true while the year is open, the gross unknown or the residual not offset",
                ("provisional", "gross_tco2e", "residual_tco2e"),
            ),
        ),
        installation=_site_or_every,
        year=pl.col("year").cast(pl.String),
        needs=("level", "entity_id", "year"),
        renames={"is_provisional": "provisional"},
    ),
}


@dataclass(frozen=True)
class CrossRule:
    """A rule across tables: `rows` gives the failing rows of `table` with a `value` column (already named
    like a row of `table`)."""

    table: str
    reads: tuple[str, ...]  # computed tables it reads
    says: str
    rows: Callable[[dict[str, pl.DataFrame]], pl.DataFrame]


def _direct_vs_streams(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    from transforms.stable import fsum

    streams = (
        t["stream_emissions"]
        .filter(pl.col("period_grain") == "year")
        .group_by("installation_id", "period")
        .agg(pl.col("fossil_tco2e").pipe(fsum).alias("_streams"))
    )
    return (
        t["installation_emissions"]
        .filter(pl.col("period_grain") == "year")
        .join(streams, on=["installation_id", "period"], how="left", nulls_equal=True)
        .filter(_far(pl.col("direct_tco2e"), pl.col("_streams")))
        .with_columns(value=pl.format("{} vs Σ streams {}", "direct_tco2e", "_streams"))
    )


def _processes_vs_direct(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    parts = pl.col("sum_dirEm_tco2e").fill_null(0.0) + pl.col("reconciliation_diff_tco2e").fill_null(0.0)
    return (
        t["installation_emissions"]
        .filter(pl.col("period_grain") == "year")
        .filter(_far(parts, pl.col("direct_tco2e")))
        .with_columns(value=pl.format("{} vs processes + rest {}", "direct_tco2e", parts))
    )


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule(
        "installation_emissions",
        ("installation_emissions", "stream_emissions"),
        "direct_tco2e is not Σ stream fossil emissions",
        _direct_vs_streams,
    ),
    CrossRule(
        "installation_emissions",
        ("installation_emissions",),
        "direct_tco2e is not Σ process DirEm* + unattributed streams + rest",
        _processes_vs_direct,
    ),
)
# mart column names the cross rules read under the table's name
MART_RENAMES: dict[str, dict[str, str]] = {
    "fct_installation_emissions": {"sum_process_dir_em_tco2e": "sum_dirEm_tco2e"},
    "fct_carbon_neutrality_claim": {"is_provisional": "provisional"},
}
# tables the cross rules read that have no row rules of their own → their marts
READ_ONLY = {"stream_emissions": "fct_stream_emissions"}
# the marts the report gate reads to run the rules again
MARTS = tuple(dict.fromkeys([*(t.mart for t in RULES.values() if t.report_gate), *READ_ONLY.values()]))
MART_OF = {name: t.mart for name, t in RULES.items()}
MAX_ROWS_NAMED = 5  # rows listed per line; the count says how many failed

FINDINGS_SCHEMA = {
    "installation": pl.String,
    "year": pl.String,
    "rows": pl.UInt32,
    "named": pl.List(pl.String),
    "table": pl.String,
    "mart": pl.String,
    "rule": pl.String,
}


def _frames(tables: Mapping[str, pl.DataFrame], by_mart: bool) -> dict[str, pl.DataFrame]:
    """Computed-table name → frame; with `by_mart`, `tables` are marts, renamed back to the tables' columns."""
    if not by_mart:
        return dict(tables)
    out = {}
    for name, mart in [*((n, t.mart) for n, t in RULES.items() if t.report_gate), *READ_ONLY.items()]:
        df = tables.get(mart)
        if df is not None:
            renames = {k: v for k, v in MART_RENAMES.get(mart, {}).items() if k in df.columns}
            out[name] = df.rename(renames)
    return out


def _grouped(hit: pl.DataFrame, name: str, t: Table, value: pl.Expr, rule: str) -> pl.DataFrame:
    label = pl.concat_str([pl.col(k).cast(pl.String).fill_null("?") for k in t.keys], separator=" ")
    return (
        hit.select(
            installation=t.installation.cast(pl.String).fill_null(NO_INSTALLATION),
            year=t.year.fill_null(""),
            label=label,
            value=value.cast(pl.String).fill_null("null"),
        )
        .group_by("installation", "year")
        .agg(
            rows=pl.len(), named=pl.concat_str(["label", pl.lit(" = "), "value"]).sort().head(MAX_ROWS_NAMED)
        )
        .with_columns(table=pl.lit(name), mart=pl.lit(t.mart), rule=pl.lit(rule))
    )


def findings(tables: Mapping[str, pl.DataFrame], by_mart: bool = False) -> pl.DataFrame:
    """One row per (table, installation, year, rule) that fails: `rows` failing, up to five of them named by
    their key. `tables` maps computed-table names (or, with `by_mart`, mart names) to frames; a table or
    column that is absent is not evaluated here (`structural` names it)."""
    frames = _frames(tables, by_mart)
    parts = []
    for name, t in RULES.items():
        df = frames.get(name)
        if df is None or df.is_empty() or any(c not in df.columns for c in (*t.needs, *t.keys)):
            continue
        for rule in t.rules:
            if rule.structural or any(c not in df.columns for c in (rule.column, *rule.needs)):
                continue
            hit = df.filter(rule.bad.fill_null(False))  # a null share or amount: only `_not_null` cares
            if not hit.is_empty():
                parts.append(_grouped(hit, name, t, pl.col(rule.column), f"{rule.column} {rule.says}"))
    for cross in CROSS_RULES:
        if all(n in frames and not frames[n].is_empty() for n in cross.reads):
            try:
                hit = cross.rows(frames)
            except pl.exceptions.ColumnNotFoundError:
                continue  # a column missing: `structural` names it
            if not hit.is_empty():
                parts.append(_grouped(hit, cross.table, RULES[cross.table], pl.col("value"), cross.says))
    if not parts:
        return pl.DataFrame(schema=FINDINGS_SCHEMA)
    return pl.concat(parts).select(list(FINDINGS_SCHEMA)).sort("installation", "year", "table", "rule")


def structural(tables: Mapping[str, pl.DataFrame], expected: tuple[str, ...] = ()) -> list[str]:
    """What no installation can be blamed for, so it blocks: an `expected` table not produced, a ruled table
    without a column its rules read (the schema is broken), or rows without a key."""
    # a reconciliation's other tables are expected wherever its own table is
    expected += tuple(n for c in CROSS_RULES if c.table in tables for n in c.reads)
    out = [
        f"{name}: table missing (the engine did not produce it)"
        for name in dict.fromkeys(expected)
        if name not in tables
    ]
    for name, df in tables.items():
        t = RULES.get(name)
        if t is None:
            continue
        reads = {*t.needs, *t.keys, *(c for r in t.rules for c in (r.column, *r.needs))}
        reads |= {
            c for cross in CROSS_RULES if cross.table == name for c in _CROSS_COLUMNS.get(cross.rows, ())
        }
        if missing := sorted(reads - set(df.columns)):
            out.append(f"{name}: column(s) {', '.join(missing)} missing (schema broken)")
            continue
        for rule in (r for r in t.rules if r.structural):
            if n := df.filter(rule.bad.fill_null(False)).height:
                out.append(f"{name}: {rule.column} {rule.says} in {n} row(s) (see marts.{t.mart})")
    return out


_CROSS_COLUMNS: dict[Callable, tuple[str, ...]] = {
    _direct_vs_streams: ("direct_tco2e", "period_grain"),
    _processes_vs_direct: ("direct_tco2e", "sum_dirEm_tco2e", "reconciliation_diff_tco2e", "period_grain"),
}


def affected(mart: str) -> tuple[str, ...]:
    """The marts whose documents a failing row of `mart` blocks: the mart and those built from its table."""
    t = next((t for t in RULES.values() if t.mart == mart), None)
    return tuple(dict.fromkeys((mart, *(t.affects if t else ()))))


def lines(found: pl.DataFrame, gate: str) -> list[str]:
    """Each finding as one line a person can act on: the gate, installation and year, the rule, the rows, and
    where to look."""
    out = []
    for r in found.iter_rows(named=True):
        more = f" (+{r['rows'] - len(r['named'])} more)" if r["rows"] > len(r["named"]) else ""
        out.append(  # where to look before the rows: a console cuts long lines
            f"{gate}: installation {r['installation']} {r['year']}: {r['rule']} in {r['rows']} row(s) of "
            f"{r['table']} (see marts.{r['mart']}): {', '.join(r['named'])}{more}"
        )
    return out
