"""CN scope: a CN code's CBAM heading by longest prefix (8, then 6, then 4 digits) over the cbam_cn_goods seed.

Gives the aggregated goods category, sector, Annex II flag (direct emissions only), functional unit and whether
the code is in CBAM scope at all (False, never null, when no heading matches).
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from transforms.reference.seeds import LookupTables, refuse_existing, tables_or_seeds

# Columns `with_cn_info` adds (before its `prefix`), taken from cbam_cn_goods (`matched_prefix` = its cn_prefix).
CN_INFO_COLUMNS = [
    "goods_category",
    "sector",
    "annex_ii_direct_only",
    "functional_unit",
    "in_scope",
    "ask_operator",
    "matched_prefix",
]


def cn_digits_expr(cn: pl.Expr) -> pl.Expr:
    """Digits of a CN code; null unless 4, 6 or 8 digits (a 10-digit Chinese HS code is never a CN code)."""
    digits = cn.cast(pl.String).str.replace_all(r"\D", "")
    return pl.when(digits.str.len_chars().is_in([4, 6, 8])).then(digits)


def prefix_expr(digits: pl.Expr, n: int) -> pl.Expr:
    """The first `n` digits, null when there are fewer."""
    return pl.when(digits.str.len_chars() >= n).then(digits.str.slice(0, n))


def _longest_prefix(digits: pl.Expr, keys_by_len: dict[int, list[str]]) -> pl.Expr:
    """The longest key (8, then 6, then 4 digits) that prefixes `digits`, else null."""
    return pl.coalesce(
        [
            prefix_expr(digits, n).replace_strict(
                keys_by_len[n], keys_by_len[n], default=None, return_dtype=pl.String
            )
            for n in (8, 6, 4)
        ]
    )


@lru_cache(maxsize=8)
def _cn_keys(tables: LookupTables) -> dict[int, list[str]]:
    df = tables.cn_goods
    return {n: df.filter(pl.col("cn_prefix").str.len_chars() == n)["cn_prefix"].to_list() for n in (4, 6, 8)}


def cn_prefix_expr(cn: pl.Expr | str = "cn_code", tables: LookupTables | None = None) -> pl.Expr:
    """The longest cbam_cn_goods prefix matching the CN code (null: no CBAM heading matches)."""
    cn = pl.col(cn) if isinstance(cn, str) else cn
    return _longest_prefix(cn_digits_expr(cn), _cn_keys(tables_or_seeds(tables)))


def cn_info_expr(field: str, cn: pl.Expr | str = "cn_code", tables: LookupTables | None = None) -> pl.Expr:
    """One cbam_cn_goods column for a CN code by longest prefix, e.g. `cn_info_expr('annex_ii_direct_only')`.
    `in_scope` is False (not null) when nothing matches."""
    tables = tables_or_seeds(tables)
    df = tables.cn_goods
    values = df[field]
    expr = cn_prefix_expr(cn, tables).replace_strict(
        df["cn_prefix"].to_list(), values.to_list(), default=None, return_dtype=values.dtype
    )
    return expr.fill_null(False) if field == "in_scope" else expr


def with_cn_info(
    lf: pl.LazyFrame, cn_col: str = "cn_code", prefix: str = "", tables: LookupTables | None = None
) -> pl.LazyFrame:
    """Add goods_category, sector, annex_ii_direct_only, functional_unit, in_scope (False when no CBAM heading
    matches), ask_operator and matched_prefix, each named `prefix + name` (e.g. prefix='cn_' → cn_goods_category)."""
    tables = tables_or_seeds(tables)
    names = {c: f"{prefix}{c}" for c in CN_INFO_COLUMNS}
    refuse_existing(lf, list(names.values()), "with_cn_info")
    key = "__cn_prefix"
    info = tables.cn_goods.lazy().select(
        pl.col("cn_prefix").alias(key), *[pl.col(c).alias(names[c]) for c in CN_INFO_COLUMNS[:-1]]
    )
    return (
        lf.with_columns(cn_prefix_expr(cn_col, tables).alias(key))
        .join(info, on=key, how="left", maintain_order="left")
        .with_columns(pl.col(names["in_scope"]).fill_null(False), pl.col(key).alias(names["matched_prefix"]))
        .drop(key)
    )
