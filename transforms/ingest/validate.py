"""Validate one file's text table against its dataset contract: typed accepted rows + quarantined rows.

Every data row ends up in exactly one of the two frames (rows read = accepted + quarantined). A quarantined
row carries the first failing column, every reason (joined by '; ') and its raw values as JSON text; its
schema and the file-level rules are in `quarantine.py`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import polars as pl

from transforms.contracts import Dataset
from transforms.ingest.base import CONTROL_CHARS, TableRead
from transforms.ingest.cells import cell_problem, error_suspects, may_repeat, parse_column
from transforms.ingest.quarantine import QUARANTINE_SCHEMA, rejected_file
from transforms.text import nfkc, norm_key


@dataclass
class Validated:
    accepted: (
        pl.DataFrame
    )  # dataset.schema (contract columns + lineage); a String column may be an Enum (`plain`)
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    notes: list[str] = field(default_factory=list)


def plain(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its `Enum` columns as String: the same values. A wide meter file's accepted rows hold their
    repeated texts (meter id, unit, header, layout, `_source_row_id`, `_file`) as `Enum` columns
    (`meter_wide._Block._accepted`), which the staging writer keeps as Parquet dictionaries; anything else
    that takes accepted rows takes them plain."""
    enums = [n for n, d in frame.schema.items() if isinstance(d, pl.Enum)]
    return frame.with_columns(pl.col(enums).cast(pl.String)) if enums else frame


def plain_schema(schema: pl.Schema) -> pl.Schema:
    """The schema `plain` gives a frame of `schema`."""
    return pl.Schema({n: pl.String if isinstance(d, pl.Enum) else d for n, d in schema.items()})


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
    if table.rows_read == 0:  # recorded with its reason, not as a silent empty success
        reason = "no data rows: the file has a header but no rows below it"
        return Validated(_empty(dataset), rejected_file(dataset.name, drop_date, file, reason), notes)
    found, unknown, dupes = map_headers(dataset, table.headers)
    if unknown:
        more = f" and {len(unknown) - 20:,} more" if len(unknown) > 20 else ""
        notes.append("ignored columns not in the contract: " + ", ".join(unknown[:20]) + more)
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
            "column": [b.column for b in table.broken],
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
    # A small file in one plan (`_texts`): per column, the eager steps below cost ~2 ms each whatever the rows
    one_plan = frame.height <= ONE_PLAN_ROWS
    # one plan: each column's value, whether its cells may have a message, the message, the cell problem
    typed: dict[str, pl.Expr] = {}
    suspects: dict[str, pl.Expr] = {}
    messages: dict[str, pl.Expr] = {}
    checks: dict[str, pl.Expr] = {}
    for col in dataset.columns:
        if col.name not in found:
            values[col.name] = pl.lit(None, col.dtype)
            continue
        idx = found[col.name]
        cell = _reader_problems(table, idx, col.kind)
        if not table.cells_clean:
            check = cell_problem(pl.col(f"c{idx}"))
            cell = check if cell is None else pl.coalesce(cell, check)
        if one_plan:
            s = pl.col(f"__s{idx}")
            # a later column's rule reads an earlier one's value: its expression (one `with_columns` for all)
            v, e = parse_column(col, s, _values_of(frame, idx, col.kind), dict(typed))
            typed[col.name] = v.cast(col.dtype)
            # the message where `_value_and_message` builds one (the same rows)
            suspects[col.name] = s.is_not_null() & error_suspects(col, pl.col(f"__v_{col.name}"))
            messages[col.name] = e
        else:
            parsed = {k: pl.col(f"__v_{k}") for k in values if k in found}
            work = _normalised(work, f"c{idx}", table.cells_trimmed)
            v, e = parse_column(col, pl.col("__s"), work, parsed)
            work = _value_and_message(work, col, v, e, parsed)
        values[col.name] = pl.col(f"__v_{col.name}")
        missing = pl.col(f"__v_{col.name}").is_null() & pl.col(f"__e_{col.name}").is_null()
        if cell is not None:  # the fast path (clean CSV text, no reader problem) has none
            if one_plan:
                checks[f"__c_{col.name}"] = cell
            else:
                work = work.with_columns(cell.alias(f"__c_{col.name}"))
            errors.append((col.name, pl.col(f"__c_{col.name}")))
            missing = missing & pl.col(f"__c_{col.name}").is_null()
        errors.append((col.name, pl.col(f"__e_{col.name}")))
        if col.required:
            errors.append(
                (col.name, pl.when(missing).then(pl.lit(f"required value missing in column {col.name}")))
            )

    # lazy from here (the small file's messages aside): accepted rows and quarantine collected at once
    plan = _one_plan(frame, dataset, found, typed, suspects, messages, checks) if one_plan else work.lazy()
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
    plan = plan.with_columns(err_cols)
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
    plan = plan.with_columns(__first=first_col, __reason=reason)  # raw and key: for quarantined rows only
    bad = pl.col("__reason").is_not_null() & (pl.col("__reason") != "")

    # <dataset>/<drop>/<name>#<row>, the file part percent-encoded so that the last '#' is the row's
    source_row_id = pl.concat_str([pl.lit(lineage_file(file) + "#"), pl.col("_row_number").cast(pl.String)])
    accepted = plan.filter(~bad).select(
        *[values[c].alias(c) for c in dataset.column_names],
        _drop_date=pl.lit(drop_date, pl.Date),
        _file=pl.lit(file),
        _row_number=pl.col("_row_number"),
        _source_row_id=source_row_id,
    )
    quarantined = plan.filter(bad).select(
        **lineage,
        row_number=pl.col("_row_number"),
        column=pl.col(table.cell_column) if table.cell_column else pl.col("__first"),  # a wide file's header
        reason=pl.col("__reason").str.replace_all(CONTROL_CHARS, "\ufffd"),  # a NUL quoted in a reason, shown
        raw=raw,
        key=key_json,
    )
    # (common subexpressions are not searched for: on a small file's plan that search cost more than it saved)
    accepted_df, quarantined_df = pl.collect_all(
        [accepted.match_to_schema(dataset.schema), quarantined.cast(QUARANTINE_SCHEMA)],
        optimizations=pl.QueryOptFlags(comm_subexpr_elim=False) if one_plan else pl.QueryOptFlags(),
    )
    return Validated(
        accepted_df,
        pl.concat([quarantined_df, broken_q]).sort("row_number", nulls_last=True),
        notes,
    )


# Rows up to which a file's columns are parsed in one plan (`_one_plan`) instead of column by column: each eager
# step costs ~1-2 ms whatever the rows (a 10-row invoice file: 20 against 55 CPU-ms; 2,000 rows: 33-41 against
# 51). From ~5,000 rows on, the per-column steps (values parsed once per distinct value) pay.
ONE_PLAN_ROWS = 2_000


def _texts(frame: pl.DataFrame, dataset: Dataset, found: dict[str, int]) -> pl.LazyFrame:
    """`frame` with `__s<i>`, the NFKC text of each contract column's cells `c<i>` (trimmed, "" as null: what
    `_normalised` gives, there one column at a time)."""
    idx = sorted({found[c.name] for c in dataset.columns if c.name in found})
    return frame.lazy().with_columns(nfkc(pl.col(f"c{i}")).alias(f"__s{i}") for i in idx)


def _one_plan(
    frame: pl.DataFrame,
    dataset: Dataset,
    found: dict[str, int],
    typed: dict[str, pl.Expr],
    suspects: dict[str, pl.Expr],
    messages: dict[str, pl.Expr],
    checks: dict[str, pl.Expr],
) -> pl.LazyFrame:
    """A small file's texts, values (`__v_<col>`), messages (`__e_<col>`) and cell problems (`__c_<col>`): the
    values, the suspect flags and the cell checks in one collect, then the messages of the columns that have a
    suspect cell only (usually none: a message is a large expression, most of a plan's cost when built for
    every column)."""
    work = (
        _texts(frame, dataset, found)
        .with_columns(e.alias(f"__v_{name}") for name, e in typed.items())
        .with_columns(
            *(e.alias(f"__x_{name}") for name, e in suspects.items()),
            *(e.alias(name) for name, e in checks.items()),
        )
        .collect(optimizations=pl.QueryOptFlags(comm_subexpr_elim=False))
    )
    flagged = {name for name in suspects if work.get_column(f"__x_{name}").any()}
    return work.lazy().with_columns(
        (pl.when(f"__x_{name}").then(e) if name in flagged else pl.lit(None, pl.String)).alias(f"__e_{name}")
        for name, e in messages.items()
    )


def _values_of(frame: pl.DataFrame, idx: int, kind: str) -> pl.DataFrame | None:
    """The cells of column `c<idx>` that `parse_column` looks at before it builds its expressions (`__s`, as
    `_texts` gives them): only for kinds whose rule is a Python mapping of the values present (a compound unit,
    a JSON object); the others' rules are expressions."""
    return frame.select(nfkc(pl.col(f"c{idx}")).alias("__s")) if kind in ("compound_unit", "json") else None


def _value_and_message(
    work: pl.DataFrame, col, v: pl.Expr, e: pl.Expr, parsed: dict[str, pl.Expr]
) -> pl.DataFrame:
    """`__v_<col>` (the typed value) for every row, `__e_<col>` (the cell's message) built only for the rows
    that can have one (`error_suspects`: a cell whose value did not parse, or that breaks a bound or a scope),
    usually none; the message expressions are the costly part. Lazily: common subexpressions once."""
    name_v, name_e = f"__v_{col.name}", f"__e_{col.name}"
    work = work.lazy().with_columns(v.cast(col.dtype).alias(name_v)).collect()
    suspect = work.select(
        (pl.col("__s").is_not_null() & error_suspects(col, pl.col(name_v))).arg_true()
    ).to_series()
    if suspect.is_empty():
        return work.with_columns(pl.lit(None, pl.String).alias(name_e))
    sub = work[suspect]
    _, e_sub = parse_column(col, pl.col("__s"), sub, parsed)
    messages = sub.lazy().select(e_sub.alias(name_e)).collect().to_series()
    full = pl.Series(name_e, [None] * work.height, dtype=pl.String).scatter(suspect, messages)
    return work.with_columns(full)


def _normalised(work: pl.DataFrame, column: str, trimmed_already: bool = False) -> pl.DataFrame:
    """`__s` = the NFKC text of `column`, normalised once per distinct value when values repeat (normalising
    is the costliest step of a repetitive column: a wide meter file's timestamps and headers, units, ids).
    `trimmed_already`: the reader found no ASCII whitespace in any cell (`TableRead.cells_trimmed`)."""
    values = work.get_column(column)
    size = values.str.len_bytes()
    if (size == values.str.len_chars()).all():  # ASCII: NFKC leaves it as it is
        # trimmed, "" as null: each step only where some cell needs it (most columns need neither)
        if trimmed_already:
            trimmed, trimmed_size = values, size
        else:
            trimmed = values.str.strip_chars()
            trimmed_size = trimmed.str.len_bytes()
        if trimmed_size.sum() == size.sum():  # nothing to trim (trimming only ever shortens a cell)
            trimmed, trimmed_size = values, size
        if (trimmed_size == 0).any():
            trimmed = trimmed.set(trimmed_size == 0, None)
        return work.with_columns(trimmed.alias("__s"))
    # an estimate first: mostly distinct values (numbers) are not worth a unique()
    distinct = values.drop_nulls().unique() if may_repeat(values, 4) else None
    if distinct is None or len(distinct) * 4 >= work.height:
        return work.with_columns(nfkc(pl.col(column)).alias("__s"))
    m = pl.DataFrame({"k": distinct}).with_columns(v=nfkc(pl.col("k")))
    return work.with_columns(
        pl.col(column).replace_strict(m["k"], m["v"], default=None, return_dtype=pl.String).alias("__s")
    )


def lineage_file(file: str) -> str:
    """The file part of a `_source_row_id`: '%' and '#' (and control characters) percent-encoded, so the id
    `<dataset>/<drop>/<file>#<row>` splits unambiguously at its last '#' and decodes back to the file."""
    out = file.replace("%", "%25").replace("#", "%23")
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"%{ord(m.group()):02X}", out)


def _reader_problems(table: TableRead, idx: int, kind: str) -> pl.Expr | None:
    """The reader's verdict on cells of column `idx` (formula without cached value, JSON array, NaN), as
    the row's reason; a JSON object is what a column of lingtanType json holds."""
    hits = {
        p.row_number: p.reason
        for p in table.problems
        if p.column_index == idx and not (p.kind == "structured" and kind == "json")
    }
    if not hits:
        return None
    return pl.col("_row_number").replace_strict(
        list(hits), list(hits.values()), default=None, return_dtype=pl.String
    )


def _empty(dataset: Dataset) -> pl.DataFrame:
    return pl.DataFrame(schema=dataset.schema)


def validate_read(dataset: Dataset, table: TableRead, drop_date, file: str) -> Validated:
    """`validate`, or the reader's own validation of its table when it has one (a `validated` method) that gives
    the same accepted rows, quarantine records and notes with less work: a wide meter file judged per meter
    column, per line and per cell instead of per reading (`meter_wide.WideRead`)."""
    own = getattr(table, "validated", None)
    if callable(own):
        return own(dataset, drop_date, file)
    return validate(dataset, table, drop_date, file)
