"""CBAM aggregated goods categories (IR 2025/2547 Annex I pt 2, Table 1): canonical names, sectors, accepted spellings.

Every goods category in lingtan goes through `category_expr`: canonical names, the Communication template's labels
(sheet Translations, used by Parameters_CNCodes) and a few common English and Chinese spellings, any case, exact
matches only (after NFKC, case folding and whitespace collapsing). Unknown spellings resolve to null, for the
caller to quarantine with a reason.

The template's `Alloys (FeMn, FeCr, FeNi)` names three categories. It resolves only together with a CN code whose
heading says which alloy it is (7202 1 → FeMn, 7202 4 → FeCr, 7202 6 → FeNi); otherwise it stays null and
`ambiguous_expr` flags it, never a guess.
"""

from __future__ import annotations

import polars as pl

from transforms.text import key_expr, nfkc, norm_key

# Order of IR 2025/2547 Annex I Table 1 as listed in docs/landing-zone.md.
CATEGORIES: tuple[str, ...] = (
    "Cement clinker", "Cement", "Calcined clay", "Aluminous cement",
    "Nitric acid", "Urea", "Ammonia", "Mixed fertilisers",
    "Sintered ore", "Pig iron", "FeMn", "FeCr", "FeNi", "DRI", "Crude steel", "Iron or steel products",
    "Unwrought aluminium", "Aluminium products",
    "Hydrogen",
    "Electricity",
)  # fmt: skip

SECTORS: tuple[str, ...] = ("cement", "fertilisers", "iron_steel", "aluminium", "hydrogen", "electricity")

SECTOR_OF: dict[str, str] = {
    "Cement clinker": "cement", "Cement": "cement", "Calcined clay": "cement", "Aluminous cement": "cement",
    "Nitric acid": "fertilisers", "Urea": "fertilisers", "Ammonia": "fertilisers", "Mixed fertilisers": "fertilisers",
    "Sintered ore": "iron_steel", "Pig iron": "iron_steel", "FeMn": "iron_steel", "FeCr": "iron_steel",
    "FeNi": "iron_steel", "DRI": "iron_steel", "Crude steel": "iron_steel", "Iron or steel products": "iron_steel",
    "Unwrought aluminium": "aluminium", "Aluminium products": "aluminium",
    "Hydrogen": "hydrogen",
    "Electricity": "electricity",
}  # fmt: skip

# Aggregated goods categories of CBAM Reg Annex II goods (direct emissions only; Omnibus added electricity).
# Sintered ore is in Annex I but not Annex II, so it counts indirect emissions too (docs/methodology/cbam.md b).
ANNEX_II_CATEGORIES: frozenset[str] = frozenset(
    c for c, sector in SECTOR_OF.items() if sector in ("iron_steel", "aluminium", "hydrogen", "electricity")
) - {"Sintered ore"}

# Labels of the Communication template (communication_template.xlsx, Translations rows 611-692), exactly as written
# there (`Calcined clays ` carries a trailing space in the workbook); used when writing the template back.
ALLOYS_LABEL = "Alloys (FeMn, FeCr, FeNi)"
TEMPLATE_LABEL_OF: dict[str, str] = {
    "Cement clinker": "Cement clinker", "Cement": "Cement", "Calcined clay": "Calcined clays ",
    "Aluminous cement": "Aluminous cement", "Nitric acid": "Nitric acid", "Urea": "Urea", "Ammonia": "Ammonia",
    "Mixed fertilisers": "Mixed fertilisers", "Sintered ore": "Sintered Ore", "Pig iron": "Pig iron",
    "FeMn": ALLOYS_LABEL, "FeCr": ALLOYS_LABEL, "FeNi": ALLOYS_LABEL, "DRI": "Direct reduced iron",
    "Crude steel": "Crude steel", "Iron or steel products": "Iron or steel products",
    "Unwrought aluminium": "Unwrought aluminium", "Aluminium products": "Aluminium products",
    "Hydrogen": "Hydrogen", "Electricity": "Electricity (export to EU)",
}  # fmt: skip

# Further accepted spellings (besides the canonical name and the template label of a single category).
_EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "Cement clinker": ("clinker", "水泥熟料", "熟料"),
    "Cement": ("水泥",),
    "Calcined clay": ("calcined kaolinic clay", "煅烧黏土", "煅烧粘土"),
    "Aluminous cement": ("铝酸盐水泥", "高铝水泥"),
    "Nitric acid": ("硝酸",),
    "Urea": ("尿素",),
    "Ammonia": ("氨", "合成氨"),
    "Mixed fertilisers": ("mixed fertilizers", "混合肥料"),
    "Sintered ore": ("sinter", "烧结矿"),
    "Pig iron": ("生铁",),
    "FeMn": ("ferro-manganese", "ferromanganese", "锰铁"),
    "FeCr": ("ferro-chromium", "ferrochromium", "ferrochrome", "铬铁"),
    "FeNi": ("ferro-nickel", "ferronickel", "镍铁"),
    "DRI": ("direct reduced iron (DRI)", "直接还原铁"),
    "Crude steel": ("粗钢",),
    "Iron or steel products": ("钢铁制品",),
    "Unwrought aluminium": ("unwrought aluminum", "未锻轧铝"),
    "Aluminium products": ("aluminum products", "铝制品"),
    "Hydrogen": ("氢", "氢气"),
    "Electricity": ("electrical energy", "电力"),
}

# A label naming several categories → the CN-code prefix (spaces and dots removed) that picks each of them.
AMBIGUOUS: dict[str, dict[str, str]] = {ALLOYS_LABEL: {"72021": "FeMn", "72024": "FeCr", "72026": "FeNi"}}


def _build_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for category in CATEGORIES:
        spellings = (category, *_EXTRA_ALIASES.get(category, ()))
        if TEMPLATE_LABEL_OF[category] not in AMBIGUOUS:
            spellings = (*spellings, TEMPLATE_LABEL_OF[category])
        for spelling in spellings:
            key = norm_key(spelling)
            if out.setdefault(key, category) != category:
                raise ValueError(f"goods category spelling {spelling!r} names both {out[key]} and {category}")
    if clash := {norm_key(label) for label in AMBIGUOUS} & out.keys():
        raise ValueError(f"ambiguous label also mapped to one category: {clash}")
    return out


ALIASES: dict[str, str] = _build_aliases()  # normalised spelling → canonical category


def to_category(value: str | None) -> str | None:
    """Canonical category of one spelling, or None (unknown, or ambiguous without a CN code)."""
    return None if value is None else ALIASES.get(norm_key(value))


def category_expr(expr: pl.Expr, cn_code: pl.Expr | None = None) -> pl.Expr:
    """Polars: any accepted spelling → canonical category, else null.

    With `cn_code` (raw or normalised; spaces and dots ignored), an ambiguous template label such as
    `Alloys (FeMn, FeCr, FeNi)` resolves by the code's heading; a code outside those headings leaves it null.
    """
    key = key_expr(expr)
    resolved = key.replace_strict(list(ALIASES), list(ALIASES.values()), default=None, return_dtype=pl.String)
    if cn_code is not None:
        digits = nfkc(cn_code.cast(pl.String)).str.replace_all(r"[\s.]", "")
        for label, by_prefix in AMBIGUOUS.items():
            picked = pl.lit(None, dtype=pl.String)
            for prefix, category in by_prefix.items():
                picked = pl.when(digits.str.starts_with(prefix)).then(pl.lit(category)).otherwise(picked)
            resolved = pl.when(key == norm_key(label)).then(picked).otherwise(resolved)
    return _keep_name(resolved, expr)


def _keep_name(result: pl.Expr, source: pl.Expr) -> pl.Expr:
    """Name the result like the input column (when/then chains would otherwise be called `literal`)."""
    name = source.meta.output_name(raise_if_undetermined=False)
    return result.alias(name) if name else result


def ambiguous_expr(expr: pl.Expr) -> pl.Expr:
    """Polars: True where the value is a label naming several categories (for an actionable quarantine reason)."""
    return _keep_name(key_expr(expr).is_in([norm_key(label) for label in AMBIGUOUS]).fill_null(False), expr)


def sector_expr(category: pl.Expr) -> pl.Expr:
    """Polars: canonical category → sector (cement, fertilisers, iron_steel, aluminium, hydrogen, electricity)."""
    return category.replace_strict(
        list(SECTOR_OF), list(SECTOR_OF.values()), default=None, return_dtype=pl.String
    )
