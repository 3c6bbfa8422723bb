"""Energy carriers: the one rule that says what an `energy_bills.carrier` is.

The vocabulary lives in the landing contract (data_contracts/energy_bills.odcs.yaml, column `carrier`:
`canonicalValues` and `valueAliases`). A carrier is matched by its normalised key (NFKC, trimmed, case-folded,
inner spaces collapsed: `Electricity`, ` POWER `, `电力` → `electricity`); a spelling the contract does not list
stays unclassified (null), so the bill is kept but is neither electricity nor heat. Both the CBAM engine
(indirect emissions) and the GHG engines (Scope 2, footprint) classify bills with `energy_kind_expr`, so the
same bill is electricity for both.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from transforms.contracts import dataset
from transforms.text import key_expr, norm_key

ELECTRICITY = "electricity"
HEAT = "heat"
# Energy kind of the carriers bought as energy rather than fuel (Scope 2 / CBAM indirect); fuels have none.
ENERGY_KINDS: dict[str, str] = {"electricity": ELECTRICITY, "heat": HEAT, "steam": HEAT}


@cache
def carriers() -> tuple[str, ...]:
    """The canonical carriers of the contract."""
    return dataset("energy_bills").column("carrier").canonical


@cache
def spellings() -> dict[str, str]:
    """Normalised spelling → canonical carrier (each canonical value is its own spelling)."""
    col = dataset("energy_bills").column("carrier")
    out: dict[str, str] = {norm_key(c): c for c in col.canonical}
    for spelling, canonical in col.value_aliases:
        if canonical not in col.canonical:
            raise ValueError(f"energy_bills.carrier: alias {spelling!r} names unknown carrier {canonical!r}")
        key = norm_key(spelling)
        if out.get(key, canonical) != canonical:
            raise ValueError(f"energy_bills.carrier: spelling {spelling!r} is ambiguous")
        out[key] = canonical
    missing = set(ENERGY_KINDS) - set(col.canonical)
    if missing:
        raise ValueError(f"energy_bills.carrier: canonicalValues lacks {sorted(missing)}")
    return out


def canonical_carrier(value: str | None) -> str | None:
    """Canonical carrier of one spelling, or None when the contract does not list it."""
    return None if value is None else spellings().get(norm_key(value))


def carrier_expr(expr: pl.Expr) -> pl.Expr:
    """Polars: carrier text → canonical carrier, null when unknown or empty."""
    table = spellings()
    return key_expr(expr).replace_strict(
        list(table), list(table.values()), default=None, return_dtype=pl.String
    )


def energy_kind_expr(expr: pl.Expr) -> pl.Expr:
    """Polars: carrier text → `electricity`, `heat` (heat, steam) or null (fuels, unknown spellings)."""
    table = {k: ENERGY_KINDS[v] for k, v in spellings().items() if v in ENERGY_KINDS}
    return key_expr(expr).replace_strict(
        list(table), list(table.values()), default=None, return_dtype=pl.String
    )


def is_electricity(expr: pl.Expr) -> pl.Expr:
    """Polars: the bill is electricity (null carrier → False)."""
    return (energy_kind_expr(expr) == ELECTRICITY).fill_null(False)
