"""The computed gate, on the staged Parquet files (nothing has been published yet when this runs).

Two verdicts (docs/reliability.md, "Isolation"):
- blocking, what no installation can be blamed for: a table missing, a column its rules read missing (schema
  broken), a Great Expectations suite failing (tables without row rules), and the lines of the engine's own
  `reconcile` (keys repeated, home-wide identities). A blocking failure publishes nothing.
- row findings (`expectations/isolation.py`), each attributed to an installation and year: the tables are
  published, the findings are a warning, and the report gate blocks only the documents that depend on those rows.

A table too big to read whole (the interval engine's meter_hourly: 17.8 M rows, 4.3 GB in memory at scale 100) is
read in slices (`Parts`): the gate keeps only those of its rows that could fail, and gives the same verdict and
findings as over the whole table. Stored by month (a folder of parts), it is read part by part, and the parts an
incremental run kept need not be read again: their suspects are those the gate kept when it read them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from expectations import isolation
from expectations.gate import Gate

COMPUTED_GATE = "computed_gate"
WARNING_PREFIX = "computed gate"  # how a row finding's line starts


@dataclass(frozen=True)
class Audit:
    gate: Gate  # blocking
    found: pl.DataFrame  # row findings per installation × year (isolation.FINDINGS_SCHEMA)
    # of each table read in `Parts`: the rows the gate kept (`suspects`), with every column
    suspects: dict[str, pl.DataFrame] = field(default_factory=dict)
    # of each table stored as a folder of parts: the same, part by part (file name → rows)
    part_suspects: dict[str, dict[str, pl.DataFrame]] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return isolation.lines(self.found, WARNING_PREFIX)

    def of_table(self, table: str) -> list[str]:
        """The finding lines of one table."""
        return isolation.lines(self.found.filter(pl.col("table") == table), WARNING_PREFIX)


@dataclass(frozen=True)
class Parts:
    """How the gate reads a staged table in slices instead of whole. The file holds each `group` value's rows
    together (the engine writes it so, group after group; the gate checks it and blocks when it does not); a
    slice of about `rows` rows ends where a group ends, so each group is read in one slice. What the gate keeps
    of the table (`suspects`): the rows that fail a row rule of its `isolation.RULES` entry and the rows whose
    `key` (which includes `group`) repeats, with every column. Every other row passes every row rule and repeats
    no key, so the blocking verdict, the findings and a `reconcile` that reads the table only for repeated keys
    (`expectations.ems.reconcile_ems`) are those of the whole table."""

    group: str
    key: tuple[str, ...]
    rows: int = 1 << 21
    # a table stored by month (a folder of `part-YYYYMM.parquet`, `transforms.paths`): the column whose UTC month
    # names each row's part. Each part is read as a table of its own (its groups together), and a row outside its
    # part's month blocks: parts then share no key.
    month_of: str = ""


def suspects(path: Path, name: str, parts: Parts) -> tuple[pl.DataFrame, list[str]]:
    """(the rows of the staged table `name` at `path` that fail a row rule or repeat the key, the blocking
    lines: groups whose rows are not together); see `Parts`."""
    lf = pl.scan_parquet(path)
    schema = lf.collect_schema()
    t = isolation.RULES.get(name)
    rules = [r for r in (t.rules if t else ()) if all(c in schema for c in (r.column, *r.needs))]
    read = {parts.group, *parts.key, *(c for r in rules for c in (r.column, *r.needs))}
    bad = pl.any_horizontal(pl.lit(False), *(r.bad.fill_null(False) for r in rules))
    keyed = all(c in schema for c in parts.key)
    # rows in strictly ascending key order repeat no key (the engine writes them so): a comparison with the row
    # before, not a hash of every key; a slice not in that order is checked by hashing
    ascending: pl.Expr = pl.lit(False)
    for c in reversed(parts.key):
        ascending = (pl.col(c) > pl.col(c).shift(1)) | ((pl.col(c) == pl.col(c).shift(1)) & ascending)
    ascending = ascending.fill_null(False) | (pl.int_range(pl.len()) == 0)
    scan = lf.select([c for c in schema if c in read])
    n = lf.select(pl.len()).collect().item()
    held: pl.DataFrame | None = None  # the rows of the group the last slice ended in (it may go on)
    seen: set = set()
    apart: set = set()
    found: list[pl.Series] = []
    for start in range(0, n, parts.rows):
        df = scan.slice(start, parts.rows).collect().with_row_index("_pos", offset=start)
        if held is not None:
            df = pl.concat([held, df])
        if start + parts.rows < n:
            last = df[parts.group].rle_id() == df[parts.group].rle_id()[-1]
            held, df = df.filter(last), df.filter(~last)
        # each group in one run of rows, and none seen in an earlier slice
        runs = (
            df.select(parts.group, _run=pl.col(parts.group).rle_id())
            .group_by(parts.group)
            .agg(_runs=pl.col("_run").n_unique())
        )
        apart.update(runs.filter(pl.col("_runs") > 1)[parts.group].to_list())
        values = runs[parts.group].to_list()
        apart.update(seen.intersection(values))
        seen.update(values)
        repeats = keyed and not df.select(ascending.all()).item()
        found.append(df.filter(bad | pl.struct(*parts.key).is_duplicated() if repeats else bad)["_pos"])
    problems = (
        [
            f"{name}: the rows of {parts.group} {', '.join(sorted(map(str, apart))[:5])} are not together in the "
            f"staged file ({len(apart)} value(s); the gate reads it {parts.group} by {parts.group})"
        ]
        if apart
        else []
    )
    pos = pl.concat(found) if found else pl.Series("_pos", [], pl.UInt32)
    if pos.len() == 0:
        return pl.DataFrame(schema=schema), problems
    rows = lf.with_row_index("_pos").filter(pl.col("_pos").is_in(pos.implode())).drop("_pos").collect()
    return rows, problems


def month_parts_suspects(
    folder: Path, name: str, parts: Parts, known: Mapping[str, pl.DataFrame] | None = None
) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """(each part's `suspects`, the blocking lines) of a table stored by month (`Parts.month_of`). `known`: the
    suspects of parts this gate does not read again (file name → rows: parts an incremental run kept as they were
    when a gate read them)."""
    from transforms.paths import NO_MONTH, month_of, table_parts

    known = known or {}
    out: dict[str, pl.DataFrame] = {}
    problems: list[str] = []
    for path in table_parts(folder):
        if path.name in known:
            out[path.name] = known[path.name]
            continue
        out[path.name], lines = suspects(path, name, parts)
        problems += lines
        m = month_of(path)
        t = pl.col(parts.month_of)
        outside = (
            t.is_not_null() if m == NO_MONTH else (t.dt.year() * 100 + t.dt.month() != m).fill_null(True)
        )
        n = pl.scan_parquet(path).filter(outside).select(pl.len()).collect().item()
        if n:
            problems.append(f"{name}: {n} row(s) of {path.name} are not of its month ({parts.month_of})")
    return out, problems


def audit(
    staged: Mapping[str, Path],
    reconcile: Callable[[dict[str, pl.DataFrame]], list[str]],
    parts: Mapping[str, Parts] | None = None,
    known: Mapping[str, Mapping[str, pl.DataFrame]] | None = None,
    suite_rows: Mapping[str, pl.Expr] | None = None,
) -> Audit:
    """The blocking verdict and the row findings over the staged tables; those named in `parts` are read in
    slices (`Parts`; a folder of parts by month part by part, `month_parts_suspects` with the `known` suspects of
    the table's kept parts), the others whole. `suite_rows`: for a table with a Great Expectations suite, the rows
    the suite reads (its rules are row by row: the others were carried from a publication the suite passed);
    every row when not named."""
    from expectations.runner import validate  # GX takes seconds to import: only when a gate runs
    from expectations.suites.computed import SUITES

    parts = parts or {}
    tables: dict[str, pl.DataFrame] = {}
    by_part: dict[str, dict[str, pl.DataFrame]] = {}
    apart: list[str] = []
    for name, path in staged.items():
        if name not in parts:
            tables[name] = pl.read_parquet(path)
            continue
        if name in SUITES and name not in isolation.RULES:
            raise ValueError(f"{name}: a Great Expectations suite reads the whole table, not parts of it")
        if parts[name].month_of and path.is_dir():
            by_part[name], problems = month_parts_suspects(path, name, parts[name], (known or {}).get(name))
            tables[name] = pl.concat(by_part[name].values(), how="vertical_relaxed")
        else:
            tables[name], problems = suspects(path, name, parts[name])
        apart += problems
    failures = isolation.structural(tables) + apart
    for name, df in tables.items():
        rows = df.filter((suite_rows or {})[name]) if name in (suite_rows or {}) else df
        if name in SUITES and name not in isolation.RULES and rows.height:
            res = validate(rows, SUITES[name]())
            if not res.passed:
                failures.append(res.summary())
    failures += reconcile(tables)
    found = isolation.findings(tables)
    return Audit(
        Gate.of(COMPUTED_GATE, failures), found, {n: tables[n] for n in parts if n in tables}, by_part
    )


def audit_computed(
    staged: Mapping[str, Path], reconcile: Callable[[dict[str, pl.DataFrame]], list[str]]
) -> Gate:
    """Every failure blocking, row findings included (one verdict)."""
    a = audit(staged, reconcile)
    return Gate.of(COMPUTED_GATE, [*a.gate.failures, *a.warnings])
