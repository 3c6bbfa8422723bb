"""Validate one file's text table against its dataset contract: typed accepted rows + quarantined rows.

Every data row ends up in exactly one of the two frames (rows read = accepted + quarantined). A quarantined
row carries the first failing column, every reason (joined by '; ') and its raw values as JSON text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from transforms import countries, units
from transforms.contracts import Column, Dataset
from transforms.ingest.readers import TableRead
from transforms.text import key_expr, nfkc, norm_key

QUARANTINE_SCHEMA = pl.Schema(
    {
        "dataset": pl.String,
        "drop_date": pl.Date,
        "file": pl.String,
        "row_number": pl.Int64,
        "column": pl.String,
        "reason": pl.String,
        "raw": pl.String,
        "key": pl.String,  # business key as JSON (text), when readable: lets a snapshot keep the previous version
    }
)

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
_DATE_PATTERNS = (
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$",
    r"^(\d{4})/(\d{1,2})/(\d{1,2})$",
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日$",
)
_TRUE = ("true", "yes", "y", "1", "是", "t")
_FALSE = ("false", "no", "n", "0", "否", "f")


@dataclass
class Validated:
    accepted: pl.DataFrame  # dataset.schema (contract columns + lineage)
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    notes: list[str] = field(default_factory=list)


def _fmt(x: float) -> str:
    return f"{x:g}"


def parse_column(
    col: Column, s: pl.Expr, frame: pl.DataFrame | None = None, parsed: dict[str, pl.Expr] | None = None
) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, error message or null) for one column; `s` is the NFKC-normalised text (null if empty);
    `parsed` holds the typed values of the columns before this one (e.g. cn_code for a goods category)."""
    parsed = parsed or {}
    kind = col.kind
    err: pl.Expr = pl.lit(None, pl.String)
    if kind in ("text",):
        return s, err
    if kind == "decimal" or kind == "int":
        has_thousands = s.str.contains(_THOUSANDS)
        cleaned = pl.when(has_thousands).then(s.str.replace_all(",", "")).otherwise(s)
        ok = cleaned.str.contains(_NUMBER if kind == "decimal" else r"^[+-]?\d+(\.0*)?$")
        value = pl.when(ok).then(cleaned.cast(pl.Float64, strict=False))
        if kind == "int":
            value = value.cast(pl.Int64, strict=False)
        what = "a number" if kind == "decimal" else "a whole number"
        err = pl.when(s.is_not_null() & ~ok).then(
            pl.format(f"not {what}: '{{}}' (use '.' for decimals; ',' only between thousands)", s)
        )
        for bound, op, word in (
            (col.minimum, "lt", "at least"),
            (col.exclusive_minimum, "le", "greater than"),
            (col.maximum, "gt", "at most"),
        ):
            if bound is None:
                continue
            bad = getattr(value, op)(bound)
            hint = " (negative values are not allowed here)" if bound == 0 and op == "lt" else ""
            err = (
                pl.when(bad)
                .then(pl.format(f"must be {word} {_fmt(bound)}, got {{}}{hint}", s))
                .otherwise(err)
            )
        return value, err
    if kind == "date":
        parts = [s.str.extract_groups(p) for p in _DATE_PATTERNS]
        y = pl.coalesce([p.struct.field("1") for p in parts])
        m = pl.coalesce([p.struct.field("2") for p in parts])
        d = pl.coalesce([p.struct.field("3") for p in parts])
        iso = pl.concat_str([y, m.str.zfill(2), d.str.zfill(2)], separator="-")
        value = iso.str.to_date("%Y-%m-%d", strict=False)
        err = (
            pl.when(s.is_not_null() & y.is_null())
            .then(pl.format("not a date: '{}' (use YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日)", s))
            .when(s.is_not_null() & value.is_null())
            .then(pl.format("impossible date: '{}' (no such day in the calendar)", s))
        )
        return value, err
    if kind == "period":
        g = s.str.extract_groups(r"^(\d{4})(?:[-/年](\d{1,2})月?)?$")
        y, m = g.struct.field("1"), g.struct.field("2")
        month_ok = m.is_null() | m.cast(pl.Int32, strict=False).is_between(1, 12)
        value = pl.when(y.is_not_null() & month_ok).then(
            pl.when(m.is_null()).then(y).otherwise(pl.concat_str([y, m.str.zfill(2)], separator="-"))
        )
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("not a period: '{}' (use YYYY or YYYY-MM)", s)
        )
        return value, err
    if kind == "bool":
        k = s.str.to_lowercase()
        value = pl.when(k.is_in(_TRUE)).then(True).when(k.is_in(_FALSE)).then(False).otherwise(None)
        err = pl.when(s.is_not_null() & value.is_null()).then(pl.format("not true/false: '{}'", s))
        return value, err
    if kind == "country":
        value = countries.resolve_expr(s)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("unknown country '{}': use an ISO code (CN, CHN), the English or the Chinese name", s)
        )
        if col.country_scope == "eu_member":
            eu = countries.countries().filter("is_eu_member")["iso2"].to_list()
            err = err.when(value.is_not_null() & ~value.is_in(eu)).then(
                pl.format("'{}' is not an EU member state (CBAM imports are declared in the EU)", s)
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
                    "unknown unit '{}' (accepted e.g. t, kg, kWh, MWh, GJ, m3, Nm3, km, pcs, 吨, 千瓦时)", s
                )
            )
            .when(s.is_not_null() & value.is_null())
            .then(pl.format(f"unit '{{}}' is not a {dims} unit for this column", s))
        )
        return value, err
    if kind == "compound_unit":
        uniques = [] if frame is None else frame.get_column("__s").drop_nulls().unique().to_list()
        mapping = {u: units.canonical_compound(u) for u in uniques}
        mapping = {k: v for k, v in mapping.items() if v}
        value = s.replace_strict(list(mapping), list(mapping.values()), default=None, return_dtype=pl.String)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("unknown unit '{}' (write it like GJ/t, tCO2/TJ, tCO2/t, GJ/1000Nm3)", s)
        )
        return value, err
    if kind == "currency":
        value = units.currency_expr(s)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("unknown currency '{}' (use ISO 4217, e.g. CNY)", s)
        )
        return value, err
    if kind in ("cn_code", "hs_code"):
        digits = s.str.replace_all(r"[\s.]", "")
        if kind == "cn_code":
            value = pl.when(digits.str.contains(r"^\d{8}$")).then(digits)
            err = (
                pl.when(digits.str.contains(r"^\d{10}$"))
                .then(
                    pl.format(
                        "'{}' is a 10-digit Chinese customs (HS) code, not an 8-digit EU CN code; put the CN code "
                        "here (the customs code may go in china_hs_code)",
                        s,
                    )
                )
                .when(s.is_not_null() & value.is_null())
                .then(pl.format("CN code must have 8 digits (spaces and dots ignored), got '{}'", s))
            )
        else:
            value = pl.when(digits.str.contains(r"^\d{10}$")).then(digits)
            err = pl.when(s.is_not_null() & value.is_null()).then(
                pl.format("Chinese customs code must have 10 digits, got '{}'", s)
            )
        return value, err
    if kind == "enum":
        allowed = {norm_key(a): a for a in col.allowed}
        value = key_expr(s).replace_strict(
            list(allowed), list(allowed.values()), default=None, return_dtype=pl.String
        )
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format(f"'{{}}' is not one of: {', '.join(col.allowed)}", s)
        )
        return value, err
    if kind == "goods_category":
        from transforms import goods

        value = goods.category_expr(s, parsed.get("cn_code"))
        err = (
            pl.when(s.is_not_null() & value.is_null() & goods.ambiguous_expr(s))
            .then(
                pl.format(
                    "goods category '{}' names several categories; give the category itself (FeMn, FeCr "
                    "or FeNi) or a CN code of heading 7202",
                    s,
                )
            )
            .when(s.is_not_null() & value.is_null())
            .then(
                pl.format(
                    "unknown goods category '{}' (use an aggregated goods category of IR 2025/2547, e.g. "
                    "'Iron or steel products')",
                    s,
                )
            )
        )
        return value, err
    if kind == "json":
        uniques = [] if frame is None else frame.get_column("__s").drop_nulls().unique().to_list()
        good = [u for u in uniques if _is_json_object(u)]
        value = pl.when(s.is_in(good)).then(s)
        err = pl.when(s.is_not_null() & value.is_null()).then(pl.format("not a JSON object: '{}'", s))
        return value, err
    if kind == "unlocode":
        code = s.str.replace_all(r"\s", "").str.to_uppercase()
        value = pl.when(code.str.contains(r"^[A-Z]{2}[A-Z0-9]{3}$")).then(code)
        err = pl.when(s.is_not_null() & value.is_null()).then(
            pl.format("not a UN/LOCODE (5 characters, e.g. CNNGB): '{}'", s)
        )
        return value, err
    raise ValueError(f"no parser for lingtanType {kind}")


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def map_headers(dataset: Dataset, headers: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """(column → position, unknown headers, duplicate problems)."""
    hm = dataset.header_map()
    found: dict[str, int] = {}
    unknown, dupes = [], []
    for i, h in enumerate(headers):
        col = hm.get(norm_key(h or ""))
        if col is None:
            if h and not h.startswith("column "):
                unknown.append(h)
            continue
        if col in found:
            dupes.append(f"headers '{headers[found[col]]}' and '{h}' both name column {col}")
            continue
        found[col] = i
    return found, unknown, dupes


def header_names_enough(dataset: Dataset):
    """Predicate for XLSX header detection: the row names at least half of the required columns."""
    need = set(dataset.required) or set(dataset.column_names)

    def check(cells: list[str]) -> bool:
        found, _, _ = map_headers(dataset, cells)
        return len(need & set(found)) * 2 >= len(need) and len(found) > 0

    return check


def _raw_json(table: TableRead) -> pl.Expr:
    names = [h if h else f"column {i + 1}" for i, h in enumerate(table.headers)]
    seen: dict[str, int] = {}
    fields = []
    for i, n in enumerate(names):
        seen[n] = seen.get(n, 0) + 1
        fields.append(pl.col(f"c{i}").alias(n if seen[n] == 1 else f"{n} ({seen[n]})"))
    if not fields:
        return pl.lit("{}")
    return pl.struct(fields).struct.json_encode()


def validate(dataset: Dataset, table: TableRead, drop_date, file: str) -> Validated:
    """Contract checks for every row of one file. Pure: same input, same output."""
    notes = list(table.notes)
    found, unknown, dupes = map_headers(dataset, table.headers)
    if unknown:
        notes.append("ignored columns not in the contract: " + ", ".join(unknown))
    frame = table.frame
    lineage = {"dataset": pl.lit(dataset.name), "drop_date": pl.lit(drop_date, pl.Date), "file": pl.lit(file)}

    file_problem_col, file_problem = None, None
    missing = [c for c in dataset.required if c not in found]
    if dupes:
        file_problem_col, file_problem = dupes[0].rsplit(" ", 1)[-1], "; ".join(dupes) + "; keep one of them"
    elif missing:
        aliases = {c.name: c.aliases for c in dataset.columns}
        shown = [m + (f" ({'/'.join(aliases[m])})" if aliases[m] else "") for m in missing]
        file_problem_col = missing[0]
        file_problem = (
            f"required column {', '.join(shown)} is missing from the file; add it (English or Chinese "
            "header) and drop the file again"
        )
    else:
        for group in dataset.require_one_of:
            if not any(all(c in found for c in alt) for alt in group):
                options = " or ".join("+".join(alt) for alt in group)
                file_problem_col, file_problem = group[0][0], f"the file needs column(s) {options}"
                break

    raw = _raw_json(table)
    broken_q = pl.DataFrame(
        {
            "dataset": [dataset.name] * len(table.broken),
            "drop_date": [drop_date] * len(table.broken),
            "file": [file] * len(table.broken),
            "row_number": [b.row_number for b in table.broken],
            "column": [None] * len(table.broken),
            "reason": [b.reason for b in table.broken],
            "raw": [json.dumps(b.raw, ensure_ascii=False) for b in table.broken],
            "key": [None] * len(table.broken),
        },
        schema=QUARANTINE_SCHEMA,
    )
    if file_problem is not None:
        q = frame.select(
            **lineage,
            row_number=pl.col("_row_number"),
            column=pl.lit(file_problem_col),
            reason=pl.lit(file_problem),
            raw=raw,
            key=pl.lit(None, pl.String),
        )
        return Validated(_empty(dataset), pl.concat([q.cast(QUARANTINE_SCHEMA), broken_q]), notes)

    values: dict[str, pl.Expr] = {}
    errors: list[tuple[str, pl.Expr]] = []
    work = frame
    for col in dataset.columns:
        if col.name not in found:
            values[col.name] = pl.lit(None, col.dtype)
            continue
        src = nfkc(pl.col(f"c{found[col.name]}"))
        work = work.with_columns(src.alias("__s"))
        v, e = parse_column(col, pl.col("__s"), work, {k: pl.col(f"__v_{k}") for k in values if k in found})
        work = work.with_columns(v.cast(col.dtype).alias(f"__v_{col.name}"), e.alias(f"__e_{col.name}"))
        values[col.name] = pl.col(f"__v_{col.name}")
        errors.append((col.name, pl.col(f"__e_{col.name}")))
        if col.required:
            errors.append(
                (
                    col.name,
                    pl.when(pl.col(f"__v_{col.name}").is_null() & pl.col(f"__e_{col.name}").is_null()).then(
                        pl.lit(f"required value missing in column {col.name}")
                    ),
                )
            )

    present = {c: values[c] for c in dataset.column_names}
    for group in dataset.require_one_of:
        ok = pl.any_horizontal([pl.all_horizontal([present[c].is_not_null() for c in alt]) for alt in group])
        options = " or ".join("+".join(alt) for alt in group)
        errors.append((group[0][0], pl.when(~ok).then(pl.lit(f"needs a value in {options}"))))
    for col in dataset.columns:
        if col.unit_column and col.name in found:
            errors.append(
                (
                    col.unit_column,
                    pl.when(
                        present[col.name].is_not_null()
                        & present[col.unit_column].is_null()
                        & (
                            pl.col(f"__e_{col.unit_column}").is_null()
                            if col.unit_column in found
                            else pl.lit(True)
                        )
                    ).then(pl.lit(f"{col.name} is given without its unit ({col.unit_column})")),
                )
            )
    if "period_start" in present and "period_end" in present:
        errors.append(
            (
                "period_end",
                pl.when(present["period_end"] < present["period_start"]).then(
                    pl.lit("period_end is before period_start")
                ),
            )
        )
    if "china_hs_code" in present and "cn_code" in present:
        errors.append(
            (
                "china_hs_code",
                pl.when(present["china_hs_code"].str.slice(0, 6) != present["cn_code"].str.slice(0, 6)).then(
                    pl.lit("china_hs_code's first 6 digits differ from the CN code's; check both codes")
                ),
            )
        )

    err_cols = [e.alias(f"__err{i}") for i, (_, e) in enumerate(errors)]
    work = work.with_columns(err_cols)
    names = [f"__err{i}" for i in range(len(errors))]
    first_col = (
        pl.coalesce(
            [
                pl.when(pl.col(n).is_not_null()).then(pl.lit(c))
                for n, (c, _) in zip(names, errors, strict=True)
            ]
        )
        if names
        else pl.lit(None, pl.String)
    )
    reason = (
        pl.concat_str([pl.col(n) for n in names], separator="; ", ignore_nulls=True)
        if names
        else pl.lit(None, pl.String)
    )
    key_json = (
        pl.struct(
            [nfkc(pl.col(f"c{found[k]}")).alias(k) for k in dataset.keys if k in found]
        ).struct.json_encode()
        if any(k in found for k in dataset.keys)
        else pl.lit(None, pl.String)
    )
    work = work.with_columns(__first=first_col, __reason=reason, __raw=raw, __key=key_json)
    bad = pl.col("__reason").is_not_null() & (pl.col("__reason") != "")

    source_row_id = pl.format(f"{file}#{{}}", pl.col("_row_number"))  # file = <dataset>/<drop>/<name>
    accepted = work.filter(~bad).select(
        *[values[c].alias(c) for c in dataset.column_names],
        _drop_date=pl.lit(drop_date, pl.Date),
        _file=pl.lit(file),
        _row_number=pl.col("_row_number"),
        _source_row_id=source_row_id,
    )
    quarantined = work.filter(bad).select(
        **lineage,
        row_number=pl.col("_row_number"),
        column=pl.col("__first"),
        reason=pl.col("__reason"),
        raw=pl.col("__raw"),
        key=pl.col("__key"),
    )
    return Validated(
        accepted.match_to_schema(dataset.schema),
        pl.concat([quarantined.cast(QUARANTINE_SCHEMA), broken_q]).sort("row_number", nulls_last=True),
        notes,
    )


def _empty(dataset: Dataset) -> pl.DataFrame:
    return pl.DataFrame(schema=dataset.schema)


def rejected_file(dataset: str, drop_date, file: str, reason: str) -> pl.DataFrame:
    """The one quarantine row of a file that could not be read at all (no row number)."""
    return pl.DataFrame(
        {
            "dataset": [dataset],
            "drop_date": [drop_date],
            "file": [file],
            "row_number": [None],
            "column": [None],
            "reason": [reason],
            "raw": [None],
            "key": [None],
        },
        schema=QUARANTINE_SCHEMA,
    )
