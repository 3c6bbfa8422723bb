"""Country resolution: every country in lingtan goes through here (ISO 3166-1 alpha-2 out).

Accepts alpha-2, alpha-3, English short/official names, Chinese names and the CBAM workbooks' spellings.
Exact matches only (after NFKC and case folding): "中国香港" never resolves to China by substring.
A value that cannot be resolved is returned as null, for the caller to quarantine with a reason.
"""

from __future__ import annotations

import csv
from functools import cache

import polars as pl

from transforms.reference.seeds import REFERENCE_DIR
from transforms.text import key_expr, norm_key


@cache
def countries() -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DIR / "countries.csv", infer_schema=False).with_columns(
        pl.col("is_eu_member", "cbam_exempt_origin").replace_strict(
            {"True": True, "False": False}, return_dtype=pl.Boolean
        )
    )


@cache
def _lookup() -> dict[str, str]:
    keys: dict[str, set[str]] = {}
    with (REFERENCE_DIR / "countries.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names = [row["iso2"], row["iso3"], row["name_en"], row["name_zh"], *row["aliases"].split("|")]
            for n in names:
                if n:
                    keys.setdefault(norm_key(n), set()).add(row["iso2"])
    # A spelling shared by two countries is ambiguous and resolves to nothing (never a guess).
    return {k: next(iter(v)) for k, v in keys.items() if len(v) == 1}


def to_iso2(value: str | None) -> str | None:
    if value is None:
        return None
    return _lookup().get(norm_key(value))


def resolve_expr(expr: pl.Expr) -> pl.Expr:
    """Polars expression: any accepted spelling → ISO alpha-2, else null."""
    lk = _lookup()
    return key_expr(expr).replace_strict(list(lk), list(lk.values()), default=None, return_dtype=pl.String)


def name_en(iso2: str) -> str:
    row = countries().filter(pl.col("iso2") == iso2)
    return row["name_en"][0] if row.height else iso2


def is_eu(iso2: str | None) -> bool:
    return bool(iso2) and iso2 in set(countries().filter("is_eu_member")["iso2"])
