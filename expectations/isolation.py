"""Row rules of the footprint and inventory tables, attributed to the installation and year they concern
(docs/reliability.md, "Isolation").

A failing row here never holds back the CBAM tables nor another installation's numbers: the computed gate of
the footprint engines reports these lines as a warning (the tables are published, so the warehouse shows the
rows), and the report gate blocks the documents that read the failing mart for that installation and year.
The rules live here once; they are evaluated on the computed tables (computed gate) and on the marts of the same
shape (report gate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from transforms.reports.base import NO_INSTALLATION


@dataclass(frozen=True)
class RowRule:
    column: str
    bad: pl.Expr  # true on a failing row
    says: str  # what is wrong, in words


def _not_null(c: str) -> RowRule:
    return RowRule(c, pl.col(c).is_null(), "is missing")


def _non_negative(c: str) -> RowRule:
    return RowRule(c, pl.col(c) < 0, "is negative")


def _share(c: str) -> RowRule:
    return RowRule(c, ~pl.col(c).is_between(0, 1 + 1e-9), "is outside 0..1")


def _finite(c: str) -> RowRule:
    return RowRule(c, ~pl.col(c).is_finite(), "is not finite")


# computed table → (its mart, the key columns shown, the rules)
RULES: dict[str, tuple[str, tuple[str, ...], tuple[RowRule, ...]]] = {
    "product_footprint": (
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
            RowRule("period_grain", ~pl.col("period_grain").is_in(["year", "month"]), "is not year/month"),
        ),
    ),
    "site_inventory": (
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
            RowRule("period_grain", ~pl.col("period_grain").is_in(["year", "month"]), "is not year/month"),
        ),
    ),
}
MARTS = tuple(mart for mart, _, _ in RULES.values())
MAX_ROWS_NAMED = 5  # rows listed per line; the count says how many failed


def findings(tables: Mapping[str, pl.DataFrame], by_mart: bool = False) -> pl.DataFrame:
    """One row per (table, installation, year, column, rule) that fails: `rows` failing, up to five of them
    named by their key. `tables` maps computed-table names (or, with `by_mart`, mart names) to frames."""
    parts = []
    for table, (mart, keys, rules) in RULES.items():
        df = tables.get(mart if by_mart else table)
        if df is None or df.is_empty():
            continue
        for rule in rules:
            if rule.column not in df.columns:
                continue
            hit = df.filter(rule.bad.fill_null(False))  # a null share or amount: only `_not_null` cares
            if hit.is_empty():
                continue
            label = pl.concat_str([pl.col(k).cast(pl.String).fill_null("?") for k in keys], separator=" ")
            parts.append(
                hit.select(
                    installation=pl.col("installation_id").fill_null(NO_INSTALLATION),
                    year=pl.col("period").cast(pl.String).str.slice(0, 4).fill_null(""),
                    label=label,
                    value=pl.col(rule.column).cast(pl.String).fill_null("null"),
                )
                .group_by("installation", "year")
                .agg(
                    rows=pl.len(),
                    named=pl.concat_str(["label", pl.lit(" = "), "value"]).sort().head(MAX_ROWS_NAMED),
                )
                .with_columns(
                    table=pl.lit(table), mart=pl.lit(mart), rule=pl.lit(f"{rule.column} {rule.says}")
                )
            )
    if not parts:
        return pl.DataFrame(
            schema={
                "installation": pl.String,
                "year": pl.String,
                "rows": pl.UInt32,
                "named": pl.List(pl.String),
                "table": pl.String,
                "mart": pl.String,
                "rule": pl.String,
            }
        )
    return pl.concat(parts).sort("installation", "year", "table", "rule")


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
