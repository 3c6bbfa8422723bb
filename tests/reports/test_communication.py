"""Operator emissions communication on the demo's marts (shared demo run) and on small in-memory frames: one
document per installation × year, figures equal to the marts, the XLSX re-read equal to what was meant, hostile
names inert, an exported good without an SEE failing the check, the layout where the template has it."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from transforms.reports.base import ReportConfig
from transforms.reports.communication import KIND, build, exported_goods
from transforms.reports.communication_rows import PROCESS_REF, indirect_split
from transforms.reports.writers.communication_xlsx import check, write

CONFIG = ReportConfig(run_date=date(2026, 11, 24))
TEMPLATE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "cbam_examples" / "template_summary_communication.json"
)
HOSTILE = ['=HYPERLINK("http://x")', "+cmd", "@SUM(A1)", "-1+2", "\tlead", "<r><t>x</t></r>"]


def year_rows(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("period_grain") == "year")


@pytest.fixture(scope="module")
def docs(demo_marts):
    return build(demo_marts, CONFIG)


def test_one_document_per_installation_and_year(demo_marts, docs):
    want = {
        (r[0], r[1])
        for r in year_rows(demo_marts["fct_goods_see"]).select("installation_id", "period").iter_rows()
    }
    want |= {(r[0], r[1]) for r in exported_goods(demo_marts).select("installation_id", "year").iter_rows()}
    got = [(d.meta["installation_id"], d.meta["year"]) for d in docs]
    assert sorted(got) == sorted(want) and len(set(got)) == len(got)
    assert len({d.key for d in docs}) == len(docs)
    for d in docs:
        assert d.kind == KIND.name and d.installations == {d.meta["installation_id"]}
        assert d.sources and all("#" not in s and s.count("/") >= 2 for s in d.sources)


def test_figures_equal_the_marts(demo_marts, docs):
    by_key = {(d.meta["installation_id"], d.meta["year"]): d for d in docs}
    rows = year_rows(demo_marts["fct_goods_see"]).to_dicts()
    assert rows
    for r in rows:
        f = by_key[(r["installation_id"], r["period"])].figures
        for col in (
            "see_direct",
            "see_indirect",
            "see_total",
            "default_value_share",
            "embedded_electricity_mwh_per_t",
        ):
            assert f[f"product/{r['product_id']}/{col}"] == r[col], (r["product_id"], col)
    for r in year_rows(demo_marts["fct_installation_emissions"]).to_dicts():
        f = by_key[(r["installation_id"], r["period"])].figures
        assert f["emissions/direct_tco2e"] == r["direct_tco2e"]
        assert f["emissions/indirect_tco2e"] == r["indirect_tco2e"]
    fa = demo_marts.get("fct_goods_free_allocation")
    if fa is not None:
        for r in year_rows(fa).to_dicts():
            f = by_key[(r["installation_id"], r["period"])].figures
            assert f[f"free_allocation/{r['product_id']}/sefa_tco2e_per_t"] == r["sefa_tco2e_per_t"]


def _expand(rows: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, rows.split(",")):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _evidence_ids(ev: pl.DataFrame, subject: str) -> set[str]:
    """The source row ids the Evidence lines of one subject stand for (ranges expanded, process references
    followed)."""
    got: set[str] = set()
    for file, rows in ev.filter(pl.col("subject") == subject).select("source_file", "rows").iter_rows():
        if rows.startswith(PROCESS_REF):
            got |= _evidence_ids(ev, "process/" + rows.removeprefix(PROCESS_REF))
        else:
            got |= {f"{file}#{n}" for n in _expand(rows)} if rows else {file}  # an id without a row number
    return got


def test_evidence_ranges_are_exactly_the_marts_source_rows(demo_marts, docs):
    for doc in docs:
        ev = doc.model["evidence"]
        inst, year = doc.meta["installation_id"], doc.meta["year"]
        mine = (pl.col("installation_id") == inst) & (pl.col("period") == year)
        for r in year_rows(demo_marts["fct_goods_see"]).filter(mine).to_dicts():
            product_row = demo_marts["dim_product"].filter(pl.col("product_id") == r["product_id"])[
                "source_row_id"
            ]
            want = set(r["source_row_ids"]) | set(product_row.to_list())
            assert _evidence_ids(ev, f"product/{r['product_id']}") == want, r["product_id"]
        for r in year_rows(demo_marts["fct_process_see"]).filter(mine).to_dicts():
            assert _evidence_ids(ev, f"process/{r['process_id']}") == set(r["source_row_ids"])
        assert doc.sources == {i.split("#")[0] for i in _all_ids(ev)}


def _all_ids(ev: pl.DataFrame) -> set[str]:
    return {
        f"{file}#{n}"
        for file, rows in ev.select("source_file", "rows").iter_rows()
        if not rows.startswith(PROCESS_REF)
        for n in _expand(rows)
    }


def test_written_workbook_reads_back_as_meant_and_is_deterministic(demo_marts, docs, tmp_path):
    doc = docs[-1]
    path = write(doc, tmp_path)
    assert check(doc, tmp_path, demo_marts) == []
    first = hashlib.sha256(path.read_bytes()).hexdigest()
    write(doc, tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == first
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == [
        "Summary_Communication",
        "Summary_Processes",
        "Summary_Products",
        "Definitive_Summary",
        "Evidence",
    ]


def test_layout_matches_the_template(docs, tmp_path):
    """Labels and product-table headers sit where template v2.1.1 has them (addresses from the committed
    extraction of the template, found there by text)."""
    tpl = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    path = write(docs[0], tmp_path)
    ws = openpyxl.load_workbook(path)["Summary_Communication"]

    def english(v: object) -> str:
        return re.sub(r"\s+", " ", str(v).rsplit("\n", 1)[0] if "\n" in str(v) else str(v)).strip()

    for label, ref in tpl["labels"].items():
        assert english(ws[ref].value).startswith(label.rstrip()), (label, ref, ws[ref].value)
    for ref, header in tpl["product_headers"].items():
        assert english(ws[ref].value) == header, (ref, header, ws[ref].value)


def _hostile_marts(marts):
    """The demo marts with attacker-chosen names on one installation and its products (in memory)."""
    inst = marts["dim_installation"]["installation_id"][0]
    prods = marts["dim_product"].filter(pl.col("installation_id") == inst)["product_id"].to_list()
    names = {p: HOSTILE[i % len(HOSTILE)] for i, p in enumerate(prods)}
    out = dict(marts)
    out["dim_installation"] = marts["dim_installation"].with_columns(
        name_en=pl.when(pl.col("installation_id") == inst)
        .then(pl.lit(HOSTILE[0]))
        .otherwise(pl.col("name_en"))
    )
    out["dim_product"] = marts["dim_product"].with_columns(
        name_en=pl.col("product_id").replace_strict(names, default=pl.col("name_en"))
    )
    return out, inst, names


def test_hostile_names_come_back_as_inert_text(demo_marts, tmp_path):
    marts, inst, names = _hostile_marts(demo_marts)
    doc = next(d for d in build(marts, CONFIG) if d.meta["installation_id"] == inst)
    path = write(doc, tmp_path)
    assert check(doc, tmp_path, marts) == []
    ws = openpyxl.load_workbook(path)[
        "Summary_Communication"
    ]  # not data_only: a formula would show as "=..."
    assert ws["G12"].value == "'" + HOSTILE[0]
    values = [c.value for row in ws.iter_rows(min_row=26) for c in row if isinstance(c.value, str)]
    shown = {names[p] for p in names if p in {x["product_id"] for x in doc.model["products"]}}
    assert shown
    for h in shown:
        assert "'" + h in values, h
    for row in openpyxl.load_workbook(path).worksheets:
        for r in row.iter_rows():
            for c in r:
                assert c.data_type != "f", (row.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert not c.value.startswith(("=", "+", "-", "@", "\t", "\r")), (row.title, c.coordinate)


def test_an_exported_good_without_an_see_fails_the_check(demo_marts, tmp_path):
    ex = exported_goods(demo_marts).row(0, named=True)
    marts = dict(demo_marts)
    marts["fct_goods_see"] = demo_marts["fct_goods_see"].filter(
        ~(
            (pl.col("installation_id") == ex["installation_id"])
            & (pl.col("product_id") == ex["product_id"])
            & (pl.col("period") == ex["year"])
        )
    )
    doc = next(
        d
        for d in build(marts, CONFIG)
        if (d.meta["installation_id"], d.meta["year"]) == (ex["installation_id"], ex["year"])
    )
    write(doc, tmp_path)
    failures = check(doc, tmp_path, marts)
    assert any(ex["product_id"] in line and "has no SEE" in line for line in failures), failures


def _proc(pid: str, src: str | None, own: float, ind: float, al: float) -> dict:
    return {
        "process_id": pid,
        "electricity_ef_source": src,
        "own_see_indirect": own,
        "see_indirect": ind,
        "activity_level_t": al,
    }


def test_indirect_split_by_hand():
    """P1: own indirect 0.5 on the country default factor (D.4(a)) + a purchased default precursor with 200 t
    embedded indirect over 1000 t → default 0.5 + 0.2 = 0.7 tCO2e/t. P2: own 0.3 on an actual factor (D.4.3.1)
    + 1.1 t/t of P1 → default 1.1 × 0.7 = 0.77. P3 on `Mix`: not split."""
    procs = pl.DataFrame(
        [
            _proc("P1", "D.4(a)", 0.5, 0.9, 1000.0),
            _proc("P2", "D.4.3.1", 0.3, 1.3, 500.0),
            _proc("P3", "Mix", 0.2, 0.2, 10.0),
        ]
    )
    prec = pl.DataFrame(
        [
            {
                "process_id": "P1",
                "source": "purchased",
                "from_process_id": None,
                "is_default": True,
                "embedded_indirect_tco2e": 200.0,
                "mass_share_t_per_t": 0.4,
            },
            {
                "process_id": "P1",
                "source": "purchased",
                "from_process_id": None,
                "is_default": False,
                "embedded_indirect_tco2e": 50.0,
                "mass_share_t_per_t": 0.1,
            },
            {
                "process_id": "P2",
                "source": "internal",
                "from_process_id": "P1",
                "is_default": False,
                "embedded_indirect_tco2e": None,
                "mass_share_t_per_t": 1.1,
            },
        ]
    )
    out = indirect_split(procs, prec)
    assert out["P1"]["default_per_t"] == pytest.approx(0.7, rel=1e-12)
    assert out["P2"]["default_per_t"] == pytest.approx(0.77, rel=1e-12)
    assert out["P3"]["default_per_t"] is None and "Mix" in out["P3"]["reason"]


def test_check_reports_a_cell_that_does_not_read_back(demo_marts, docs, tmp_path):
    """A workbook changed after writing (a value edited, one formula injected) fails the re-read comparison."""
    doc = docs[0]
    path = write(doc, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Summary_Communication"]
    ws["I26"] = 123.0  # SEE (direct) of the first product
    ws["G12"] = '=HYPERLINK("http://x")'
    wb.save(path)
    failures = check(doc, tmp_path, demo_marts)
    assert any("Summary_Communication!I26" in f for f in failures), failures
    assert any("Summary_Communication!G12" in f for f in failures), failures


def test_without_the_free_allocation_mart_the_sefa_columns_stay_empty_with_a_note(demo_marts, tmp_path):
    from transforms.reports.communication import FREE_ALLOCATION_MART, FREE_ALLOCATION_MISSING

    marts = {k: v for k, v in demo_marts.items() if k != FREE_ALLOCATION_MART}
    doc = build(marts, CONFIG)[0]
    assert doc.model["free_allocation"] is None and FREE_ALLOCATION_MISSING in doc.model["notes"]
    assert not any(k.startswith("free_allocation/") for k in doc.figures)
    write(doc, tmp_path)
    assert check(doc, tmp_path, marts) == []
