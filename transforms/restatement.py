"""Restatements of locked periods: what a new build would change in the rows of a locked installation × year.

A lock keeps a snapshot of the period's mart rows; each later build's rows of that period are compared with it
here (pure polars, no I/O) and then replaced by it, so the published numbers of a locked period never move. The
comparison says which numbers would change and by how much (absolute and relative), which rows would appear or
disappear, and — with the inputs recorded at the lock and now — which landing files and reference tables caused
it. Orchestration (snapshots, the warehouse, the report files) is in orchestration/lib/locks.py.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from transforms.reports.base import source_files
from transforms.reports.diff import input_causes

INSTALLATION_COLUMN = "installation_id"
# Columns naming a row's period (`YYYY`, `YYYY-MM` or an integer year), first match wins. Declaration lines
# have only the import `year`: locked with the same year, they stay consistent with the export lines they sum
# when goods are imported in their production year (the usual case; docs/operations-periods.md).
PERIOD_COLUMNS = ("period", "production_period", "year")
DUP = "__dup"  # ordinal among rows sharing a key, so a key that is not unique still pairs rows one to one

CHANGE_COLUMNS = {
    "mart": pl.String,
    "change": pl.String,  # changed | added | removed
    "key": pl.String,  # `col=value, …` of the row's key
    "column": pl.String,  # the value that differs; "(row)" for a row added or removed without numbers
    "old": pl.String,  # the locked (published) value, full precision; for a list, the items only it has
    "new": pl.String,  # what the new build computed; for a list (lineage), the items only it has
    "delta": pl.Float64,  # new − old for numbers
    "relative_delta": pl.Float64,  # (new − old) / |old|; null when old is 0 or not a number
}


def period_column(columns: Iterable[str]) -> str | None:
    """The column naming the installation's period in a mart with these columns; None when the mart has no
    installation or no such period (it is not locked)."""
    cols = set(columns)
    if INSTALLATION_COLUMN not in cols:
        return None
    return next((c for c in PERIOD_COLUMNS if c in cols), None)


def in_locked_period(period_col: str, installation: str, year: int) -> pl.Expr:
    """Rows of `installation` whose period (`YYYY` or `YYYY-MM`) falls in `year`."""
    return (pl.col(INSTALLATION_COLUMN) == installation) & (
        pl.col(period_col).cast(pl.String).str.slice(0, 4) == str(year)
    )


def _numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() and dtype != pl.Boolean


def _as_text(col: str, dtype: pl.DataType) -> pl.Expr:
    """A value as text for the report: floats with every digit (repr round-trips), lists bracketed."""
    if isinstance(dtype, pl.List | pl.Array):
        inner = pl.col(col).cast(pl.List(pl.String)) if isinstance(dtype, pl.Array) else pl.col(col)
        return pl.concat_str(
            pl.lit("["), inner.list.eval(pl.element().cast(pl.String)).list.join(", "), pl.lit("]")
        )
    if isinstance(dtype, pl.Struct):
        return pl.col(col).struct.json_encode()
    return pl.col(col).cast(pl.String)


def _key_text(keys: Sequence[str]) -> pl.Expr:
    parts: list[pl.Expr] = []
    for i, k in enumerate(keys):
        parts += [pl.lit(("" if i == 0 else ", ") + f"{k}="), pl.col(k).cast(pl.String).fill_null("null")]
    return pl.concat_str(parts)


def _usable_keys(keys: Sequence[str], schema: Mapping[str, pl.DataType]) -> list[str]:
    """The declared key when both sides have it, else every column that is not a float, list or struct (a
    row is then identified by its descriptive values)."""
    if keys and all(k in schema for k in keys):
        return list(keys)
    return [
        c
        for c, t in schema.items()
        if not (t.is_float() or isinstance(t, pl.List | pl.Array | pl.Struct)) and c != DUP
    ]


def diff_rows(
    mart: str,
    locked: pl.DataFrame,
    built: pl.DataFrame,
    keys: Sequence[str],
    ignore: Collection[str] = (),
) -> pl.DataFrame:
    """Every difference between the locked rows and the newly built rows of one mart's locked period, one line
    per changed value (CHANGE_COLUMNS). Rows pair by `keys`; a row only in the build is `added`, only in the
    lock `removed` (one line per number it holds). Columns present on one side only are not compared (the
    caller reports them); `ignore` names columns that differ by nature (build timestamps)."""
    common = [c for c in locked.columns if c in built.columns and c not in ignore]
    # A column whose type changed since the lock is compared as text (its number is no longer comparable).
    schema = {c: locked.schema[c] if locked.schema[c] == built.schema[c] else pl.String for c in common}
    key = _usable_keys(keys, schema)
    values = [c for c in common if c not in key]
    empty = pl.DataFrame(schema=CHANGE_COLUMNS)
    if not key:
        return empty

    def prepare(df: pl.DataFrame, side: str) -> pl.DataFrame:
        cast = [pl.col(c).cast(schema[c], strict=False) for c in common if df.schema[c] != schema[c]]
        return (
            df.with_columns(cast)
            .select(common)
            .with_columns(pl.int_range(pl.len()).over(key).alias(DUP))
            .rename({c: f"{c}__{side}" for c in values})
        )

    # Presence markers: a full join leaves the other side's columns null; a marker tells which side exists.
    joined = prepare(locked, "old").with_columns(pl.lit(True).alias("__in_old"))
    joined = joined.join(
        prepare(built, "new").with_columns(pl.lit(True).alias("__in_new")),
        on=[*key, DUP],
        how="full",
        coalesce=True,
        nulls_equal=True,
    ).with_columns(_key_text(key).alias("key"))
    both = joined.filter(pl.col("__in_old") & pl.col("__in_new"))
    only_old = joined.filter(pl.col("__in_new").is_null())
    only_new = joined.filter(pl.col("__in_old").is_null())

    parts: list[pl.DataFrame] = []
    for c in values:
        old, new = pl.col(f"{c}__old"), pl.col(f"{c}__new")
        dtype = schema[c]
        differs = both.filter(old.ne_missing(new) & ~(_is_nan(old, dtype) & _is_nan(new, dtype)))
        if differs.is_empty():
            continue
        if isinstance(dtype, pl.List):
            # A list (lineage row ids) shows what left and what came, not both whole lists.
            differs = differs.with_columns(
                old.fill_null([]).list.set_difference(new.fill_null([])).alias(f"{c}__old"),
                new.fill_null([]).list.set_difference(old.fill_null([])).alias(f"{c}__new"),
            )
        parts.append(
            differs.select(
                pl.lit("changed").alias("change"),
                "key",
                pl.lit(c).alias("column"),
                _as_text(f"{c}__old", dtype).alias("old"),
                _as_text(f"{c}__new", dtype).alias("new"),
                *_deltas(old, new, dtype),
            )
        )
    numbers = [c for c in values if _numeric(schema[c])]
    for frame, change, side in ((only_new, "added", "new"), (only_old, "removed", "old")):
        if frame.is_empty():
            continue
        per_number = [
            frame.filter(pl.col(f"{c}__{side}").is_not_null()).select(
                pl.lit(change).alias("change"),
                "key",
                pl.lit(c).alias("column"),
                (pl.lit(None, pl.String) if side == "new" else _as_text(f"{c}__old", schema[c])).alias("old"),
                (pl.lit(None, pl.String) if side == "old" else _as_text(f"{c}__new", schema[c])).alias("new"),
                *(
                    _deltas(pl.lit(0.0), pl.col(f"{c}__new"), schema[c])
                    if side == "new"
                    else _deltas(pl.col(f"{c}__old"), pl.lit(0.0), schema[c])
                ),
            )
            for c in numbers
        ]
        # A row without any number still shows up once.
        counted = pl.concat([p.select("key") for p in per_number]) if per_number else None
        bare = frame.select("key")
        if counted is not None:
            bare = bare.join(counted.unique(), on="key", how="anti")
        per_number.append(
            bare.select(
                pl.lit(change).alias("change"),
                "key",
                pl.lit("(row)").alias("column"),
                pl.lit(None, pl.String).alias("old"),
                pl.lit(None, pl.String).alias("new"),
                pl.lit(None, pl.Float64).alias("delta"),
                pl.lit(None, pl.Float64).alias("relative_delta"),
            )
        )
        parts += per_number
    if not parts:
        return empty
    out = pl.concat([p.cast(dict(list(CHANGE_COLUMNS.items())[1:])) for p in parts], how="vertical")
    return out.select(pl.lit(mart).alias("mart"), *out.columns).sort("change", "key", "column")


def _is_nan(e: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return e.is_nan().fill_null(False) if dtype.is_float() else pl.lit(False)


def _deltas(old: pl.Expr, new: pl.Expr, dtype: pl.DataType) -> list[pl.Expr]:
    if not _numeric(dtype):
        return [pl.lit(None, pl.Float64).alias("delta"), pl.lit(None, pl.Float64).alias("relative_delta")]
    o, n = old.cast(pl.Float64), new.cast(pl.Float64)
    d = n - o
    return [
        d.alias("delta"),
        pl.when(o.is_not_null() & (o != 0)).then(d / o.abs()).otherwise(None).alias("relative_delta"),
    ]


def mart_summary(locked: pl.DataFrame, built: pl.DataFrame, changes: pl.DataFrame) -> dict[str, Any]:
    """Counts for one mart: rows locked and built, rows changed/added/removed, values changed, the largest
    absolute and relative change, and columns present on one side only."""
    by = changes.group_by("change").agg(pl.col("key").n_unique().alias("rows"), pl.len().alias("values"))
    counts = {r["change"]: r for r in by.iter_rows(named=True)}
    changed = changes.filter(pl.col("change") == "changed")
    return {
        "rows_locked": locked.height,
        "rows_built": built.height,
        "rows_changed": counts.get("changed", {}).get("rows", 0),
        "rows_added": counts.get("added", {}).get("rows", 0),
        "rows_removed": counts.get("removed", {}).get("rows", 0),
        "values_changed": counts.get("changed", {}).get("values", 0),
        "max_abs_delta": _finite(changed["delta"].abs().max()),
        "max_abs_relative_delta": _finite(changed["relative_delta"].abs().max()),
        "columns_only_locked": sorted(set(locked.columns) - set(built.columns)),
        "columns_only_built": sorted(set(built.columns) - set(locked.columns)),
    }


def _finite(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(v) else None


def lineage_files(frames: Iterable[pl.DataFrame]) -> frozenset[str]:
    """Landing files (`dataset/drop/file`) named by the rows' lineage columns (`*row_ids` lists, `*row_id`)."""
    ids: list[str] = []
    for df in frames:
        for c, t in df.schema.items():
            if c.endswith("row_ids") and isinstance(t, pl.List):
                ids += df.get_column(c).explode().drop_nulls().cast(pl.String).to_list()
            elif c.endswith("row_id") and t == pl.String:
                ids += df.get_column(c).drop_nulls().to_list()
    return source_files(ids)


def restatement_causes(
    locked_inputs: Mapping[str, Any],
    current_inputs: Mapping[str, Any],
    sources: frozenset[str],
) -> dict[str, Any]:
    """Why the period's numbers would change: landing files (by content hash) added, changed or removed since
    the lock among the files behind the rows or in their datasets, reference seed/factor tables whose hash
    changed, and the code version. `*_inputs` hold `input_files` ({dataset/drop/file: sha256}),
    `reference_seeds` ({table: hash}) and `code_version`."""
    return input_causes(
        dict(locked_inputs.get("input_files", {})),
        dict(current_inputs.get("input_files", {})),
        sources,
        dict(locked_inputs.get("reference_seeds", {})),
        dict(current_inputs.get("reference_seeds", {})),
        locked_inputs.get("code_version"),
        current_inputs.get("code_version"),
    )


def restatement_markdown(report: Mapping[str, Any], changes: pl.DataFrame, limit: int = 50) -> str:
    """A readable summary of a restatement (the JSON and CSV hold everything)."""
    lines = [
        f"# Restatement of locked period {report['installation_id']} {report['year']}",
        "",
        f"Run `{report['run_id']}` would change {changes.height} values of this locked period; the published "
        f"numbers were kept (locked {report['lock']['locked_at']} by {report['lock']['locked_by']}).",
        "",
        "## Cause",
        "",
    ]
    causes = report["causes"]
    for label, key in (
        ("Input files changed", "input_files_changed"),
        ("Input files added", "input_files_added"),
        ("Input files removed", "input_files_removed"),
        ("Reference tables (factors) changed", "reference_tables_changed"),
    ):
        if causes.get(key):
            lines.append(f"- {label}: " + ", ".join(f"`{x}`" for x in causes[key]))
    if causes.get("code_version"):
        lines.append(f"- Code version: `{causes['code_version']['old']}` → `{causes['code_version']['new']}`")
    if not any(causes.get(k) for k in causes):
        lines.append("- No input file, reference table or code difference found since the lock.")
    marts = report.get("marts", {})
    lines += [
        "",
        "## Per mart",
        "",
        "| mart | rows locked | changed | added | removed | values | max relative |",
    ]
    lines.append("|---|---|---|---|---|---|---|")
    for name, m in marts.items():
        if "rows_changed" not in m:
            lines.append(f"| {name} | {m.get('rows_locked', '')} | {m.get('note', '')} |  |  |  |  |")
            continue
        rel = m.get("max_abs_relative_delta")
        lines.append(
            f"| {name} | {m['rows_locked']} | {m['rows_changed']} | {m['rows_added']} | {m['rows_removed']} | "
            f"{m['values_changed']} | {'' if rel is None else f'{rel:.4%}'} |"
        )
    # The most aggregated marts (fewest locked rows: installation totals, SEE per good) first, numbers first.
    size = pl.DataFrame(
        {"mart": list(marts), "_rows": [int(m.get("rows_locked") or 0) for m in marts.values()]},
        schema={"mart": pl.String, "_rows": pl.Int64},
    )
    shown = (
        changes.join(size, on="mart", how="left")
        .sort(pl.col("delta").is_null(), "_rows", "mart", "key", "column", nulls_last=True)
        .head(limit)
    )
    lines += ["", "## Numbers", "", "| mart | change | key | column | old | new | delta | relative |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in shown.iter_rows(named=True):
        rel = r["relative_delta"]
        cells = [r["mart"], r["change"], r["key"], r["column"], r["old"], r["new"], r["delta"]]
        text = [("" if v is None else str(v)).replace("|", "\\|") for v in cells]
        lines.append("| " + " | ".join(text) + f" | {'' if rel is None else f'{rel:+.4%}'} |")
    if changes.height > limit:
        lines.append(f"\n… {changes.height - limit} more in the CSV.")
    return "\n".join(lines) + "\n"
