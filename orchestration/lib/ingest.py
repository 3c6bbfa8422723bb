"""Ingest a landing dataset into the raw lake, write-audit-publish.

For each drop (`<dataset>/<YYYY-MM-DD>/`) whose files are new or changed (by content hash), every file is read,
validated against the dataset's contract and accounted for; duplicate business keys across the drop are
quarantined; the dataset's current table is rebuilt (event or snapshot semantics). Everything is first
written to `lake/staging/<dataset>/<run>/`, audited (the raw gate), and only then moved into
`lake/raw/<dataset>/`. A drop whose files did not change is not read again, so a second run changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import yaml

from orchestration.lib.home import Home
from orchestration.lib.storage import Landing, LandingFile, atomic_write_parquet, sha256
from transforms.contracts import Dataset
from transforms.contracts import dataset as get_dataset
from transforms.ingest import drops
from transforms.ingest.readers import FileRejected, read_table
from transforms.ingest.validate import QUARANTINE_SCHEMA, header_names_enough, rejected_file, validate

log = logging.getLogger(__name__)

FILES_SCHEMA = pl.Schema(
    {
        "dataset": pl.String,
        "drop_date": pl.Date,
        "file": pl.String,
        "sha256": pl.String,
        "change_token": pl.String,
        "size_bytes": pl.Int64,
        "file_format": pl.String,
        "encoding": pl.String,
        "rows_read": pl.Int64,
        "rows_accepted": pl.Int64,
        "rows_quarantined": pl.Int64,
        "file_status": pl.String,
        "reasons": pl.String,
        "notes": pl.String,
        "processed_at": pl.Datetime("us", "UTC"),
        "contract_version": pl.String,
        "gate_passed": pl.Boolean,
        "gate_details": pl.String,
    }
)


@dataclass
class GateResult:
    passed: bool
    failures: list[str] = field(default_factory=list)

    @property
    def details(self) -> str:
        return "ok" if self.passed else "; ".join(self.failures)


@dataclass
class IngestResult:
    dataset: str
    drops_processed: list[date]
    files: pl.DataFrame  # FILES_SCHEMA rows of the files processed in this run
    gate: GateResult
    rows_current: int

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum())

    @property
    def rows_accepted(self) -> int:
        return int(self.files["rows_accepted"].sum())

    @property
    def rows_quarantined(self) -> int:
        return int(self.files["rows_quarantined"].sum())


def _reason_summary(q: pl.DataFrame) -> str | None:
    """Main reasons with counts, as JSON list text (`["quantity: not a number: '…' (3)", ...]`): a reason may
    itself contain '; ' or '|', so no separator could be split safely. Quoted values are folded so that one
    kind of fault counts once; the full reasons are in the quarantine records."""
    if q.is_empty():
        return None
    kinds = q.select(
        pl.concat_str(
            [
                pl.col("column").fill_null("file"),
                pl.lit(": "),
                pl.col("reason").str.replace_all(r"'[^']*'", "'…'"),
            ]
        ).alias("kind")
    )
    top = kinds.group_by("kind").len().sort(["len", "kind"], descending=[True, False]).head(5)
    return json.dumps([f"{k} ({n})" for k, n in top.iter_rows()], ensure_ascii=False)


def process_drop(
    ds: Dataset,
    drop_date: date,
    files: list[LandingFile],
    contents: dict[str, bytes | FileRejected],
    now: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(accepted rows, quarantine rows, file records) of one drop. Pure apart from reading `contents` (a file
    that could not be read from the landing zone is given as its `FileRejected`).

    Each file is isolated: whatever goes wrong while reading or validating one file rejects that file with
    the error named, and the other files of the drop are processed as usual."""
    accepted_parts, quarantine_parts, records = [], [], []
    per_file: dict[str, dict] = {}
    is_header = header_names_enough(ds)
    for f in sorted(files, key=lambda f: f.rel_path):
        data = contents[f.rel_path]
        unread = isinstance(data, FileRejected)
        base = {
            "dataset": ds.name,
            "drop_date": drop_date,
            "file": f.rel_path,
            "sha256": None if unread else sha256(data),
            # a file that could not be opened is tried again next run (its token never matches)
            "change_token": f"unread:{f.change_token}" if unread else f.change_token,
            "size_bytes": f.size if unread else len(data),
            "processed_at": now,
            "contract_version": ds.contract_version,
        }
        try:
            if isinstance(data, FileRejected):
                raise data
            table = read_table(f.rel_path, data, ds.name, is_header)
            v = validate(ds, table, drop_date, f.rel_path)
        except Exception as e:  # one file's failure must not cost the others
            reason = str(e) if isinstance(e, FileRejected) else _internal_error(f.rel_path, e)
            log.warning("%s: file rejected: %s", f.rel_path, reason)
            quarantine_parts.append(rejected_file(ds.name, drop_date, f.rel_path, f"file rejected: {reason}"))
            per_file[f.rel_path] = base | {
                "file_format": None,
                "encoding": None,
                "rows_read": 0,
                "notes": None,
            }
            continue
        accepted_parts.append(v.accepted)
        quarantine_parts.append(v.quarantine)
        per_file[f.rel_path] = base | {
            "file_format": table.file_format,
            "encoding": table.encoding,
            "rows_read": table.rows_read,
            "notes": "; ".join(v.notes) or None,
        }
    accepted = pl.concat(accepted_parts) if accepted_parts else pl.DataFrame(schema=ds.schema)
    accepted, dup_q = drops.split_duplicate_keys(ds, accepted)
    quarantine = pl.concat([*quarantine_parts, dup_q]) if quarantine_parts else dup_q
    quarantine = quarantine.cast(QUARANTINE_SCHEMA)
    acc_counts = dict(accepted.group_by("_file").len().iter_rows())
    for rel, rec in per_file.items():
        q = quarantine.filter(pl.col("file") == rel)
        n_q = q.filter(pl.col("row_number").is_not_null())["row_number"].n_unique()
        n_a = acc_counts.get(rel, 0)
        status = (
            "rejected" if n_a == 0 and (rec["rows_read"] == 0 or n_q > 0) else ("partial" if n_q else "ok")
        )
        if rec["rows_read"] == 0 and not q.is_empty():
            status = "rejected"
        records.append(
            rec
            | {
                "rows_accepted": n_a,
                "rows_quarantined": n_q,
                "file_status": status,
                "reasons": _reason_summary(q),
                "gate_passed": None,
                "gate_details": None,
            }
        )
    files_df = pl.DataFrame(records, schema=FILES_SCHEMA) if records else pl.DataFrame(schema=FILES_SCHEMA)
    return accepted, quarantine, files_df


def _internal_error(rel_path: str, e: Exception) -> str:
    log.exception("%s: unexpected error while reading", rel_path)
    return (
        f"lingtan could not read this file ({type(e).__name__}: {str(e)[:200]}); the other files were "
        "processed. Please report it with the file"
    )


def read_landing(landing: Landing, rel_path: str) -> bytes | FileRejected:
    """A file's bytes, or why it cannot be read (gone since listing, a link swapped in, no permission)."""
    try:
        return landing.read(rel_path)
    except (OSError, ValueError) as e:
        return FileRejected(f"cannot be read from the landing zone ({e})")


def problem_records(
    ds: Dataset, problems: list[LandingFile], now: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Files that cannot be taken at all (unsafe key, not in a drop folder): a record and a quarantine row."""
    recs = [
        {
            "dataset": ds.name,
            "drop_date": None,
            "file": f.rel_path,
            "sha256": None,
            "change_token": f.change_token,
            "size_bytes": f.size,
            "file_format": None,
            "encoding": None,
            "rows_read": 0,
            "rows_accepted": 0,
            "rows_quarantined": 0,
            "file_status": "rejected",
            "reasons": json.dumps([f"file: {f.problem} (1)"], ensure_ascii=False),
            "notes": None,
            "processed_at": now,
            "contract_version": ds.contract_version,
            "gate_passed": None,
            "gate_details": None,
        }
        for f in problems
    ]
    q = [rejected_file(ds.name, None, f.rel_path, f"file rejected: {f.problem}") for f in problems]
    return (
        pl.DataFrame(recs, schema=FILES_SCHEMA) if recs else pl.DataFrame(schema=FILES_SCHEMA),
        pl.concat(q) if q else pl.DataFrame(schema=QUARANTINE_SCHEMA),
    )


def _read_or_empty(path: Path, schema: pl.Schema) -> pl.DataFrame:
    return pl.read_parquet(path).match_to_schema(schema) if path.exists() else pl.DataFrame(schema=schema)


def _drop_name(d: date) -> str:
    return f"{d.isoformat()}.parquet"


def audit(ds: Dataset, stage: Path, files: pl.DataFrame) -> GateResult:
    """The raw gate: row accounting per file, the current table's schema, keys and required values, and the
    contract's SQL quality rules."""
    failures = []
    bad = files.filter(pl.col("rows_read") != pl.col("rows_accepted") + pl.col("rows_quarantined"))
    for r in bad.iter_rows(named=True):
        failures.append(
            f"{r['file']}: rows read {r['rows_read']} != accepted {r['rows_accepted']} + quarantined "
            f"{r['rows_quarantined']}"
        )
    current = pl.read_parquet(stage / "current.parquet")
    try:
        current.match_to_schema(ds.schema)
    except Exception as e:
        failures.append(f"current table does not match the contract schema: {e}")
    if ds.keys and current.height and current.select(ds.keys).is_duplicated().any():
        failures.append(f"business key {ds.keys} not unique in the current table")
    for c in ds.required:
        n = current[c].null_count() if c in current.columns else current.height
        if n:
            failures.append(f"required column {c} has {n} empty values")
    failures += contract_sql_checks(ds, stage / "current.parquet")
    return GateResult(not failures, failures)


def contract_sql_checks(ds: Dataset, parquet: Path) -> list[str]:
    """Run the contract's `quality: [{type: sql, query, mustBe…}]` rules with DuckDB on one Parquet file."""
    doc = yaml.safe_load(ds.contract_path.read_text(encoding="utf-8"))
    rules = [q for q in (doc["schema"][0].get("quality") or []) if q.get("type") == "sql"]
    if not rules:
        return []
    out = []
    con = duckdb.connect()
    try:
        con.execute(f"create view {ds.name} as select * from read_parquet('{parquet.as_posix()}')")
        for rule in rules:
            query = rule["query"].replace("${object}", ds.name)
            value = con.execute(query).fetchone()[0]
            ok = _compare(value, rule)
            if not ok:
                out.append(
                    f"quality rule '{rule.get('name') or rule.get('description') or query}' gave {value}"
                )
    finally:
        con.close()
    return out


def _compare(value, rule: dict) -> bool:
    checks = {
        "mustBe": lambda v, t: v == t,
        "mustNotBe": lambda v, t: v != t,
        "mustBeLessThan": lambda v, t: v < t,
        "mustBeLessOrEqualTo": lambda v, t: v <= t,
        "mustBeGreaterThan": lambda v, t: v > t,
        "mustBeGreaterOrEqualTo": lambda v, t: v >= t,
        "mustBeBetween": lambda v, t: t[0] <= v <= t[1],
    }
    return all(fn(value, rule[k]) for k, fn in checks.items() if k in rule)


def _drops(name: str, listing, up_to: date | None, since: date | None):
    """The dataset's files grouped by drop date within [since, up_to], and the files that cannot be taken."""
    by_drop: dict[date, list[LandingFile]] = defaultdict(list)
    problems: list[LandingFile] = []
    for f in listing:
        if f.dataset != name:
            continue
        if f.problem:
            problems.append(f)
        elif (up_to is None or f.drop_date <= up_to) and (since is None or f.drop_date >= since):
            by_drop[f.drop_date].append(f)
    return by_drop, problems


def _known_files(ledger: pl.DataFrame) -> dict[str, dict]:
    return {r["file"]: r for r in ledger.filter(pl.col("drop_date").is_not_null()).iter_rows(named=True)}


def _maybe_changed(d: date, files: list[LandingFile], known: dict[str, dict]) -> bool:
    """A drop needs reading when its set of files or any file's change token differs from the ledger (the
    bytes' hash then decides)."""
    before = {p for p, r in known.items() if r["drop_date"] == d}
    return before != {f.rel_path for f in files} or any(
        known[f.rel_path]["change_token"] != f.change_token for f in files
    )


def pending_drop_dates(landing: Landing, home: Home, up_to: date | None = None) -> list[date]:
    """Drop dates (any dataset) with new or changed files: the partition window a run needs. Cheap: listing and
    change tokens only, no file is read."""
    from transforms.contracts import datasets

    listing = list(landing.files())
    pending: set[date] = set()
    for name in datasets():
        by_drop, _ = _drops(name, listing, up_to, None)
        known = _known_files(_read_or_empty(home.raw_dir(name) / "_files.parquet", FILES_SCHEMA))
        pending |= {d for d, files in by_drop.items() if _maybe_changed(d, files, known)}
    return sorted(pending)


def ingest_dataset(
    landing: Landing,
    home: Home,
    name: str,
    up_to: date | None = None,
    since: date | None = None,
    now: datetime | None = None,
    listing: list[LandingFile] | None = None,
) -> IngestResult:
    ds = get_dataset(name)
    now = now or datetime.now(UTC)
    raw_dir = home.raw_dir(name)
    ledger = _read_or_empty(raw_dir / "_files.parquet", FILES_SCHEMA)
    quarantine = _read_or_empty(raw_dir / "_quarantine.parquet", QUARANTINE_SCHEMA)

    by_drop, problems = _drops(name, listing if listing is not None else landing.files(), up_to, since)
    known = _known_files(ledger)
    changed: dict[date, dict[str, bytes]] = {}
    for d, files in sorted(by_drop.items()):
        if not _maybe_changed(d, files, known):
            continue
        contents = {f.rel_path: read_landing(landing, f.rel_path) for f in files}
        same_bytes = {f.rel_path for f in files} == {
            p for p, r in known.items() if r["drop_date"] == d
        } and all(isinstance(b, bytes) and known[p]["sha256"] == sha256(b) for p, b in contents.items())
        if not same_bytes:
            changed[d] = contents

    run = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    stage = home.staging / name / run
    new_files, new_q, hist_parts = [], [], {}
    for d, contents in changed.items():
        acc, q, recs = process_drop(ds, d, by_drop[d], contents, now)
        hist_parts[d] = acc
        new_q.append(q)
        new_files.append(recs)
    prob_files, prob_q = problem_records(ds, problems, now)

    changed_dates = list(changed)
    keep = ~pl.col("drop_date").is_in(changed_dates) & pl.col("drop_date").is_not_null()
    files_all = pl.concat([ledger.filter(keep), *new_files, prob_files]).sort(
        ["drop_date", "file"], nulls_last=True
    )
    q_all = pl.concat([quarantine.filter(keep), *new_q, prob_q]).sort(
        ["drop_date", "file", "row_number"], nulls_last=True
    )
    old_problems = set(
        ledger.filter(pl.col("drop_date").is_null()).select("file", "change_token").iter_rows()
    )
    if (
        not changed
        and (raw_dir / "current.parquet").exists()
        and old_problems == {(f.rel_path, f.change_token) for f in problems}
    ):
        cur = pl.scan_parquet(raw_dir / "current.parquet").select(pl.len()).collect().item()
        return IngestResult(name, [], pl.DataFrame(schema=FILES_SCHEMA), GateResult(True), cur)

    stage.mkdir(parents=True, exist_ok=True)
    try:
        for d, acc in hist_parts.items():
            atomic_write_parquet(acc, stage / "history" / _drop_name(d))
        history_files = (
            {p.name: p for p in (raw_dir / "history").glob("*.parquet")}
            if (raw_dir / "history").exists()
            else {}
        )
        history_files.update({p.name: p for p in (stage / "history").glob("*.parquet")})
        history = (
            pl.scan_parquet(sorted(history_files.values())).match_to_schema(ds.schema)
            if history_files
            else pl.LazyFrame(schema=ds.schema)
        )
        if ds.kind == "snapshot":
            current = drops.current_snapshot(ds, history, q_all.lazy())
        else:
            current = drops.current_event(ds, history)
        atomic_write_parquet(current.collect().match_to_schema(ds.schema), stage / "current.parquet")
        run_files = (
            pl.concat([*new_files, prob_files]) if (new_files or not prob_files.is_empty()) else prob_files
        )
        gate = audit(ds, stage, pl.concat([*new_files]) if new_files else pl.DataFrame(schema=FILES_SCHEMA))
        stamp = pl.col("file").is_in(run_files["file"].to_list())
        files_all = files_all.with_columns(
            gate_passed=pl.when(stamp).then(pl.lit(gate.passed)).otherwise(pl.col("gate_passed")),
            gate_details=pl.when(stamp).then(pl.lit(gate.details)).otherwise(pl.col("gate_details")),
        )
        atomic_write_parquet(files_all, stage / "_files.parquet")
        atomic_write_parquet(q_all, stage / "_quarantine.parquet")
        _publish(stage, raw_dir, data=gate.passed)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    cur = pl.scan_parquet(raw_dir / "current.parquet").select(pl.len()).collect().item()
    return IngestResult(
        name,
        changed_dates,
        run_files.with_columns(gate_passed=pl.lit(gate.passed), gate_details=pl.lit(gate.details)),
        gate,
        cur,
    )


def _publish(stage: Path, raw_dir: Path, data: bool) -> None:
    """Move staged files into the raw lake, one atomic rename each. The data-quality records always move (a
    failed gate must be visible); history and current only when the gate passed."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    if data:
        for p in sorted((stage / "history").glob("*.parquet")) if (stage / "history").exists() else []:
            (raw_dir / "history").mkdir(exist_ok=True)
            os.replace(p, raw_dir / "history" / p.name)
        os.replace(stage / "current.parquet", raw_dir / "current.parquet")
    for name in ("_quarantine.parquet", "_files.parquet"):
        os.replace(stage / name, raw_dir / name)


def ensure_empty_tables(home: Home) -> None:
    """Every dataset has a current table and data-quality files, even before its first drop, so that the
    engines and dbt always find their inputs."""
    from transforms.contracts import datasets

    for name, ds in datasets().items():
        d = home.raw_dir(name)
        for fname, schema in (
            ("current.parquet", ds.schema),
            ("_files.parquet", FILES_SCHEMA),
            ("_quarantine.parquet", QUARANTINE_SCHEMA),
        ):
            if not (d / fname).exists():
                atomic_write_parquet(pl.DataFrame(schema=schema), d / fname)


def summary_line(r: IngestResult) -> str:
    return json.dumps(
        {
            "dataset": r.dataset,
            "read": r.rows_read,
            "accepted": r.rows_accepted,
            "quarantined": r.rows_quarantined,
        }
    )
