"""The quarantine decision (transforms/ingest/quarantine.py), pure: file status, accounting per file, duplicate
keys, files that cannot be taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
import pytest

from transforms.contracts import dataset
from transforms.ingest.quarantine import (
    FILES_SCHEMA,
    QUARANTINE_SCHEMA,
    file_records,
    file_status,
    problem_records,
    reason_summary,
    rejected_file,
    split_duplicate_keys,
)

DAY = date(2026, 3, 3)
NOW = datetime(2026, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("read", "accepted", "quarantined", "has_q", "status"),
    [
        (3, 3, 0, False, "ok"),
        (3, 2, 1, True, "partial"),
        (3, 0, 3, True, "rejected"),  # every row held back
        (0, 0, 0, True, "rejected"),  # unreadable: one file-level reason, no row
        (0, 0, 0, False, "rejected"),  # nothing read at all
        (2, 2, 0, True, "ok"),  # accepted rows and a row-less note stay ok
    ],
)
def test_file_status(read, accepted, quarantined, has_q, status):
    assert file_status(read, accepted, quarantined, has_q) == status


def _materials(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    ds = dataset("materials")
    frame = pl.DataFrame(
        {
            "material_id": [r[0] for r in rows],
            "_file": [r[1] for r in rows],
            "_row_number": [r[2] for r in rows],
            "_drop_date": [DAY] * len(rows),
        }
    )
    return frame.with_columns(
        [pl.lit(None, dtype).alias(c) for c, dtype in ds.schema.items() if c not in frame.columns]
    ).select(list(ds.schema))


def test_duplicate_keys_quarantine_every_copy_and_name_the_places():
    ds = dataset("materials")
    acc = _materials([("M1", "a.csv", 1), ("M2", "a.csv", 2), ("M1", "b.csv", 5)])
    kept, q = split_duplicate_keys(ds, acc)
    assert kept["material_id"].to_list() == ["M2"]
    assert q.schema == QUARANTINE_SCHEMA and sorted(q["file"]) == ["a.csv", "b.csv"]
    assert all("appears 2 times" in r and "a.csv row 1" in r and "b.csv row 5" in r for r in q["reason"])
    assert q["key"].to_list() == ['{"material_id":"M1"}'] * 2


def test_file_records_account_every_row_and_summarise_reasons():
    acc = _materials([("M1", "a.csv", 1), ("M2", "a.csv", 2)])
    q = pl.concat(
        [
            pl.DataFrame(
                {
                    "dataset": ["materials"] * 3,
                    "drop_date": [DAY] * 3,
                    "file": ["a.csv", "b.csv", "b.csv"],
                    "row_number": [3, 1, 2],
                    "column": ["name"] * 3,
                    "reason": ["required value missing in column name"] * 3,
                    "raw": [None] * 3,
                    "key": [None] * 3,
                },
                schema=QUARANTINE_SCHEMA,
            ),
            rejected_file("materials", DAY, "c.csv", "file rejected: not UTF-8"),
        ]
    )
    base = {"dataset": "materials", "drop_date": DAY, "processed_at": NOW, "contract_version": "1"}
    per_file = {
        "a.csv": base | {"file": "a.csv", "rows_read": 3},
        "b.csv": base | {"file": "b.csv", "rows_read": 2},
        "c.csv": base | {"file": "c.csv", "rows_read": 0},
    }
    recs = file_records(per_file, acc, q)
    assert recs.schema == FILES_SCHEMA
    got = {r["file"]: r for r in recs.iter_rows(named=True)}
    assert [
        (got[f]["rows_accepted"], got[f]["rows_quarantined"], got[f]["file_status"]) for f in per_file
    ] == [
        (2, 1, "partial"),
        (0, 2, "rejected"),
        (0, 0, "rejected"),
    ]
    assert got["b.csv"]["reasons"] == '["name: required value missing in column name (2)"]'
    assert got["c.csv"]["reasons"] == '["file: file rejected: not UTF-8 (1)"]'
    assert got["a.csv"]["gate_passed"] is None  # the raw gate has not run yet


def test_reason_summary_folds_quoted_values_into_one_kind():
    q = pl.DataFrame(
        {
            "column": ["quantity", "quantity", None],
            "reason": ["not a number: 'x'", "not a number: 'y'", "empty"],
        }
    )
    assert reason_summary(q) == '["quantity: not a number: \'…\' (2)", "file: empty (1)"]'
    assert reason_summary(q.clear()) is None


@dataclass(frozen=True)
class _Listed:
    rel_path: str
    change_token: str
    size: int
    problem: str | None


def test_files_that_cannot_be_taken_are_recorded_and_quarantined():
    recs, q = problem_records(
        dataset("materials"), [_Listed("materials/loose.csv", "t1", 10, "not in a drop folder")], NOW
    )
    r = recs.row(0, named=True)
    assert (r["file"], r["drop_date"], r["change_token"], r["rows_read"], r["file_status"]) == (
        "materials/loose.csv",
        None,
        "t1",
        0,
        "rejected",
    )
    assert q["reason"].to_list() == ["file rejected: not in a drop folder"] and q["row_number"].to_list() == [
        None
    ]
