"""Gate rules of the zero-carbon tables (transforms/zero_carbon), on the staged frames before they are published:
`reconcile_ledger` and `reconcile_zero_carbon` (keys repeated) are blocking; a wrong claim or a pass without data is a
row finding of its installation (or park) and year (expectations/isolation.py, `claim_problems`): published, and
the report gate blocks the documents that read it; `bills_disagreement` and `missing_inputs` feed the warning checks (`gec_bills_reconciled`,
`indicator_inputs_complete`)."""

from __future__ import annotations

import polars as pl

from expectations import isolation

# Indicators whose data lingtan does not ingest yet: their "no data" is expected, not an incomplete input.
NOT_INGESTED = ("P3", "P4", "P5", "P6", "F7")


def _dupes(df: pl.DataFrame, keys: list[str], name: str) -> list[str]:
    n = df.height - df.select(keys).unique().height
    return [f"{name}: {n} rows repeat the key ({', '.join(keys)})"] if n else []


def reconcile_ledger(tables: dict[str, pl.DataFrame]) -> list[str]:
    """What blocks the ledger: a batch repeated, a claimable batch without site or period (it belongs to no
    installation: expectations/isolation.py, structural), the claims table ≠ the ledger's claims (home-wide), a
    rejected row without a reason. A claim beyond validity or above the batch is a row finding of its site and
    year (expectations/isolation.py)."""
    ledger, claims, rejects = tables["gec_ledger"], tables["gec_claims"], tables["gec_ledger_rejects"]
    out = _dupes(ledger, ["certificate_batch_id"], "gec_ledger")
    claimed = ledger.filter(pl.col("claimable"))["mwh"].sum()
    total = claims["gec_claimable_mwh"].sum()
    if abs(claimed - total) > 1e-9 * max(1.0, abs(claimed)):
        out.append(f"gec_claims: {total} MWh ≠ the ledger's claimable {claimed} MWh")
    if rejects.filter(pl.col("reason").is_null() | (pl.col("reason") == "")).height:
        out.append("gec_ledger_rejects: a rejected row has no reason")
    return out


def reconcile_zero_carbon(tables: dict[str, pl.DataFrame]) -> list[str]:
    """What blocks the indicator tables: a key repeated. The row rules (a pass only with data and a threshold,
    finite values, a claim allowed only when closed and offset) are attributed per installation and year in
    expectations/isolation.py; `claim_problems` gives their lines."""
    ind, claims = tables["zero_carbon_indicators"], tables["carbon_neutrality_claims"]
    out = _dupes(ind, ["level", "entity_id", "year", "indicator_id", "basis"], "zero_carbon_indicators")
    out += _dupes(claims, ["level", "entity_id", "year"], "carbon_neutrality_claims")
    return out


def claim_problems(tables: dict[str, pl.DataFrame]) -> list[str]:
    """The indicator and claim row rules' lines (expectations/isolation.py), per installation (or park) and year."""
    names = ("zero_carbon_indicators", "carbon_neutrality_claims")
    return isolation.lines(
        isolation.findings({n: tables[n] for n in names if n in tables}), "zero-carbon gate"
    )


def bills_disagreement(reconciliation: pl.DataFrame) -> list[str]:
    """Sites × years where the ledger and the bills' gec_mwh both exist and differ (a warning: the ledger wins)."""
    return [
        f"{r['installation_id']} {r['year']}: ledger {r['ledger_claimable_mwh']:.6g} MWh vs bills {r['bills_gec_mwh']:.6g} MWh"
        for r in reconciliation.filter(pl.col("status") == "differ").iter_rows(named=True)
    ]


def missing_inputs(
    indicators: pl.DataFrame, metered_sites: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """Indicators without data for a reason other than data lingtan does not ingest yet (a warning). F3 (hourly
    matching) counts only for sites with EMS meters (`metered_sites`): a site without meters has no interval
    data to miss."""
    no_ems = (pl.col("indicator_id") == "F3") & ~pl.col("entity_id").is_in(list(metered_sites))
    return [
        f"{r['level']} {r['entity_id']} {r['year']} {r['indicator_id']} ({r['basis']}): {r['reason']}"
        for r in indicators.filter(
            (pl.col("status") == "no data") & ~pl.col("indicator_id").is_in(NOT_INGESTED) & ~no_ems
        ).iter_rows(named=True)
    ]
