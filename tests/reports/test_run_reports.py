"""The report stage inside the real nightly job (Dagster, dbt, marts): what the demo run publishes, and on a
copy of it, two later drops — a supplier communication with an SEE a thousand times the default (a kg/t value
typed as t/t) blocks the affected reports, exits with a blocked gate and leaves earlier versions untouched;
the supplier's correction then publishes v2 with a diff naming the file that moved the numbers."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.lib.home import Home
from orchestration.lib.reports import versions
from orchestration.pipeline import run_nightly

pytestmark = pytest.mark.slow
KINDS = ("operator_communication", "declaration_pack", "summary")
HEADER = (
    "supplier_installation_id,cn_code,material_id,period_start,period_end,see_direct,see_indirect,"
    "embedded_electricity_mwh_per_t,electricity_ef_tco2_per_mwh,electricity_ef_source,数据来源,verified,"
    "pcf_kgco2e_per_unit,pcf_unit,文件编号\n"
)


def scs_drop(landing: Path, drop: str, see_direct: str) -> str:
    """A revised 2026 communication of the Vietnamese wire-rod supplier (same business keys: a correction)."""
    rel = f"supplier_emissions/{drop}/scs_communication_2026_rev.csv"
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        HEADER
        + f"VN-HP-SCS-01,7213 91 49,,2026-01-01,2026-12-31,{see_direct},0.2904,0.48,0.605,D.4(a),actual,false,,,SCS/CBAM/2026/02\n"
        + "VN-HP-SCS-01,7213 91 70,,2026-01-01,2026-12-31,2.24,0.2964,0.49,0.605,D.4(a),actual,false,,,SCS/CBAM/2026/02\n",
        encoding="utf-8",
    )
    return rel


def test_demo_run_publishes_every_kind_with_its_manifest(demo_home: Home):
    found = versions(demo_home)
    kinds = {v.kind for v in found}
    assert set(KINDS) <= kinds and "run_manifest" in kinds
    comm = [v for v in found if v.kind == "operator_communication"]
    assert {v.key for v in comm} >= {"CN-ZJ-001_2026", "CN-GD-002_2026"}
    for v in found:
        assert v.version == 1 and (v.path / "report.json").exists()
        manifest = demo_home.reports / v.meta["manifest"]
        assert manifest.exists(), v.id
        for name, sha in v.meta["files"].items():
            assert hashlib.sha256((v.path / name).read_bytes()).hexdigest() == sha, f"{v.id}/{name}"
    listed = CliRunner().invoke(app, ["reports", "list", "--home", str(demo_home.root)])
    assert listed.exit_code == 0 and "operator_communication/CN-ZJ-001_2026/v1" in listed.output


def test_blocked_then_corrected_supplier_communication(demo_home: Home, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(demo_home.root.parent / "landing", root / "landing", symlinks=True)
    shutil.copytree(demo_home.root, root / "home", symlinks=True, ignore=shutil.ignore_patterns("dagster"))
    home = Home(root / "home")
    before = {p: p.read_bytes() for p in home.reports.rglob("*") if p.is_file()}

    scs_drop(root / "landing", "2026-11-20", "2210")  # kg/t typed as t/t
    lines: list[str] = []
    # record=False: the test reads outputs only (no sqlite write per Dagster event)
    out = run_nightly(
        str(root / "landing"), str(home.root), date(2026, 11, 24), echo=lines.append, record=False
    )
    assert not out.success
    blocked = [c for c in out.failed_checks if "report_gate" in c]
    assert blocked, out.failed_checks + out.failed_steps
    assert any("SCS" in c or "SUP-WR-03" in c for c in blocked), blocked
    console = "\n".join(lines)
    assert "report gate: supplier SUP-WR-03" in console and "fct_precursor_inputs" in console
    # earlier versions untouched, the affected installation's 2026 report not republished, the warehouse shows why
    assert {p: p.read_bytes() for p in before} == before
    assert [v.version for v in versions(home, "operator_communication", "CN-ZJ-001_2026")] == [1]
    assert home.warehouse.exists()

    rel = scs_drop(root / "landing", "2026-11-21", "2.25")  # the supplier's correction
    out = run_nightly(
        str(root / "landing"), str(home.root), date(2026, 11, 24), echo=lambda *_: None, record=False
    )
    assert out.success, out.failed_checks + out.failed_steps
    v2 = versions(home, "operator_communication", "CN-ZJ-001_2026")[-1]
    assert v2.version == 2
    diff = json.loads((v2.path / "diff.json").read_text())
    assert diff["figures"]["changed"], "the precursor SEE changed the installation's numbers"
    assert rel in diff["causes"]["input_files_added"]
    assert "v1 → v2" in (v2.path / "diff.md").read_text()
    assert [v.version for v in versions(home, "operator_communication", "CN-GD-002_2026")] == [1]  # unrelated
    for p, data in before.items():
        assert p.read_bytes() == data  # v1 files immutable
