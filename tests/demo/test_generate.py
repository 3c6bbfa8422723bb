"""The demo landing zone: reproducible bytes, volumes linear in scale, every dataset of the contract, and a
manifest whose counts add up."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from orchestration.demo import DATASETS, FAULT_KINDS, MANIFEST_NAME, DemoManifest, generate
from orchestration.demo.manifest import FILE_LEVEL_FAULTS
from tests.demo.conftest import SMALL
from transforms.contracts import datasets

SPEC_DATASETS = {  # docs/landing-zone.md, in its order
    "installations",
    "processes",
    "source_streams",
    "products",
    "materials",
    "suppliers",
    "supplier_invoices",
    "supplier_emissions",
    "energy_bills",
    "stream_readings",
    "production",
    "process_flows",
    "shipments",
    "exports",
    "precursor_consumption",
    "carbon_prices",
    "parks",
    "meters",
    "meter_readings",
    "green_certificates",
    "carbon_credits",
}


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(small_demo, tmp_path):
    landing, _ = small_demo
    again = generate(tmp_path / "again", scale=SMALL, seed=7)
    first, second = _digests(landing), _digests(tmp_path / "again")
    assert first == second
    assert len(first) > 200
    generate(tmp_path / "other", scale=SMALL, seed=8)
    other = _digests(tmp_path / "other")
    changed = [f for f in first if f in other and first[f] != other[f]]
    assert any("supplier_invoices" in f for f in changed)
    assert any("exports" in f for f in changed)
    assert again.seed == 7


def test_regenerating_over_an_earlier_demo_gives_the_same_tree(small_demo, tmp_path):
    landing = tmp_path / "landing"
    generate(landing, scale=0.3, seed=1)
    generate(landing, scale=SMALL, seed=7)  # smaller: files of the bigger run must not survive
    assert _digests(landing) == _digests(small_demo[0])


def test_invoice_lines_scale_linearly(small_demo, tmp_path):
    lines = {SMALL: small_demo[1].datasets["supplier_invoices"].rows_written}
    for scale in (1.0, 2.0):
        lines[scale] = generate(tmp_path / str(scale), scale=scale).datasets["supplier_invoices"].rows_written
    # ≈ 20,000 lines a year at scale 1 (22 months: Jan 2025 - Oct 2026, the 2026 months slightly busier)
    assert 34_000 < lines[1.0] < 40_000
    assert lines[2.0] / lines[1.0] == pytest.approx(2.0, rel=0.05)
    assert lines[SMALL] / lines[1.0] == pytest.approx(SMALL, rel=0.15)


def test_every_dataset_of_the_contract_is_written(small_demo):
    landing, manifest = small_demo
    assert set(DATASETS) == SPEC_DATASETS
    assert set(datasets()) <= SPEC_DATASETS  # contracts never name a dataset the demo lacks
    folders = {p.name for p in landing.iterdir() if p.is_dir()}
    assert folders == SPEC_DATASETS
    assert set(manifest.datasets) == SPEC_DATASETS
    for name in SPEC_DATASETS:
        assert manifest.datasets[name].expected_accepted > 0, name
        assert manifest.datasets[name].kind == DATASETS[name][0]


def test_layout_and_manifest_on_disk(small_demo):
    landing, manifest = small_demo
    assert (landing / MANIFEST_NAME).is_file()
    on_disk = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()} - {MANIFEST_NAME}
    assert on_disk == {f.file for f in manifest.files()}
    layout = re.compile(r"^[a-z_]+/\d{4}-\d{2}-\d{2}/[^/]+\.(csv|xlsx|json|jsonl|parquet)$")
    assert all(layout.match(f) for f in on_disk)
    assert DemoManifest.load(landing) == manifest
    assert json.loads((landing / MANIFEST_NAME).read_text(encoding="utf-8"))["seed"] == 7
    # no drop after today; monthly drops on the 3rd
    assert max(f.drop_date for f in manifest.files()) <= manifest.today
    assert all(f.drop_date.endswith("-03") for f in manifest.datasets["exports"].files)


def test_manifest_counts_add_up(small_demo):
    _, manifest = small_demo
    for d in manifest.datasets.values():
        for f in d.files:
            rejected_whole = any(b.fault in FILE_LEVEL_FAULTS for b in f.bad_rows)
            if rejected_whole:
                assert (f.expected_rows_read, f.expected_accepted, f.expected_quarantined) == (0, 0, 0), (
                    f.file
                )
                assert f.expected_status == "rejected"
                continue
            assert f.expected_rows_read == f.rows_written == f.expected_accepted + f.expected_quarantined, (
                f.file
            )
            assert f.expected_quarantined == len({b.row_number for b in f.bad_rows}), f.file
            assert all(1 <= b.row_number <= f.rows_written for b in f.bad_rows), f.file
            status = "rejected" if f.expected_accepted == 0 else "partial" if f.expected_quarantined else "ok"
            assert f.expected_status == status, f.file
        assert d.rows_written == sum(f.rows_written for f in d.files)
        assert d.expected_rows_read == d.expected_accepted + d.expected_quarantined
        assert d.expected_accepted == sum(f.expected_accepted for f in d.files)
        assert d.expected_quarantined == sum(f.expected_quarantined for f in d.files)
        assert 0 < d.expected_current_rows <= d.expected_accepted
    totals = manifest.totals()
    assert sum(t["rows_written"] for t in totals.values()) == sum(manifest.rows_written.values())


def test_each_fault_kind_is_present(small_demo):
    _, manifest = small_demo
    kinds = {b.fault for _, b in manifest.faults()}
    assert kinds == set(FAULT_KINDS)
    # a handful, out of the way of the main numbers
    assert len(manifest.faults()) <= 20
    for f, b in manifest.faults():
        if b.fault in FILE_LEVEL_FAULTS:
            assert b.row_number is None and f.expected_status == "rejected"
        else:
            assert b.row_number is not None


def test_corrections_and_snapshot_changes(small_demo):
    _, manifest = small_demo
    files = {f.file: f for f in manifest.files()}
    assert any(c.dataset == "supplier_invoices" for c in manifest.corrections)
    for c in manifest.corrections:
        assert c.old_file in files and c.new_file in files
        assert files[c.old_file].drop_date < files[c.new_file].drop_date  # a later drop replaces
        assert c.old_value != c.new_value
    # the invoice correction removes one current row; the supplier_emissions ones two
    inv = manifest.datasets["supplier_invoices"]
    assert inv.expected_current_rows == inv.expected_accepted - 1
    se = manifest.datasets["supplier_emissions"]
    assert se.expected_current_rows == se.expected_accepted - 2
    changed = {(c.dataset, c.column) for c in manifest.snapshot_changes}
    assert {("products", "product_id"), ("suppliers", "name"), ("suppliers", "country")} <= changed
    # the quarantined supplier keeps its earlier row: every supplier stays current
    assert manifest.datasets["suppliers"].expected_current_rows == 15
    assert manifest.datasets["products"].expected_current_rows == 9
