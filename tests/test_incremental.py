"""Incremental nightly (issue 10 item 3): content-addressed skips at run, engine and dbt level, and the
outputs of an incremental run equal those of a full recompute."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from orchestration.lib import incremental as inc
from orchestration.lib.home import Home
from tests.conftest import EXAMPLE_DROP
from tests.outputs import mart_digests
from transforms.paths import part_name

DROP_A, DROP_B, DROP_C, DROP_D = "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"
PART = part_name(0)  # a raw table's first part


# --- units: the decisions on small files ------------------------------------------------------------------
def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_dbt_selection_full_then_nothing_then_only_changed_sources(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    _write(home.raw_table("exports") / PART, b"one")
    _write(home.raw_table("production") / PART, b"two")
    _write(home.raw_dir("exports") / "_files.parquet", b"ledger")
    sources = [("lake", "exports"), ("lake", "production"), ("lake_quality", "files")]
    build_dir, build_file = tmp_path / "build", tmp_path / "build" / "lingtan.duckdb"

    select, why = inc.dbt_selection(build_dir, build_file, inc.sources_state(home, sources))
    assert select is None and "first build" in why  # nothing known: build everything
    _write(build_file, b"db")
    inc.save_build_state(build_dir, inc.sources_state(home, sources))
    assert inc.dbt_selection(build_dir, build_file, inc.sources_state(home, sources))[0] == []

    _write(home.raw_table("exports") / PART, b"one and a new drop")
    _write(home.raw_dir("exports") / "_files.parquet", b"ledger 2")
    select, _ = inc.dbt_selection(build_dir, build_file, inc.sources_state(home, sources))
    assert select == ["source:lake.exports+", "source:lake_quality.files+"]

    inc.forget_build_state(build_dir)  # a build that started and did not finish: the next one is full
    assert inc.dbt_selection(build_dir, build_file, inc.sources_state(home, sources))[0] is None


def test_dbt_selection_rebuilds_all_when_code_changed(tmp_path: Path, monkeypatch) -> None:
    home = Home(tmp_path / "home")
    _write(home.raw_table("exports") / PART, b"x")
    state = inc.sources_state(home, [("lake", "exports")])
    build_dir = tmp_path / "build"
    _write(build_dir / "lingtan.duckdb", b"db")
    inc.save_build_state(build_dir, state)
    monkeypatch.setattr(inc, "code_fingerprint", lambda: "another code version")
    select, why = inc.dbt_selection(build_dir, build_dir / "lingtan.duckdb", state)
    assert select is None and "code" in why


def test_not_downstream_excludes_everything_but_the_changed_sources_descendants() -> None:
    manifest = {
        "metadata": {"project_name": "p"},
        "sources": {
            "source.p.lake.exports": {"source_name": "lake", "name": "exports"},
            "source.p.lake.installations": {"source_name": "lake", "name": "installations"},
        },
        "child_map": {
            "source.p.lake.exports": ["model.p.stg_exports"],
            "model.p.stg_exports": ["model.p.fct_lines", "test.p.not_null_stg_exports"],
            "source.p.lake.installations": ["model.p.stg_installations"],
            "model.p.stg_installations": ["model.p.fct_lines"],
        },
        "nodes": {
            uid: {"name": uid.split(".")[-1], "resource_type": uid.split(".")[0], "package_name": pkg}
            for uid, pkg in [
                ("model.p.stg_exports", "p"),
                ("model.p.fct_lines", "p"),
                ("test.p.not_null_stg_exports", "p"),
                ("model.p.stg_installations", "p"),
                ("seed.p.factors", "p"),
                ("model.other.x", "other"),  # a package's node: not ours to exclude
            ]
        },
    }
    assert inc.not_downstream(manifest, ["source:lake.exports+"]) == ["factors", "stg_installations"]
    assert inc.not_downstream(manifest, ["source:lake.installations+"]) == [
        "factors",
        "not_null_stg_exports",
        "stg_exports",
    ]


def test_unknown_dbt_source_is_an_error_not_a_silent_skip(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="no lake location"):
        inc.source_files(Home(tmp_path), "elsewhere", "t")


def test_engine_stamp_follows_input_content_not_time(tmp_path: Path) -> None:
    home = Home(tmp_path)
    raw = _write(home.raw_table("exports") / PART, b"rows")
    _write(home.computed_table("goods_see"), b"out")
    stamp = inc.engine_stamp(home, [raw])
    assert inc.engine_unchanged(home, "cbam_engine", stamp, ["goods_see"]) is None  # never published
    inc.save_engine_stamp(home, "cbam_engine", stamp, {"goods_see": {"passed": True, "details": "ok"}})
    assert inc.engine_unchanged(home, "cbam_engine", stamp, ["goods_see"]) == {
        "goods_see": {"passed": True, "details": "ok"}
    }
    _write(raw, b"rows")  # rewritten with the same bytes: still unchanged
    assert inc.engine_stamp(home, [raw]) == stamp
    _write(raw, b"rows+1")
    assert inc.engine_stamp(home, [raw]) != stamp
    home.computed_table("goods_see").unlink()  # an output gone: recompute whatever the stamp
    assert inc.engine_unchanged(home, "cbam_engine", stamp, ["goods_see"]) is None


def test_engine_stamp_of_a_table_stored_as_parts_sees_every_part(tmp_path: Path) -> None:
    home = Home(tmp_path)
    table = home.raw_table("exports")
    _write(table / PART, b"rows")
    stamp = inc.engine_stamp(home, [table])
    _write(table / part_name(1), b"a night's rows")
    assert inc.engine_stamp(home, [table]) != stamp
    (table / part_name(1)).unlink()
    assert inc.engine_stamp(home, [table]) == stamp


def test_a_files_hash_is_kept_on_it_for_its_size_and_mtime(tmp_path: Path) -> None:
    """`sha256_file` keeps the hash on the file (an extended attribute, with the size and mtime it is for): a
    part kept by hard link is not read again; a file changed in place is hashed again; a file written within
    the last 2 s (its mtime tick could still be reused by another write) is hashed and not remembered."""
    import hashlib
    import os

    path = _write(tmp_path / "part-00000.parquet", b"rows")
    old = 1_700_000_000
    os.utime(path, (old, old))
    want = hashlib.sha256(b"rows").hexdigest()
    assert inc.sha256_file(path) == want
    try:
        kept = os.getxattr(path, inc.HASH_XATTR)
    except OSError:
        pytest.skip("this file system keeps no user attributes: every file is hashed each time")
    assert kept == f"4:{old * 10**9}:{want}".encode()
    os.link(path, tmp_path / "linked.parquet")  # the same inode: the same attribute
    assert os.getxattr(tmp_path / "linked.parquet", inc.HASH_XATTR) == kept
    os.setxattr(path, inc.HASH_XATTR, f"4:{old * 10**9}:{'0' * 64}".encode())  # it is what is read back
    assert inc.sha256_file(tmp_path / "linked.parquet") == "0" * 64
    path.write_bytes(b"ROWS")  # changed in place, same size, mtime now: hashed again, not remembered
    assert inc.sha256_file(path) == hashlib.sha256(b"ROWS").hexdigest()
    assert os.getxattr(path, inc.HASH_XATTR) == f"4:{old * 10**9}:{'0' * 64}".encode()
    os.utime(path, (old + 1, old + 1))  # the same bytes, another mtime: hashed again and remembered
    assert inc.sha256_file(path) == hashlib.sha256(b"ROWS").hexdigest()
    assert os.getxattr(path, inc.HASH_XATTR).endswith(hashlib.sha256(b"ROWS").hexdigest().encode())


def test_run_fingerprint_sees_locks_settings_and_lake(tmp_path: Path) -> None:
    home = Home(tmp_path)
    _write(home.raw_table("exports") / PART, b"rows")
    today = date(2026, 12, 1)
    base = inc.run_fingerprint(home, today, {"price": None})
    assert inc.run_fingerprint(home, today, {"price": None}) == base
    assert inc.run_fingerprint(home, today, {"price": 80.0}) != base
    from orchestration.lib.locks import STATE, locks_dir

    _write(locks_dir(home) / STATE, b'{"locks": {}}')  # a lock or an unlock must republish
    assert inc.run_fingerprint(home, today, {"price": None})["locks"] != base["locks"]
    _write(home.raw_table("exports") / PART, b"rows, new")
    assert inc.run_fingerprint(home, today, {"price": None})["raw"] != base["raw"]


def test_unchanged_since_needs_no_pending_drop_and_same_fingerprint(tmp_path: Path) -> None:
    home = Home(tmp_path)
    fp = {"code": "c", "raw": "r"}
    home.runs.mkdir(parents=True)
    (home.runs / "20261201T000000Z-aaaaaaaa.json").write_text(
        json.dumps({"run_id": "a" * 8, "success": True, "fingerprint": fp})
    )
    (home.runs / "20261202T000000Z-bbbbbbbb.json").write_text(
        json.dumps({"run_id": "b" * 8, "success": False, "fingerprint": {}})
    )
    assert inc.unchanged_since(home, fp, [])["run_id"] == "a" * 8  # the last *successful* run
    assert inc.unchanged_since(home, fp, [date(2026, 12, 2)]) is None
    assert inc.unchanged_since(home, {**fp, "raw": "other"}, []) is None


def test_visible_factors_moves_only_on_publication_dates() -> None:
    assert inc.visible_factors(date(2026, 12, 1)) == inc.visible_factors(date(2026, 12, 2))
    assert inc.visible_factors(date(2000, 1, 1)) < inc.visible_factors(date(2026, 12, 1))


# --- end to end: incremental == full recompute; no change recomputes nothing ---------------------------------
def _export_line(export_id: str, quantity: float) -> dict:
    """One more export line of the cement example's good (its first line with another id and quantity)."""
    from tools.refbuild.examples.fixtures import load_fixture
    from tools.refbuild.examples.landing import fixture_to_landing_rows

    return {
        **fixture_to_landing_rows(load_fixture("cement"))["exports"][0],
        "export_id": export_id,
        "quantity": quantity,
    }


def _landing(root: Path, example: Path) -> Path:
    """Drop A: the cement example's landing zone as the shared session build wrote it (tests/conftest.py), copied
    with its files' times (the change tokens the copied home's ledger knows); drop B: one more export line of the
    same good (an event dataset: A then B == A+B at once)."""
    from tests.pipeline.test_examples_through_pipeline import write_landing
    from tools.refbuild.examples.fixtures import load_fixture
    from tools.refbuild.examples.landing import fixture_to_landing_rows

    rows = fixture_to_landing_rows(load_fixture("cement"))
    write_landing(rows, root / "expected", DROP_A)
    assert _tree(example) == _tree(root / "expected"), (
        "the example's landing zone is the cement rows on drop A"
    )
    landing = root / "landing"
    shutil.copytree(example, landing)  # copy2: bytes and modification times
    extra = _export_line("EX-CEMENT-EXP2", 250.0)
    # the line's two legs, the first shipments of the lake: the footprint engines' logistics carry (empty after
    # drop A) computes only the shipment drop B touches
    legs = [
        {"shipment_id": "SH-EXP2", "leg_no": n, "ship_date": "2024-01-20", "direction": "outbound", "mode": mode,
         "origin": origin, "destination": destination, "distance_km": km, "mass_t": 250.0,
         "product_id": "EX-CEMENT-PR1", "export_id": "EX-CEMENT-EXP2"}
        for n, mode, origin, destination, km in ((1, "road", "plant", "port", 85.0),
                                                  (2, "sea", "port", "Hamburg", 19_800.0))
    ]  # fmt: skip
    write_landing({"exports": [extra], "shipments": legs}, landing, DROP_B)
    return landing


def _tree(landing: Path) -> dict[str, bytes]:
    """Relative path → bytes of every landing file."""
    return {p.relative_to(landing).as_posix(): p.read_bytes() for p in landing.rglob("*") if p.is_file()}


def _dbt_total(log: str) -> int:
    """dbt's own count of the nodes a build ran ("Done. PASS=… TOTAL=n")."""
    import re

    found = re.findall(r"Done\. PASS=.*TOTAL=(\d+)", log)
    assert found, "no dbt summary in the run log"
    return int(found[-1])


def _run(landing: Path, home: Path, up_to: str):
    from orchestration.pipeline import run_nightly

    out = run_nightly(str(landing), str(home), date.fromisoformat(up_to), echo=lambda *_: None, record=False)
    assert out.success, out.failed_checks + out.failed_steps
    return out


def test_incremental_equals_full_and_no_change_recomputes_nothing(example_run, tmp_path: Path) -> None:
    assert EXAMPLE_DROP == DROP_A
    example_landing, example_home = example_run("cement")
    landing = _landing(tmp_path, example_landing)
    full = _run(landing, tmp_path / "full", DROP_B)

    # Drop A alone through the nightly: the cement example's shared session home (`lingtan run` of the same
    # landing files, tests/conftest.py), copied with its warehouse but without its Dagster instance; then drop B
    # on the copy. The copy's staging views still name the shared home's lake (absolute paths): the dbt step
    # makes them again over the copy's files first (orchestration/lib/incremental.py home_moved), then builds
    # only what B changes.
    home = tmp_path / "incr"
    shutil.copytree(example_home.root, home, symlinks=True, ignore=shutil.ignore_patterns("dagster"))
    incr = _run(landing, home, DROP_B)
    assert incr.ingest.get("exports", {}).get("rows_read") == 1
    digest = mart_digests(Home(home).warehouse)
    assert len(digest) > 10 and digest == mart_digests(full.home.warehouse)
    log = incr.log.read_text(encoding="utf-8") if incr.log else ""
    assert "changed source(s)" in log and "lake.exports" in log and "lake.installations" not in log
    assert "staging views made again" in log  # the copy's views now read the copy's lake
    assert "--exclude" in log  # dbt built only what is downstream of the changed tables
    assert "logistics: 1 new drop(s): 1 shipment(s) computed again, the others carried" in log
    built, everything = _dbt_total(log), _dbt_total(full.log.read_text(encoding="utf-8"))
    assert 0 < built < everything / 2, (built, everything)

    computed = {p: p.stat().st_mtime_ns for p in Path(home, "lake", "computed").glob("*.parquet")}
    warehouse = Home(home).warehouse.read_bytes()
    same = _run(landing, home, DROP_B)
    assert same.no_change == incr.run_id
    assert all(k.startswith("raw/") for k in same.materialized)  # only the ingest assets ran
    assert {p: p.stat().st_mtime_ns for p in computed} == computed
    assert Home(home).warehouse.read_bytes() == warehouse
    record = json.loads(same.run_record.read_text(encoding="utf-8"))
    assert record["no_change_since"] == incr.run_id and record["success"]

    # Two more nights, one export line each. Drop B's publish copied (no earlier warehouse kept in this home);
    # drop C's build file is its own, published by a link (orchestration/lib/warehouse.py), and drop B's copy
    # kept. Readers may hold drop C's file, so drop D builds into drop B's (separate_build), which dbt brings up
    # to date from that build's own state (C and D changed since). The full home takes C and D in one run.
    from tests.pipeline.test_examples_through_pipeline import write_landing

    for n, drop in enumerate((DROP_C, DROP_D), start=3):
        write_landing({"exports": [_export_line(f"EX-CEMENT-EXP{n}", 10.0 * n)]}, landing, drop)
    b_night = Home(home).warehouse.stat().st_ino
    night_c = _run(landing, home, DROP_C)
    assert "dbt build: building into" not in night_c.log.read_text(encoding="utf-8")
    night_d = _run(landing, home, DROP_D)
    log = night_d.log.read_text(encoding="utf-8")
    assert "building into the warehouse published before it" in log and "lake.exports" in log
    assert Home(home).warehouse.stat().st_ino == b_night  # drop B's file, brought up to date
    full_d = _run(landing, full.home.root, DROP_D)
    assert mart_digests(Home(home).warehouse) == mart_digests(full_d.home.warehouse)
    assert mart_digests(Home(home).warehouse) != digest  # the two lines are in the marts
