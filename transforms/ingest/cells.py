"""One column's text → typed value and error message, vectorised (polars expressions): the cell rules of
docs/landing-zone.md (numbers, dates, countries, units, codes, enums), plus the checks that refuse a cell
before parsing (control characters, absurd length). Reasons quote the value shortened and made visible."""

from __future__ import annotations

import json

import polars as pl

from transforms import units
from transforms.contracts import Column
from transforms.ingest.base import CONTROL_CHARS as _CONTROL
from transforms.ingest.base import MAX_CELL_CHARS
from transforms.reference import countries
from transforms.text import key_expr, norm_key

# ASCII digits only ([0-9], not \d: the regex engine's \d also matches ٣ and other scripts' digits, which NFKC
# leaves alone and no number parser reads)
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_THOUSANDS = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"
_WHOLE = r"^[+-]?[0-9]+(\.0*)?$"
_WHOLE_THOUSANDS = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.0*)?$"
# A number cell is valid when it matches the plain pattern, or the thousands pattern (',' only between groups of
# three digits): one regex pass for both. The plain patterns match no comma, so the value of a valid cell is its
# text without commas, cast (a thousands cell's commas removed, a plain cell unchanged).
_DECIMAL_OK = f"(?:{_NUMBER})|(?:{_THOUSANDS})"
_INT_OK = f"(?:{_WHOLE})|(?:{_WHOLE_THOUSANDS})"
_DATE_PATTERNS = (
    r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$",
    r"^([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})$",
    r"^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日$",
)
# Years a landing date may have: outside, it is a placeholder (0001-01-01, 9999-12-31) or a typo, never a fact
# of a factory's records; accepted, it would put a row in a period no report covers.
YEARS = (1900, 2100)
_EXCEL_SERIAL = (
    r"^[0-9]{5}(\.[0-9]+)?$"  # 10000..99999: days since 1899-12-30, as a date cell shows unformatted
)
_TRUE = ("true", "yes", "y", "1", "是", "t")
_FALSE = ("false", "no", "n", "0", "否", "f")
_SHOWN_CHARS = 80  # of a value quoted in a reason


_RANGE_REASON = (
    f"date '{{}}' is outside the years {YEARS[0]}–{YEARS[1]}: a placeholder or a typo; give the real date"
)


def _fmt(x: float) -> str:
    return f"{x:g}"


def shown_value(s: pl.Expr) -> pl.Expr:
    """A value as quoted in a reason: cut to 80 characters (the full value stays in the quarantine record's
    `raw`). Control characters are made visible on the final reasons of quarantined rows only (cheap)."""
    return pl.when(s.str.len_chars() > _SHOWN_CHARS).then(s.str.slice(0, _SHOWN_CHARS) + "…").otherwise(s)


def cell_problem(raw: pl.Expr) -> pl.Expr:
    """Why a cell's text cannot be a value at all, before any parsing: a control character (NUL, ...) or a
    length no contract value has."""
    n = raw.str.len_chars()
    return (
        pl.when(raw.str.contains(_CONTROL))
        .then(
            pl.lit(
                "text contains a control character (NUL or another invisible code): remove it; it usually means "
                "a damaged or binary file"
            )
        )
        .when(n > MAX_CELL_CHARS)
        .then(pl.format(f"value is {{}} characters long (at most {MAX_CELL_CHARS:,} are accepted)", n))
    )


# Kinds whose rule depends on the cell's text alone: parsed once per distinct value when values repeat (a
# timestamp shared by every meter of a wide file's line, a unit, a country), then mapped back to the rows.
_BY_VALUE = frozenset(
    {
        "timestamp",
        "date",
        "month",
        "period",
        "unit",
        "country",
        "currency",
        "enum",
        "bool",
        "decimal",
        "int",
        "cn_code",
        "hs_code",
        "unlocode",
    }
)


# A column is parsed by value when it has fewer distinct values than 1/ratio of its cells (default 4).
_BY_VALUE_RATIO = {"decimal": 64, "int": 64}
# Cells a repetition estimate looks at (`may_repeat`): the first ones of a column
HINT_CELLS = 1 << 18


def may_repeat(values: pl.Series, ratio: int) -> bool:
    """Whether `values` look repetitive enough (fewer distinct values than 1/`ratio` of the cells) to be worth
    a `unique()`: a HyperLogLog estimate over the first `HINT_CELLS` cells. Over all of a year of 500 meters'
    17.5 M texts it cost 0.35 s, two thirds of the `unique()` itself. Only a hint for choosing a path: every
    path gives the same values, and callers check the distinct count they then get."""
    head = values.head(HINT_CELLS)
    return head.approx_n_unique() * ratio < len(head)


def _bounds(col: Column) -> list[tuple[float, str, str]]:
    """(bound, comparison that breaks it, word) of a number column."""
    out = [
        (col.minimum, "lt", "at least"),
        (col.exclusive_minimum, "le", "greater than"),
        (col.maximum, "gt", "at most"),
    ]
    return [b for b in out if b[0] is not None]


def sure_number(s: pl.Expr) -> pl.Expr:
    """A decimal cell's value when the cast alone proves the cell valid as written, else null (then the cell is
    judged by `parse_column`). A finite float cast of a text holds exactly when the text matches `_NUMBER` (checked
    over every text of up to 3 printable ASCII characters and of up to 5 of digits, signs, '.', 'e', spaces,
    commas and letters: tests/ingest/test_sure_number.py), so the regex pass (~1 s for a year of 500 meters) and
    the comma scan are not needed for such cells; a thousands separator, a space or another script gives null
    here, never a wrong value. -0 is 0, as `parse_column` gives it."""
    number = s.cast(pl.Float64, strict=False)
    return pl.when(number.is_finite()).then(pl.when(number == 0).then(0.0).otherwise(number))


def error_suspects(col: Column, value: pl.Expr) -> pl.Expr:
    """Rows of a non-empty cell whose message (`parse_column`'s error) may be non-null: the value did not parse,
    or it parsed but breaks a rule of its own (a number's bounds, a country outside the column's scope). Every
    other row's message is null by construction of `_parse` (each message there goes with a null value), so
    validation builds messages for these rows only."""
    out = value.is_null()
    if col.kind in ("decimal", "int"):
        for bound, op, _ in _bounds(col):
            out = out | getattr(value, op)(bound).fill_null(False)
    if col.kind == "country" and col.country_scope == "eu_member":
        out = out | ~value.is_in(countries.countries().filter("is_eu_member")["iso2"].to_list()).fill_null(
            False
        )
    return out


def parse_column(
    col: Column, s: pl.Expr, frame: pl.DataFrame | None = None, parsed: dict[str, pl.Expr] | None = None
) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, error message or null) for one column; `s` is the NFKC-normalised text (null if empty);
    `parsed` holds the typed values of the columns before this one (e.g. cn_code for a goods category)."""
    if (
        frame is not None
        and col.kind in _BY_VALUE
        and s.meta.output_name(raise_if_undetermined=False) == "__s"
        and "__s" in frame.columns
    ):
        values = frame.get_column("__s")
        # parsing a number is cheap (one regex, one cast): mapping by value pays only when values repeat a lot
        # (700 k cells: 30 k distinct values 0.29 s by value against 0.12 s directly; 1,000: 0.05 against 0.10)
        ratio = _BY_VALUE_RATIO.get(col.kind, 4)
        # an estimate first: mostly distinct values are not worth a unique()
        distinct = values.drop_nulls().unique() if may_repeat(values, ratio) else None
        if distinct is not None and len(distinct) * ratio < frame.height:
            table = pl.DataFrame({"__s": distinct})
            v, e = _parse(col, pl.col("__s"), table, None)
            m = table.select("__s", v.cast(col.dtype).alias("v"), e.alias("e"))
            return (
                s.replace_strict(m["__s"], m["v"], default=None, return_dtype=col.dtype),
                s.replace_strict(m["__s"], m["e"], default=None, return_dtype=pl.String),
            )
    return _parse(col, s, frame, parsed)


def _no_comma(s: pl.Expr, frame: pl.DataFrame | None) -> bool:
    """`s` is the frame's `__s` column and no cell of it holds a comma (a memchr scan, ~free)."""
    return (
        frame is not None
        and "__s" in frame.columns
        and s.meta.output_name(raise_if_undetermined=False) == "__s"
        and not frame.get_column("__s").str.contains(",", literal=True).any()
    )


def _parse(
    col: Column, s: pl.Expr, frame: pl.DataFrame | None, parsed: dict[str, pl.Expr] | None
) -> tuple[pl.Expr, pl.Expr]:
    parsed = parsed or {}
    shown = shown_value(s)
    kind = col.kind
    err: pl.Expr = pl.lit(None, pl.String)
    if kind in ("text",):
        return s, err
    if kind == "decimal" or kind == "int":
        if _no_comma(s, frame):  # no thousands separator can match: the plain pattern alone
            ok = s.str.contains(_NUMBER if kind == "decimal" else _WHOLE)
            number = s.cast(pl.Float64, strict=False)
        else:
            ok = s.str.contains(_DECIMAL_OK if kind == "decimal" else _INT_OK)
            # an invalid cell's number is never used: every use below is under `ok`
            number = s.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
        # -0 is stored as 0 (an explicit branch: polars simplifies `x + 0.0` away, keeping the sign)
        value = pl.when(ok & number.is_finite()).then(pl.when(number == 0).then(0.0).otherwise(number))
        if kind == "int":
            value = value.cast(pl.Int64, strict=False)
        what = "a number" if kind == "decimal" else "a whole number"
        err = (
            pl.when(s.is_not_null() & ~ok)
            .then(pl.format(f"not {what}: '{{}}' (use '.' for decimals; ',' only between thousands)", shown))
            .when(ok & ~number.is_finite())
            .then(pl.format("number '{}' is beyond the range of a 64-bit float: give a finite value", shown))
            .when(ok & value.is_null())
            .then(pl.format("whole number '{}' is too large (beyond 64-bit integers)", shown))
        )
        for bound, op, word in _bounds(col):
            bad = getattr(value, op)(bound)
            hint = " (negative values are not allowed here)" if bound == 0 and op == "lt" else ""
            err = (
                pl.when(bad)
                .then(pl.format(f"must be {word} {_fmt(bound)}, got {{}}{hint}", shown))
                .otherwise(err)
            )
        return value, err
    if kind == "date":
        parts = [s.str.extract_groups(p) for p in _DATE_PATTERNS]
        y = pl.coalesce([p.struct.field("1") for p in parts])
        m = pl.coalesce([p.struct.field("2") for p in parts])
        d = pl.coalesce([p.struct.field("3") for p in parts])
        iso = pl.concat_str([y, m.str.zfill(2), d.str.zfill(2)], separator="-")
        parsed_date = iso.str.to_date("%Y-%m-%d", strict=False)
        out_of_range = ~parsed_date.dt.year().is_between(*YEARS)
        value = pl.when(~out_of_range).then(parsed_date)
        err = (
            pl.when(s.is_not_null() & y.is_null() & s.str.contains(_EXCEL_SERIAL))
            .then(
                pl.format(
                    "not a date: '{}' looks like an Excel date serial number; format the cells as dates "
                    "(YYYY-MM-DD) and save again",
                    shown,
                )
            )
            .when(s.is_not_null() & y.is_null())
            .then(pl.format("not a date: '{}' (use YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日)", shown))
            .when(s.is_not_null() & parsed_date.is_null())
            .then(pl.format("impossible date: '{}' (no such day in the calendar)", shown))
            .when(out_of_range)
            .then(pl.format(_RANGE_REASON, shown))
        )
        return value, err
    if kind == "period":
        g = s.str.extract_groups(r"^([0-9]{4})(?:[-/年]([0-9]{1,2})月?)?$")
        y, m = g.struct.field("1"), g.struct.field("2")
        month_ok = m.is_null() | m.cast(pl.Int32, strict=False).is_between(1, 12)
        value = pl.when(y.is_not_null() & month_ok).then(
            pl.when(m.is_null()).then(y).otherwise(pl.concat_str([y, m.str.zfill(2)], separator="-"))
        )
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("not a period: '{}' (use YYYY or YYYY-MM)", shown)
        )
        return value, err
    if kind == "month":
        g = s.str.extract_groups(r"^([0-9]{4})[-/年]([0-9]{1,2})月?$")
        y, m = g.struct.field("1"), g.struct.field("2")
        ok = y.is_not_null() & m.cast(pl.Int32, strict=False).is_between(1, 12)
        value = pl.when(ok).then(pl.concat_str([y, m.str.zfill(2)], separator="-"))
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("not a month: '{}' (use YYYY-MM)", shown)
        )
        return value, err
    if kind == "timestamp":
        return _timestamp(s, shown)
    if kind == "bool":
        k = s.str.to_lowercase()
        value = pl.when(k.is_in(_TRUE)).then(True).when(k.is_in(_FALSE)).then(False).otherwise(None)
        err = pl.when(s.is_not_null() & value.is_null()).then(pl.format("not true/false: '{}'", shown))
        return value, err
    if kind == "country":
        value = countries.resolve_expr(s)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format(
                "unknown country '{}': use an ISO code (CN, CHN), the English or the Chinese name", shown
            )
        )
        if col.country_scope == "eu_member":
            eu = countries.countries().filter("is_eu_member")["iso2"].to_list()
            err = err.when(value.is_not_null() & ~value.is_in(eu)).then(
                pl.format("'{}' is not an EU member state (CBAM imports are declared in the EU)", shown)
            )
        return value, err
    if kind == "unit":
        any_dim = units.canonical_expr(s)
        value = units.canonical_expr(s, col.unit_dimensions or None)
        dims = "/".join(col.unit_dimensions)
        err = (
            pl.when(s.is_not_null() & any_dim.is_null())
            .then(
                pl.format(
                    "unknown unit '{}' (accepted e.g. t, kg, kWh, MWh, GJ, m3, Nm3, km, pcs, 吨, 千瓦时)",
                    shown,
                )
            )
            .when(s.is_not_null() & value.is_null())
            .then(pl.format(f"unit '{{}}' is not a {dims} unit for this column", shown))
        )
        return value, err
    if kind == "compound_unit":
        uniques = [] if frame is None else frame.get_column("__s").drop_nulls().unique().to_list()
        mapping = {u: units.canonical_compound(u) for u in uniques}
        mapping = {k: v for k, v in mapping.items() if v}
        value = s.replace_strict(list(mapping), list(mapping.values()), default=None, return_dtype=pl.String)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("unknown unit '{}' (write it like GJ/t, tCO2/TJ, tCO2/t, GJ/1000Nm3)", shown)
        )
        return value, err
    if kind == "currency":
        value = units.currency_expr(s)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("unknown currency '{}' (use ISO 4217, e.g. CNY)", shown)
        )
        return value, err
    if kind in ("cn_code", "hs_code"):
        digits = s.str.replace_all(r"[\s.]", "")
        if kind == "cn_code":
            value = pl.when(digits.str.contains(r"^[0-9]{8}$")).then(digits)
            err = (
                pl.when(digits.str.contains(r"^[0-9]{10}$"))
                .then(
                    pl.format(
                        "'{}' is a 10-digit Chinese customs (HS) code, not an 8-digit EU CN code; put the CN code "
                        "here (the customs code may go in china_hs_code)",
                        shown,
                    )
                )
                .when(s.is_not_null() & value.is_null())
                .then(pl.format("CN code must have 8 digits (spaces and dots ignored), got '{}'", shown))
            )
        else:
            value = pl.when(digits.str.contains(r"^[0-9]{10}$")).then(digits)
            err = pl.when(s.is_not_null() & value.is_null()).then(
                pl.format("Chinese customs code must have 10 digits, got '{}'", shown)
            )
        return value, err
    if kind == "enum":
        allowed = {norm_key(a): a for a in col.allowed}
        value = key_expr(s).replace_strict(
            list(allowed), list(allowed.values()), default=None, return_dtype=pl.String
        )
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format(f"'{{}}' is not one of: {', '.join(col.allowed)}", shown)
        )
        return value, err
    if kind == "goods_category":
        from transforms.reference import goods

        value = goods.category_expr(s, parsed.get("cn_code"))
        err = (
            pl.when(s.is_not_null() & value.is_null() & goods.ambiguous_expr(s))
            .then(
                pl.format(
                    "goods category '{}' names several categories; give the category itself (FeMn, FeCr "
                    "or FeNi) or a CN code of heading 7202",
                    shown,
                )
            )
            .when(s.is_not_null() & value.is_null())
            .then(
                pl.format(
                    "unknown goods category '{}' (use an aggregated goods category of IR 2025/2547, e.g. "
                    "'Iron or steel products')",
                    shown,
                )
            )
        )
        return value, err
    if kind == "json":
        uniques = [] if frame is None else frame.get_column("__s").drop_nulls().unique().to_list()
        good = [u for u in uniques if _is_json_object(u)]
        value = pl.when(s.is_in(good)).then(s)
        err = pl.when(s.is_not_null() & value.is_null()).then(pl.format("not a JSON object: '{}'", shown))
        return value, err
    if kind == "unlocode":
        code = s.str.replace_all(r"\s", "").str.to_uppercase()
        value = pl.when(code.str.contains(r"^[A-Z]{2}[A-Z0-9]{3}$")).then(code)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("not a UN/LOCODE (5 characters, e.g. CNNGB): '{}'", shown)
        )
        return value, err
    raise ValueError(f"no parser for lingtanType {kind}")


def _timestamp(s: pl.Expr, shown: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """ISO 8601 (`T` or space) or `YYYY/MM/DD HH:MM[:SS]`, a wall-clock time without zone; a date alone is its
    midnight (a spreadsheet shows midnight as the date). An offset (`Z`, `+08:00`) is refused here: a reader
    that accepts one splits it off into its own column first, so it is never dropped silently."""
    g = s.str.extract_groups(
        r"^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,6}))?)?)?$"
    )
    y = g.struct.field("1")
    text = pl.concat_str(
        [
            y,
            pl.lit("-"),
            g.struct.field("2").str.zfill(2),
            pl.lit("-"),
            g.struct.field("3").str.zfill(2),
            pl.lit(" "),
            g.struct.field("4").fill_null("0").str.zfill(2),
            pl.lit(":"),
            g.struct.field("5").fill_null("00"),
            pl.lit(":"),
            g.struct.field("6").fill_null("00"),
            pl.lit("."),
            g.struct.field("7").fill_null("0").str.pad_end(6, "0"),
        ]
    )
    parsed = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
    out_of_range = ~parsed.dt.year().is_between(*YEARS)
    value = pl.when(~out_of_range).then(parsed)
    err = (
        pl.when(s.is_not_null() & s.str.contains(r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$") & y.is_null())
        .then(pl.format("timestamp '{}' carries a time-zone offset, not accepted in this column", shown))
        .when(s.is_not_null() & y.is_null())
        .then(
            pl.format(
                "not a timestamp: '{}' (use YYYY-MM-DD HH:MM[:SS], ISO 8601, or YYYY/MM/DD HH:MM[:SS])", shown
            )
        )
        .when(s.is_not_null() & parsed.is_null())
        .then(pl.format("impossible timestamp: '{}' (no such day or time)", shown))
        .when(out_of_range)
        .then(pl.format(_RANGE_REASON, shown))
    )
    return value, err


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
