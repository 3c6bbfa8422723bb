"""Every file of the demo read independently against the ODCS contracts: the manifest's bad rows are exactly
the rows that break a rule, for the fault it names; everything else is valid, headers are contract names or
aliases, keys are unique per drop except the deliberate duplicate."""

from __future__ import annotations

from collections import defaultdict

import pytest

from orchestration.demo.manifest import FILE_LEVEL_FAULTS
from tests.demo.checker import Unreadable, check_file, read_rows
from transforms.contracts import dataset
from transforms.text import norm_key


def test_files_match_the_manifest(small_demo):
    landing, manifest = small_demo
    for name, d in manifest.datasets.items():
        if name == "meter_readings":  # PME wide and EBO trend layouts, file-level rules: test_demo_ems.py
            continue
        ds = dataset(name)
        keys_by_drop: dict[str, list[tuple[str, int, tuple]]] = defaultdict(list)
        found: dict[tuple[str, int], set[str]] = {}
        for f in d.files:
            expected = {b.row_number: b.fault for b in f.bad_rows}
            if any(b.fault in FILE_LEVEL_FAULTS for b in f.bad_rows):
                with pytest.raises(Unreadable):
                    read_rows(landing, f)
                continue
            headers, rows = read_rows(landing, f)
            assert len(rows) == f.rows_written, f.file
            faults, unknown, keys = check_file(ds, headers, rows)
            assert not unknown, f"{f.file}: headers not in the contract: {unknown}"
            found.update({(f.file, n): v for n, v in faults.items()})
            keys_by_drop[f.drop_date] += [(f.file, n, k) for n, k in keys]
            for n, fault in expected.items():
                if fault != "duplicate_key":
                    assert fault in faults.get(n, set()), (
                        f"{f.file} row {n}: expected {fault}, got {faults.get(n)}"
                    )
            unexpected = {n: v for n, v in faults.items() if n not in expected}
            assert not unexpected, (
                f"{f.file}: rows break the contract but are not in the manifest: {unexpected}"
            )
        for drop, keys in keys_by_drop.items():
            seen: dict[tuple, list[tuple[str, int]]] = defaultdict(list)
            for file, n, k in keys:
                seen[k].append((file, n))
            dupes = {where for places in seen.values() if len(places) > 1 for where in places}
            declared = {
                (f.file, b.row_number)
                for f in d.files
                if f.drop_date == drop
                for b in f.bad_rows
                if b.fault == "duplicate_key"
            }
            assert dupes == declared, f"{name} {drop}: duplicate keys {dupes} vs manifest {declared}"


def test_tricky_cells_hold_what_the_manifest_says(small_demo):
    landing, manifest = small_demo
    assert len(manifest.tricky_cells) >= 3
    for t in manifest.tricky_cells:
        entry = manifest.file(t.file)
        headers, rows = read_rows(landing, entry)
        hmap = dataset(entry.dataset).header_map()
        col = [hmap.get(norm_key(h)) for h in headers].index(t.column)
        assert rows[t.row_number - 1][col] == t.raw
        assert any("\uff10" <= ch <= "\uff19" for ch in t.raw)  # full-width digits


def test_varied_formats_are_all_used(small_demo):
    _, manifest = small_demo
    files = manifest.files()
    assert {f.format for f in files} == {"csv", "xlsx", "json", "jsonl", "parquet"}
    assert {f.encoding for f in files if f.format == "csv"} >= {"utf-8", "utf-8-sig", "gb18030", "utf-16"}
    assert {f.separator for f in files if f.format == "csv"} >= {",", ";", "\t"}
    assert any(f.format == "xlsx" and f.header_row == 3 for f in files)  # two title rows
