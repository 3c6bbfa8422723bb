"""The Commission's two worked examples through the real pipeline: the committed fixtures (extracted from the
workbooks' input sheets by tools/refbuild/examples) are written as landing-zone CSV files, ingested by
the Dagster `raw/*` assets (contracts, normalisation, gate) and computed by the `cbam_engine` asset (computed
gate included); the published tables must equal the workbooks' results to 1e-9 relative."""

from __future__ import annotations

import csv
import json

import polars as pl
import pytest

from tools.refbuild.examples.fixtures import EXAMPLES, load_fixture
from tools.refbuild.examples.landing import fixture_to_landing_rows

REL = 1e-9
pytestmark = pytest.mark.slow


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return json.dumps(v)
    return repr(v) if isinstance(v, float) else str(v)  # repr: shortest text that round-trips exactly


def write_landing(rows: dict[str, list[dict]], landing, drop: str) -> None:
    for dataset, items in rows.items():
        if not items:
            continue
        cols = list(dict.fromkeys(k for r in items for k in r))
        path = landing / dataset / drop / f"{dataset}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            w.writerows([_cell(r.get(c)) for c in cols] for r in items)


@pytest.fixture(scope="module", params=list(EXAMPLES))
def piped(request, example_run):
    """The example after `lingtan run` (the Dagster `raw/*` assets and the `cbam_engine` asset with their gates,
    then the rest of the nightly job), shared with the other end-to-end tests."""
    fixture = load_fixture(request.param)
    _, home = example_run(request.param)
    files = pl.concat(
        [
            pl.read_parquet(home.raw_dir(n) / "_files.parquet")
            for n in fixture_to_landing_rows(fixture)
            if (home.raw_dir(n) / "_files.parquet").exists()
        ]
    )
    assert files["rows_quarantined"].sum() == 0, files.filter(pl.col("rows_quarantined") > 0)
    tables = {
        t: pl.read_parquet(home.computed_table(t)).filter(pl.col("period_grain") == "year")
        for t in ("process_attribution", "process_see", "goods_see", "installation_emissions")
    }
    return fixture, fixture_to_landing_rows(fixture), tables


def close(a, b) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b), 1e-12) or abs(a - b) < 1e-12


def one(df: pl.DataFrame, **eq) -> dict:
    rows = df.filter(pl.all_horizontal([pl.col(k) == v for k, v in eq.items()])).to_dicts()
    assert len(rows) == 1, (eq, rows)
    return rows[0]


def pid(rows, name: str) -> str:
    return next(p["process_id"] for p in rows["processes"] if p["name"] == name)


def test_attribution_and_process_see_equal_the_workbook(piped):
    fixture, rows, t = piped
    for g in fixture["expected"]["summary_processes"]["ghg"]:
        a = one(t["process_attribution"], process_id=pid(rows, g["name"]))
        assert close(a["attributed_direct_tco2e"], g["attributed_direct_tco2e"])
        assert close(a["activity_level_t"], g["activity_level_t"])
    for s in fixture["expected"]["summary_processes"]["specific"]:
        p = one(t["process_see"], process_id=pid(rows, s["name"]))
        for ours, theirs in (
            ("own_see_direct", "se_direct"),
            ("see_direct", "see_direct"),
            ("own_see_indirect", "se_indirect"),
            ("see_indirect", "see_indirect"),
            ("embedded_electricity_mwh_per_t", "embedded_electricity_mwh_per_t"),
        ):
            assert close(p[ours], s[theirs]), (s["name"], ours)


def test_goods_see_default_share_and_electricity_equal_the_workbook(piped):
    fixture, _, t = piped
    for prod in fixture["expected"]["summary_communication"]:
        g = one(t["goods_see"], product_id=f"EX-{fixture['name'].upper()}-PR{prod['index']}")
        assert close(g["see_direct"], prod["see_direct"])
        assert close(g["see_indirect"], prod["see_indirect"])
        assert close(g["see_total"], prod["see_total"])
        assert close(g["default_value_share"] or 0.0, prod["default_value_share"] or 0.0)
        assert close(g["embedded_electricity_mwh_per_t"], prod["embedded_electricity_mwh_per_t"])
