"""Write-audit-publish of reports (orchestration/lib/reports.py) with a minimal report kind over a tiny
warehouse: immutable versions, nothing new when nothing changed, v<N+1> with a diff naming the input that
moved a number, the report gate blocking only the affected installation, and no partial version ever visible."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from orchestration.lib.home import Home
from orchestration.lib.reports import find_version, run_report_stage, versions
from transforms.reports.base import ReportConfig, ReportDoc, safe_key, source_files

CONFIG = ReportConfig(date(2026, 11, 24))
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@dataclass
class TinyKind:
    """One JSON file per installation × year with its chargeable emissions: enough to exercise publication."""

    name: str = "tiny"
    writer_version: str = "tiny/1"
    marts: tuple[str, ...] = ("fct_cbam_export_lines",)
    explode_on: str | None = None

    def build(self, marts, config):
        lines = marts["fct_cbam_export_lines"]
        out = []
        for (inst, year), g in lines.group_by(
            "installation_id", pl.col("production_period").str.slice(0, 4).alias("year"), maintain_order=True
        ):
            total = g["embedded_chargeable_tco2e"].sum()
            out.append(
                ReportDoc(
                    kind=self.name,
                    key=safe_key(inst, year),
                    title=f"{inst} {year}",
                    model={"total": total},
                    figures={f"{inst}/chargeable_tco2e": total, f"{inst}/lines": g.height},
                    sources=source_files(g["source_row_id"]),
                    installations=frozenset({inst}),
                    meta={"year": year},
                )
            )
        return out

    def write(self, doc, out_dir: Path) -> list[Path]:
        if doc.key.startswith(self.explode_on or "\0"):
            raise RuntimeError("writer broke")
        p = out_dir / "tiny.json"
        p.write_text(json.dumps(doc.figures, sort_keys=True))
        return [p]

    def check(self, doc, out_dir: Path, marts) -> list[str]:
        back = json.loads((out_dir / "tiny.json").read_text())
        return [] if back == doc.figures else ["re-read differs"]


EXPORT_COLS = {
    "export_id": pl.String,
    "line_no": pl.Int64,
    "declaration_date": pl.Date,
    "installation_id": pl.String,
    "product_id": pl.String,
    "cn_code": pl.String,
    "production_period": pl.String,
    "see_direct": pl.Float64,
    "embedded_chargeable_tco2e": pl.Float64,
    "default_value_reason": pl.String,
    "net_mass_note": pl.String,
    "source_row_id": pl.String,
}
PREC_COLS = {
    "installation_id": pl.String,
    "period": pl.String,
    "period_grain": pl.String,
    "see_origin": pl.String,
    "supplier_id": pl.String,
    "material_id": pl.String,
    "cn_code": pl.String,
    "origin_country": pl.String,
    "see_direct": pl.Float64,
    "see_indirect": pl.Float64,
    "supplier_emissions_row_ids": pl.List(pl.String),
}


def export_line(inst: str, n: int, chargeable: float | None, see: float | None = 1.0, file: str = "a.csv"):
    return {
        "export_id": f"E{n}",
        "line_no": 1,
        "declaration_date": date(2026, 3, 1),
        "installation_id": inst,
        "product_id": f"P-{inst}",
        "cn_code": "72081000",
        "production_period": "2026",
        "see_direct": see,
        "embedded_chargeable_tco2e": chargeable,
        "default_value_reason": None,
        "net_mass_note": None,
        "source_row_id": f"exports/2026-03-02/{file}#{n}",
    }


def make_home(root: Path, lines: list[dict], precursors: list[dict] | None = None, sha: str = "aaa") -> Home:
    home = Home(root)
    home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    home.warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(home.warehouse))
    con.execute("create schema marts")
    exports = pl.DataFrame(lines, schema=EXPORT_COLS)
    prec = pl.DataFrame(precursors or [], schema=PREC_COLS)
    con.register("exports_df", exports)
    con.register("prec_df", prec)
    con.execute("create table marts.fct_cbam_export_lines as select * from exports_df")
    con.execute("create table marts.fct_precursor_inputs as select * from prec_df")
    con.close()
    files = home.raw_dir("exports")
    files.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "dataset": ["exports"],
            "drop_date": [date(2026, 3, 2)],
            "file": ["exports/2026-03-02/a.csv"],
            "sha256": [sha],
            "rows_read": [2],
            "rows_accepted": [2],
            "rows_quarantined": [0],
            "file_status": ["ok"],
            "gate_passed": [True],
        }
    ).write_parquet(files / "_files.parquet")
    return home


def stage(home: Home, kind=None, run: str = "run1"):
    return run_report_stage(home, [kind or TinyKind()], CONFIG, run, now=NOW)


def test_first_run_publishes_v1_with_metadata_and_manifest(tmp_path):
    home = make_home(tmp_path, [export_line("I1", 1, 10.0), export_line("I2", 2, 5.0)])
    res = stage(home)
    assert sorted(v.id for v in res.published) == ["tiny/I1_2026/v1", "tiny/I2_2026/v1"]
    meta = json.loads((home.reports / "tiny/I1_2026/v1/report.json").read_text())
    assert meta["version"] == 1 and meta["gates"] == {"report_gate": "passed"}
    assert meta["files"].keys() == {"tiny.json"} and meta["manifest"] == "run_manifest/run1/v1/manifest.json"
    manifest = json.loads((home.reports / meta["manifest"]).read_text())
    assert manifest["input_files"][0]["file"] == "exports/2026-03-02/a.csv"
    assert "tiny/I1_2026/v1/tiny.json" in manifest["outputs"]
    assert not (home.reports / ".staging").exists()


def test_rerun_without_change_publishes_nothing(tmp_path):
    home = make_home(tmp_path, [export_line("I1", 1, 10.0)])
    stage(home)
    before = {p: p.read_bytes() for p in home.reports.rglob("*") if p.is_file()}
    res = stage(home, run="run2")
    assert not res.published and [v.id for v in res.unchanged] == ["tiny/I1_2026/v1"]
    assert res.manifest is None
    assert {p: p.read_bytes() for p in home.reports.rglob("*") if p.is_file()} == before


def test_a_change_publishes_the_next_version_with_a_diff_naming_the_input(tmp_path):
    home = make_home(tmp_path, [export_line("I1", 1, 10.0)], sha="aaa")
    stage(home)
    v1 = (home.reports / "tiny/I1_2026/v1/tiny.json").read_bytes()
    make_home(tmp_path, [export_line("I1", 1, 12.5)], sha="bbb")
    res = stage(home, run="run2")
    assert [v.id for v in res.published] == ["tiny/I1_2026/v2"]
    assert (home.reports / "tiny/I1_2026/v1/tiny.json").read_bytes() == v1  # v1 untouched
    diff = json.loads((home.reports / "tiny/I1_2026/v2/diff.json").read_text())
    change = diff["figures"]["changed"][0]
    assert change["figure"] == "I1/chargeable_tco2e" and change["old"] == 10.0 and change["new"] == 12.5
    assert change["change"] == pytest.approx(2.5) and change["relative_change"] == pytest.approx(0.25)
    assert diff["causes"]["input_files_changed"] == ["exports/2026-03-02/a.csv"]
    md = (home.reports / "tiny/I1_2026/v2/diff.md").read_text()
    assert "v1 → v2" in md and "`exports/2026-03-02/a.csv`" in md and "+25.0000%" in md
    assert find_version(home, "tiny/I1_2026").version == 2
    assert find_version(home, "tiny/I1_2026/v1").version == 1


def test_an_exported_good_without_see_blocks_only_its_installation(tmp_path):
    home = make_home(tmp_path, [export_line("I1", 1, None, see=None), export_line("I2", 2, 5.0)])
    res = stage(home)
    assert [v.id for v in res.published] == ["tiny/I2_2026/v1"]
    (line,) = res.blocked["tiny/I1_2026"]
    assert "P-I1" in line and "E1" in line and "fct_cbam_export_lines" in line
    assert not (home.reports / "tiny/I1_2026").exists()


def test_a_supplier_see_ten_times_the_default_blocks(tmp_path):
    prec = {
        "installation_id": "I1",
        "period": "2026",
        "period_grain": "year",
        "see_origin": "supplier_actual",
        "supplier_id": "S9",
        "material_id": "M-slab",
        "cn_code": "72071114",
        "origin_country": "CN",
        "see_direct": 1000.0,  # tCO2e/t: a kg/t value typed as t/t
        "see_indirect": 0.0,
        "supplier_emissions_row_ids": ["supplier_emissions/2026-02-01/s.csv#3"],
    }
    home = make_home(tmp_path, [export_line("I1", 1, 10.0)], [prec])
    res = stage(home)
    assert not res.published
    (line,) = res.blocked["tiny/I1_2026"]
    assert "S9" in line and "M-slab" in line and "× the default value" in line and "s.csv#3" in line
    prec["see_direct"] = 2.0  # plausible
    make_home(tmp_path, [export_line("I1", 1, 10.0)], [prec])
    assert [v.id for v in stage(home).published] == ["tiny/I1_2026/v1"]


def test_a_broken_writer_blocks_its_report_and_leaves_nothing_behind(tmp_path):
    home = make_home(tmp_path, [export_line("I1", 1, 10.0), export_line("I2", 2, 5.0)])
    res = stage(home, TinyKind(explode_on="I1"))
    assert "writer broke" in res.blocked["tiny/I1_2026"][0]
    assert [v.id for v in res.published] == ["tiny/I2_2026/v1"]
    assert not (home.reports / "tiny/I1_2026").exists() and not (home.reports / ".staging").exists()


def test_a_killed_run_leaves_no_visible_version(tmp_path):
    home = make_home(tmp_path, [export_line("I1", 1, 10.0)])
    half = home.reports / ".staging" / "killed" / "tiny" / "I1_2026"
    half.mkdir(parents=True)
    (half / "tiny.json").write_text("{")  # what a run killed mid-write leaves
    assert versions(home) == []
    res = stage(home)
    assert [v.id for v in res.published] == ["tiny/I1_2026/v1"]
    assert not (home.reports / ".staging").exists()


def test_keys_from_input_ids_are_path_safe():
    assert safe_key("../../etc", "2026") == "etc_2026"
    assert safe_key("a/b c", 2026) == "a-b-c_2026"


def test_cli_lists_and_gets_versions(tmp_path):
    from typer.testing import CliRunner

    from orchestration.cli import app

    home = make_home(tmp_path / "home", [export_line("I1", 1, 10.0)])
    stage(home)
    runner = CliRunner()
    listed = runner.invoke(app, ["reports", "list", "--home", str(home.root)])
    assert listed.exit_code == 0, listed.output
    assert (
        "tiny/I1_2026/v1" in listed.output
        and "latest" in listed.output
        and "report_gate passed" in listed.output
    )
    got = runner.invoke(
        app, ["reports", "get", "tiny/I1_2026", "--to", str(tmp_path / "out"), "--home", str(home.root)]
    )
    assert got.exit_code == 0, got.output
    assert (tmp_path / "out/tiny/I1_2026/v1/tiny.json").exists()
    for bad in ("tiny/../../etc", "nosuch/x/v1", "tiny/I1_2026/v9", "tiny/*"):
        res = runner.invoke(
            app, ["reports", "get", bad, "--to", str(tmp_path / "o2"), "--home", str(home.root)]
        )
        assert res.exit_code == 1 and "lingtan reports list" in res.output


def test_float_noise_is_not_a_new_version():
    a = ReportDoc("k", "x", "t", None, {"v": 0.1 + 0.2, "n": 3})
    b = ReportDoc("k", "x", "t", None, {"v": 0.3, "n": 3})
    c = ReportDoc("k", "x", "t", None, {"v": 0.3000001, "n": 3})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_a_stage_with_nothing_changed_reads_no_mart_and_keeps_every_document(tmp_path, monkeypatch):
    """The stage's stamp (code, writers, settings, the published warehouse file, locks, published versions):
    the same as after the last stage that blocked nothing → that stage's documents, unchanged, and no mart read;
    a new warehouse file, a version removed by hand or a blocked document → everything built and gated again."""
    import orchestration.lib.reports as reports

    home = make_home(tmp_path, [export_line("I1", 1, 10.0), export_line("I2", 2, 5.0)])
    first = stage(home)
    assert len(first.published) == 2
    reads: list[int] = []
    real = reports.read_marts
    monkeypatch.setattr(reports, "read_marts", lambda *a, **k: reads.append(1) or real(*a, **k))
    second = stage(home, run="run2")
    assert reads == [] and not second.published and not second.blocked
    assert sorted(v.id for v in second.unchanged) == ["tiny/I1_2026/v1", "tiny/I2_2026/v1"]
    assert second.unchanged[0].meta["files"] == first.published[0].meta["files"]
    # a version removed by hand: built again (v1 again: it is the latest no more)
    import shutil

    shutil.rmtree(home.reports / "tiny" / "I2_2026" / "v1")
    third = stage(home, run="run3")
    assert reads == [1] and [v.id for v in third.published] == ["tiny/I2_2026/v1"]
    # the warehouse published again (another file, the same marts): read again, nothing new to publish
    make_home(tmp_path, [export_line("I1", 1, 10.0), export_line("I2", 2, 5.0)])
    fourth = stage(home, run="run4")
    assert reads == [1, 1] and not fourth.published and len(fourth.unchanged) == 2
    assert stage(home, run="run5").unchanged and reads == [1, 1]
    # another writer version: built again
    stage(home, TinyKind(writer_version="tiny/2"), run="run6")
    assert reads == [1, 1, 1]
    # a blocked document is reported by every stage, not kept by the stamp
    make_home(tmp_path, [export_line("I1", 1, 11.0), export_line("I2", 2, 6.0)])
    broken = TinyKind(writer_version="tiny/2", explode_on="I1")
    assert stage(home, broken, run="run7").blocked
    assert stage(home, broken, run="run8").blocked
    assert reads == [1, 1, 1, 1, 1]
