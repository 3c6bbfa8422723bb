"""Period locks and restatements: the pure comparison (transforms/restatement.py), lock/unlock/apply on a small
hand-made warehouse (orchestration/lib/locks.py), the `lingtan period` commands, and one end-to-end pass over
the shared demo home (lock, correcting drop, run, unlock, run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli_period import period_app
from orchestration.lib import locks, restatements
from orchestration.lib.home import Home
from transforms.restatement import (
    diff_rows,
    in_locked_period,
    lineage_files,
    mart_summary,
    period_column,
    restatement_causes,
)

# --- pure --------------------------------------------------------------------------------------------------


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    old = pl.DataFrame(
        {
            "installation_id": ["A", "A", "A", "A"],
            "period": ["2025", "2025-01", "2025-02", "2025-03"],
            "stream": [None, "s1", "s1", "s1"],
            "tco2e": [100.0, 0.1 + 0.2, 5.0, float("nan")],
            "n": [1, 2, 3, 4],
            "label": ["x", "y", "z", "w"],
            "source_row_ids": [["bills/2025-02-03/a.csv#1"], ["bills/2025-02-03/a.csv#2"], [], None],
        }
    )
    new = pl.DataFrame(
        {
            "installation_id": ["A", "A", "A", "A"],
            "period": ["2025", "2025-01", "2025-03", "2025-04"],
            "stream": [None, "s1", "s1", "s1"],
            "tco2e": [104.0, 0.30000000000000004, float("nan"), 7.0],
            "n": [1, 2, 4, 5],
            "label": ["x", "Y", "w", "v"],
            "source_row_ids": [
                ["bills/2025-02-03/a.csv#1", "bills/2026-11-20/fix.csv#1"],
                ["bills/2025-02-03/a.csv#2"],
                None,
                [],
            ],
        }
    )
    return old, new


def test_diff_rows_names_every_changed_value_with_absolute_and_relative_delta() -> None:
    old, new = _frames()
    d = diff_rows("fct_x", old, new, ["installation_id", "period", "stream"])
    changed = d.filter(pl.col("change") == "changed")
    # a null key part (stream) pairs with null; NaN = NaN and 0.1+0.2 equal to its own bits are no change
    assert set(changed["column"]) == {"tco2e", "label", "source_row_ids"}
    t = changed.filter(pl.col("column") == "tco2e").row(0, named=True)
    assert t["key"] == "installation_id=A, period=2025, stream=null"
    assert (t["old"], t["new"], t["delta"], t["relative_delta"]) == ("100.0", "104.0", 4.0, 0.04)
    lab = changed.filter(pl.col("column") == "label").row(0, named=True)
    assert (lab["old"], lab["new"], lab["delta"]) == ("y", "Y", None)
    ids = changed.filter(pl.col("column") == "source_row_ids").row(0, named=True)
    assert (ids["old"], ids["new"]) == ("[]", "[bills/2026-11-20/fix.csv#1]")  # what left, what came
    # 2025-02 disappears (its numbers listed as removed), 2025-04 appears
    removed = d.filter(pl.col("change") == "removed")
    assert set(removed["key"]) == {"installation_id=A, period=2025-02, stream=s1"}
    assert sorted(removed["column"]) == ["n", "tco2e"]
    assert removed.filter(pl.col("column") == "tco2e")["delta"].item() == -5.0
    added = d.filter(pl.col("change") == "added")
    assert set(added["key"]) == {"installation_id=A, period=2025-04, stream=s1"}
    assert added.filter(pl.col("column") == "tco2e")["new"].item() == "7.0"
    s = mart_summary(old, new, d)
    assert (s["rows_changed"], s["rows_added"], s["rows_removed"]) == (2, 1, 1)
    assert s["values_changed"] == 3 and s["max_abs_delta"] == 4.0


def test_diff_rows_identical_frames_and_full_precision_text() -> None:
    old, _ = _frames()
    assert diff_rows("fct_x", old, old.clone(), ["installation_id", "period", "stream"]).is_empty()
    a = pl.DataFrame({"installation_id": ["A"], "period": ["2025"], "v": [0.1 + 0.2]})
    b = a.with_columns(v=pl.lit(0.3))
    row = diff_rows("m", a, b, ["installation_id", "period"]).row(0, named=True)
    assert (row["old"], row["new"]) == ("0.30000000000000004", "0.3")  # every digit, not rounded
    assert row["delta"] == pytest.approx(-5.551115123125783e-17, rel=1e-12)


def test_diff_rows_without_declared_key_pairs_duplicates_one_to_one() -> None:
    a = pl.DataFrame({"installation_id": ["A", "A"], "period": ["2025", "2025"], "v": [1.0, 2.0]})
    b = pl.DataFrame({"installation_id": ["A", "A", "A"], "period": ["2025"] * 3, "v": [1.0, 2.0, 3.0]})
    d = diff_rows("m", a, b, ["no_such_column"])
    assert d["change"].to_list() == ["added"] and d["new"].to_list() == ["3.0"]


def test_ignored_and_one_sided_columns_are_not_compared() -> None:
    a = pl.DataFrame({"installation_id": ["A"], "period": ["2025"], "v": [1.0], "gone": [1]})
    b = pl.DataFrame({"installation_id": ["A"], "period": ["2025"], "v": [1.0], "built": [2]})
    d = diff_rows("m", a, b, ["installation_id", "period"], ignore={"v"})
    assert d.is_empty()
    s = mart_summary(a, b, d)
    assert (s["columns_only_locked"], s["columns_only_built"]) == (["gone"], ["built"])


def test_a_column_whose_type_changed_is_compared_as_text() -> None:
    a = pl.DataFrame({"installation_id": ["A"], "period": ["2025"], "v": [1.0]})
    b = pl.DataFrame({"installation_id": ["A"], "period": ["2025"], "v": ["1.0 t"]})
    row = diff_rows("m", a, b, ["installation_id", "period"]).row(0, named=True)
    assert (row["column"], row["old"], row["new"], row["delta"]) == ("v", "1.0", "1.0 t", None)


def test_period_scope_and_lineage_and_causes() -> None:
    assert period_column(["installation_id", "period", "year"]) == "period"
    assert period_column(["installation_id", "production_period"]) == "production_period"
    assert period_column(["installation_id", "year"]) == "year"
    assert period_column(["period"]) is None and period_column(["installation_id"]) is None
    df = pl.DataFrame(
        {"installation_id": ["A", "A", "B", "A"], "period": ["2025", "2025-07", "2025", "2026"]}
    )
    assert df.filter(in_locked_period("period", "A", 2025)).height == 2
    old, new = _frames()
    files = lineage_files([old, new])
    assert files == {"bills/2025-02-03/a.csv", "bills/2026-11-20/fix.csv"}
    causes = restatement_causes(
        {
            "input_files": {"bills/2025-02-03/a.csv": "h1"},
            "reference_seeds": {"f.csv": "1"},
            "code_version": "c",
        },
        {
            "input_files": {
                "bills/2025-02-03/a.csv": "h1",
                "bills/2026-11-20/fix.csv": "h2",
                "other/x.csv": "h",
            },
            "reference_seeds": {"f.csv": "2"},
            "code_version": "c",
        },
        files,
    )
    assert causes["input_files_added"] == ["bills/2026-11-20/fix.csv"]  # other/x.csv feeds no locked row
    assert causes["reference_tables_changed"] == ["f.csv"] and causes["code_version"] is None


# --- lock / apply on a small warehouse ---------------------------------------------------------------------


def _warehouse(path: Path, scale: float = 1.0, extra_row: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_goods_see (installation_id varchar not null, product_id varchar, "
        "period varchar not null, period_grain varchar, see_direct double, source_row_ids varchar[])"
    )
    rows = [
        ("A", "p1", "2025", "year", 2.0 * scale, ["bills/2025-02-03/a.csv#1"]),
        ("A", "p1", "2025-01", "month", 1.0 * scale, ["bills/2025-02-03/a.csv#1"]),
        ("A", "p1", "2026", "year", 3.0 * scale, []),
        ("B", "p2", "2025", "year", 5.0 * scale, []),
    ] + ([("A", "p9", "2025", "year", 9.0, [])] if extra_row else [])
    con.executemany("insert into marts.fct_goods_see values (?, ?, ?, ?, ?, ?)", rows)
    con.execute("create table marts.fct_data_quality (file varchar, sha256 varchar)")  # no installation
    con.execute("create table marts.dim_installation (installation_id varchar)")
    con.close()


def _see(db: Path) -> dict[tuple[str, str, str], float]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            (i, p, per): v
            for i, p, per, v in con.execute(
                "select installation_id, product_id, period, see_direct from marts.fct_goods_see"
            ).fetchall()
        }
    finally:
        con.close()


@pytest.fixture
def small_home(tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    _warehouse(home.warehouse)
    return home


def test_lock_apply_restate_unlock(small_home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    home = small_home
    monkeypatch.setattr(locks, "current_inputs", lambda h: {"input_files": {}, "reference_seeds": {}})
    monkeypatch.setattr(
        locks, "_published_inputs", lambda h: {"source": "test", "input_files": {}, "reference_seeds": {}}
    )
    [rec] = locks.lock(home, "A", 2025, "alice", "verified")
    assert rec["rows"] == 2 and (home.root / rec["snapshot"] / "fct_goods_see.parquet").exists()
    assert not (home.root / rec["snapshot"] / "fct_data_quality.parquet").exists()  # not period-scoped
    with pytest.raises(locks.LockError, match="already locked"):
        locks.lock(home, "A", 2025, "bob")
    with pytest.raises(locks.LockError, match="'Z' has no rows for 2025.*A, B"):
        locks.lock(home, "Z", 2025, "bob")

    # A new build doubles every number and adds a product to A 2025.
    build = home.warehouse_dir / "build" / "lingtan.duckdb"
    _warehouse(build, scale=2.0, extra_row=True)
    published, done = restatements.apply_locks(home, build, "run-1")
    assert published != build and _see(build)[("A", "p1", "2025")] == 4.0  # the build itself is untouched
    see = _see(published)
    assert see[("A", "p1", "2025")] == 2.0 and see[("A", "p1", "2025-01")] == 1.0  # locked rows kept
    assert ("A", "p9", "2025") not in see  # a row the lock did not have is not published
    assert see[("A", "p1", "2026")] == 6.0 and see[("B", "p2", "2025")] == 10.0  # the rest moves on
    [r] = done
    assert r.values_changed == 3 and r.new_report and r.report is not None
    report = json.loads(r.report.read_text(encoding="utf-8"))
    assert report["marts"]["fct_goods_see"]["rows_added"] == 1
    assert report["lock"]["locked_by"] == "alice"
    csv = pl.read_csv(r.report.with_suffix(".csv"))
    assert csv.filter(pl.col("change") == "changed")["delta"].sort().to_list() == [1.0, 2.0]
    assert restatements.publish_lines(home, "run-1")[0].startswith(
        "locked:     A 2025 kept; this run would change 3"
    )
    published.unlink()

    # The same difference again: no second restatement, the line points at the first.
    published2, [again] = restatements.apply_locks(home, build, "run-2")
    assert not again.new_report and again.report == r.report
    published2.unlink()

    with pytest.raises(locks.LockError, match="reason"):
        locks.unlock(home, "A", 2025, "bob", "")
    [ev] = locks.unlock(home, "A", 2025, "bob", "supplier correction accepted")
    assert (home.root / ev["snapshot_archived"] / "fct_goods_see.parquet").exists()
    assert [e["action"] for e in locks.history(home)] == ["lock", "unlock"]
    assert restatements.apply_locks(home, build, "run-3") == (
        build,
        [],
    )  # nothing locked: the build is published


def test_altered_snapshot_is_refused(small_home: Home) -> None:
    [rec] = locks.lock(small_home, "A", 2025, "alice", "verified")
    snap = small_home.root / rec["snapshot"] / "fct_goods_see.parquet"
    pl.read_parquet(snap).with_columns(see_direct=pl.lit(0.0)).write_parquet(snap)
    build = small_home.warehouse_dir / "build" / "lingtan.duckdb"
    _warehouse(build)
    with pytest.raises(locks.LockError, match="altered since the lock"):
        restatements.apply_locks(small_home, build, "run-x")
    assert not list(build.parent.glob(".locked-*"))  # no stray copy left


def test_lock_inputs_come_from_the_run_record_that_published_the_warehouse(
    small_home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    from datetime import UTC, datetime, timedelta

    home = small_home
    monkeypatch.setattr(locks, "current_inputs", lambda h: {"input_files": {"live": "1"}})
    home.runs.mkdir(parents=True)
    after = datetime.now(UTC) + timedelta(seconds=5)
    record = {
        "run_id": "r1",
        "finished_at": after.isoformat(),
        "materialized": ["warehouse/lingtan_duckdb"],
        "input_files": [{"file": "bills/d/a.csv", "sha256": "h"}],
        "reference_seeds": {"f.csv": "1"},
        "code_version": "c1",
    }
    (home.runs / "20260101T000000Z-r1.json").write_text(json.dumps(record))
    got = locks._published_inputs(home)
    assert got["run_id"] == "r1" and got["input_files"] == {"bills/d/a.csv": "h"}
    later = after.timestamp() + 60  # published again by a run that wrote no record (the Dagster UI)
    os.utime(home.warehouse, (later, later))
    assert locks._published_inputs(home)["input_files"] == {"live": "1"}


def test_covered_reports() -> None:
    locked = {("A", 2025), ("B", 2025)}
    assert locks.covered(locked, {"A"}, "2025") and locks.covered(locked, {"A", "B"}, 2025)
    assert not locks.covered(locked, {"A", "C"}, 2025) and not locks.covered(locked, {"A"}, 2026)
    assert not locks.covered(locked, set(), 2025) and not locks.covered(locked, {"A"}, None)


def test_mart_keys_come_from_the_dbt_yaml() -> None:
    keys = locks.mart_keys()
    assert keys["fct_goods_see"] == ["installation_id", "product_id", "period", "period_grain"]
    assert keys["fct_cbam_export_lines"] == ["export_id", "line_no"]


def test_period_commands(small_home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    home = str(small_home.root)
    monkeypatch.setenv("LINGTAN_USER", "carol")
    out = runner.invoke(period_app, ["lock", "all", "2025", "--home", home, "--reason", "signed off"])
    assert out.exit_code == 0, out.output
    assert "locked A 2025" in out.output and "locked B 2025" in out.output and "by carol" in out.output
    listed = runner.invoke(period_app, ["list", "--home", home]).output
    assert "A" in listed and "signed off" in listed and "carol" in listed
    out = runner.invoke(period_app, ["unlock", "B", "2025", "--home", home, "--by", "dave"])
    assert out.exit_code != 0  # no reason
    out = runner.invoke(
        period_app, ["unlock", "B", "2025", "--home", home, "--by", "dave", "--reason", "fix"]
    )
    assert out.exit_code == 0 and "unlocked B 2025 (by dave: fix)" in out.output
    hist = runner.invoke(period_app, ["list", "--home", home, "--history"]).output
    assert [line.split()[1] for line in hist.splitlines()] == ["lock", "lock", "unlock"]
    out = runner.invoke(period_app, ["lock", "A", "1800", "--home", home])
    assert out.exit_code != 0
    from datetime import date

    out = runner.invoke(period_app, ["lock", "A", "2026", "--home", home])
    assert out.exit_code == 0 and "locked A 2026" in out.output
    assert ("2026 is not over" in out.output) == (date.today().year <= 2026)


def test_bad_period_arguments_give_one_actionable_line(small_home: Home, tmp_path: Path) -> None:
    from orchestration.cli import app

    home = str(small_home.root)
    cases = [
        ["period", "lock"],
        ["period", "lock", "A", "twenty"],
        ["period", "lock", "A", "1800", "--home", home],
        ["period", "lock", "A", "2025", "--home", str(tmp_path / "nowhere")],
        ["period", "unlock", "A", "2025", "--home", home, "--reason", "x"],
        ["period", "unlock", "A", "2025", "--home", home],
        ["period", "list", "--home", "s3://bucket/prefix"],
    ]
    for args in cases:
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 1, (args, out.output)
        lines = [ln for ln in out.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, out.output)
        assert "Traceback" not in out.output, (args, out.output)


# --- end to end: the nightly job on a copy of the shared demo home -----------------------------------------

BILLS_HEADER = (
    "bill_id\tinstallation_id\tmeter_id\tcarrier\tperiod_start\tperiod_end\tquantity\tunit\tprocess_id\t"
    "supply_type\tef_tco2_per_mwh\tef_source\tgec_mwh\tamount\tcurrency\n"
)


def _correction(landing: Path) -> str:
    """A later drop re-issuing two January 2025 bills (same bill ids: corrections), one per installation."""
    rel = "energy_bills/2026-11-20/corrections_2025-01.csv"
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        BILLS_HEADER
        + "GD-NG-202501\tCN-GD-002\tGD-M-NG-01\tnatural_gas\t2025-01-01\t2025-01-31\t31555.5\tm3\tP1\t\t\t\t\t\tCNY\n"
        + "ZJ-EL-P1-202501\tCN-ZJ-001\tZJ-M-EL-01\telectricity\t2025-01-01\t2025-01-31\t95182\tkWh\tP1\tgrid"
        + "\t\t\t\t\tCNY\n",
        encoding="utf-8",
    )
    return rel


def _period_rows(home: Home, mart: str, installation: str, year: int) -> pl.DataFrame:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        df = con.execute(
            f"select * from marts.{mart} where installation_id = ? and left(period, 4) = ?",
            [installation, str(year)],
        ).pl()
    finally:
        con.close()
    return df.sort(df.columns[:4])


@pytest.mark.slow
def test_locked_period_survives_a_correction_then_unlock_republishes(demo_home: Home, tmp_path: Path) -> None:
    from datetime import date

    from orchestration.lib.reports import versions
    from orchestration.pipeline import run_nightly

    root = tmp_path / "copy"
    shutil.copytree(demo_home.root.parent / "landing", root / "landing", symlinks=True)
    shutil.copytree(demo_home.root, root / "home", symlinks=True, ignore=shutil.ignore_patterns("dagster"))
    home, landing, day = Home(root / "home"), root / "landing", date(2026, 11, 24)
    marts = ("fct_installation_emissions", "fct_goods_see", "fct_process_see")
    before = {(m, i): _period_rows(home, m, i, 2025) for m in marts for i in ("CN-ZJ-001", "CN-GD-002")}
    comm = {i: versions(home, "operator_communication", f"{i}_2025") for i in ("CN-ZJ-001", "CN-GD-002")}
    assert [v.version for v in comm["CN-ZJ-001"]] == [1] and [v.version for v in comm["CN-GD-002"]] == [1]
    locked_report = {p: p.read_bytes() for p in comm["CN-ZJ-001"][0].path.rglob("*") if p.is_file()}

    [rec] = locks.lock(home, "CN-ZJ-001", 2025, "alice", "verified, sent to customers")
    assert rec["rows"] > 0
    rel = _correction(landing)
    out = run_nightly(str(landing), str(home.root), day, echo=lambda *_: None, record=False)
    assert out.success, out.failed_checks + out.failed_steps

    # The locked period's marts and report are exactly as locked; the other installation moved on.
    for m in marts:
        assert_same = _period_rows(home, m, "CN-ZJ-001", 2025)
        assert assert_same.equals(before[(m, "CN-ZJ-001")], null_equal=True), m
    assert not _period_rows(home, "fct_installation_emissions", "CN-GD-002", 2025).equals(
        before[("fct_installation_emissions", "CN-GD-002")]
    )
    assert [v.version for v in versions(home, "operator_communication", "CN-ZJ-001_2025")] == [1]
    assert {p: p.read_bytes() for p in locked_report} == locked_report
    assert [v.version for v in versions(home, "operator_communication", "CN-GD-002_2025")] == [1, 2]

    # The restatement says what would change and why.
    [line] = restatements.publish_lines(home, out.run_id)
    assert line.startswith("locked:     CN-ZJ-001 2025 kept; this run would change")
    report_path = restatements.restatements_dir(home) / "CN-ZJ-001-2025" / f"{out.run_id}.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["causes"]["input_files_added"] == [rel]
    assert report["marts"]["fct_installation_emissions"]["rows_changed"] >= 1
    changes = pl.read_csv(report_path.with_suffix(".csv"), infer_schema_length=0)
    indirect = changes.filter(
        (pl.col("mart") == "fct_installation_emissions")
        & (pl.col("key").str.contains("period=2025,"))
        & (pl.col("column") == "indirect_tco2e")
    )
    assert indirect.height == 1
    old_value, new_value = float(indirect["old"].item()), float(indirect["new"].item())
    locked_year = before[("fct_installation_emissions", "CN-ZJ-001")].filter(pl.col("period") == "2025")
    assert locked_year["indirect_tco2e"].item() == old_value and new_value != old_value

    # Unlock: the next run publishes the new numbers and the report's next version with its diff.
    locks.unlock(home, "CN-ZJ-001", 2025, "bob", "correction accepted by the verifier")
    out = run_nightly(str(landing), str(home.root), day, echo=lambda *_: None, record=False)
    assert out.success, out.failed_checks + out.failed_steps
    now = _period_rows(home, "fct_installation_emissions", "CN-ZJ-001", 2025).filter(
        pl.col("period") == "2025"
    )
    assert now["indirect_tco2e"].item() == new_value  # exactly what the restatement announced
    v2 = versions(home, "operator_communication", "CN-ZJ-001_2025")[-1]
    assert v2.version == 2
    diff = json.loads((v2.path / "diff.json").read_text(encoding="utf-8"))
    assert diff["figures"]["changed"] and rel in diff["causes"]["input_files_added"]
    assert restatements.publish_lines(home, out.run_id) == []
