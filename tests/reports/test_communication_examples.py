"""The Commission's two example workbooks through the real pipeline (landing CSV → nightly job: ingest, CBAM
engine, dbt build, published warehouse), then our operator communication built from the marts, written and
re-read: its `Summary_Communication` product table must equal the workbook's own `Summary_Communication`
values (1e-9 relative), taken from the committed fixtures (tests/fixtures/extract_summary_communication.py), so
this runs without ../shared.

Compared: every product-table column both sides fill from the same inputs. Not compared, with the reason:
`CN Name` (ours is the CBAM goods list's description of the matched CN heading, the workbook's is its own
nomenclature text) and the carbon-price columns (no mart carries a carbon price per installation and good; ours
stay empty, which the test asserts).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import needs_shared
from tools.refbuild.examples.fixtures import EXAMPLES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cbam_examples"
REL = 1e-9
NOT_COMPARED = {"CN Name"}  # see the module docstring
CARBON_PRICE = (
    "Type of instrument (carbon pricing)",
    "Share of total embedded emissions covered by the carbon price",
    "Embedded emissions covered by the carbon price",
    "Currency",
    "Carbon price (CP) due (per produced t or MWh)",
    "Type of rebate",
    "Share of embedded emissions covered by the rebate",
    "Embedded emissions covered by rebate",
    "Amount of rebate (per produced t or MWh)",
    "Result: Effective CP due (per produced t or MWh)",
)
pytestmark = pytest.mark.slow


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def english(header: str) -> str:
    """Our bilingual header's English part (the template's text; Chinese is on the last line)."""
    return norm(header.rsplit("\n", 1)[0])


def expected_of(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}_summary_communication.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=list(EXAMPLES))
def communicated(request, example_run, tmp_path_factory):
    from orchestration.lib.reports import read_marts
    from transforms.reports.base import ReportConfig
    from transforms.reports.communication import KIND

    name = request.param
    _, home = example_run(name)  # the example through `lingtan run` (shared with other tests)
    assert home.warehouse.exists(), "the nightly run published no warehouse"
    marts = read_marts(home.warehouse, KIND.marts, optional=KIND.optional_marts)
    docs = KIND.build(marts, ReportConfig(run_date=date(2024, 2, 1)))
    [doc] = [d for d in docs if d.meta["year"] == "2023"]
    out = tmp_path_factory.mktemp(f"comm-{name}")
    [path] = KIND.write(doc, out)
    return name, doc, path, KIND.check(doc, out, marts)


def product_table(path: Path) -> list[dict[str, object]]:
    """Our Summary_Communication product table, found by its header text, as English header → value."""
    import openpyxl

    ws = openpyxl.load_workbook(path, read_only=True)["Summary_Communication"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    hr = next(
        i for i, r in enumerate(rows) if any(isinstance(v, str) and english(v) == "CN Codes" for v in r)
    )
    cols = {j: english(v) for j, v in enumerate(rows[hr]) if isinstance(v, str)}
    cn_col = next(j for j, h in cols.items() if h == "CN Codes")
    return [
        {h: r[j] for j, h in cols.items() if j < len(r)}
        for r in rows[hr + 1 :]
        if cn_col < len(r) and r[cn_col] is not None
    ]


def same(ours: object, theirs: object) -> bool:
    if isinstance(theirs, int | float) and not isinstance(theirs, bool):
        if not isinstance(ours, int | float):
            return False
        return abs(ours - theirs) <= REL * max(abs(ours), abs(theirs)) or abs(ours - theirs) < 1e-12
    return ours == theirs


def test_product_table_equals_the_workbooks_summary_communication(communicated):
    name, _, path, _ = communicated
    ours = product_table(path)
    theirs = expected_of(name)["products"]
    assert len(ours) == len(theirs) > 0
    product = "Product name (used for communication with reporting declarant, e.g. on invoices)"
    by_key = {(r["CN Codes"], r[product]): r for r in ours}
    compared = 0
    for p in theirs:
        values = p["values"]
        row = by_key[(values["CN Codes"], values[product])]
        for header, value in values.items():
            if header in NOT_COMPARED or header in CARBON_PRICE:
                continue
            if header == "Unit" and value == "tCO2e/t":
                assert row[header] == value
                continue
            assert header in row, (name, header)
            assert same(row[header], value), (name, p["index"], header, row[header], value)
            compared += 1
        for header in CARBON_PRICE:
            assert row.get(header) is None, (name, header)  # no carbon price in the marts: left empty
    assert compared >= 8 * len(theirs)


def test_installation_totals_equal_the_workbook(communicated):
    """Direct emissions to 1e-9. The workbooks' installation indirect total is an entered, rounded figure
    (cement: 161 489.1 where its own electricity × factor is 193 864.4737 MWh × 0.833 = 161 489.1066 tCO2e),
    so indirect and total agree to 1e-7 only."""
    name, doc, _, _ = communicated
    em = expected_of(name)["emissions"]
    ours = doc.model["emissions"]
    assert same(ours["direct_tco2e"], em["Total direct emissions during reporting period:"])
    assert same(ours["calculation_based_tco2e"], em["Calculation - based (excl. PFC emissions)"])
    for key, label in (
        ("indirect_tco2e", "Total indirect emissions during reporting period:"),
        ("total_tco2e", "Total emissions during reporting period:"),
    ):
        assert abs(ours[key] - em[label]) <= 1e-7 * abs(em[label]), (key, ours[key], em[label])


def test_the_written_example_passes_its_check(communicated):
    _, _, _, failures = communicated
    assert failures == []


@needs_shared
def test_committed_fixtures_equal_a_fresh_extraction(tmp_path):
    from tests.fixtures.extract_summary_communication import build

    for fresh in build(out=tmp_path):
        committed = FIXTURES / fresh.name
        assert json.loads(fresh.read_text(encoding="utf-8")) == json.loads(
            committed.read_text(encoding="utf-8")
        )
