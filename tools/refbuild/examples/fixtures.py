"""The Commission's two worked examples (Communication template v2.1) as committed JSON fixtures.

`extract(xlsx)` reads the input sheets (A_InstData, B_EmInst, C_Emissions&Energy, D_Processes, E_PurchPrec)
and the template's computed outputs (Summary_Processes, Summary_Products, Summary_Communication) with openpyxl
`data_only=True` (cached values; openpyxl never recalculates). Cells are found by their labels and table
headers, not by fixed coordinates, so a template version that inserts a column (2.1.1 adds one in
Summary_Communication) still reads. `build()` writes tests/fixtures/cbam_examples/<name>.json; tests never
need the workbooks (`load_fixture`).

Run: `python -m tools.refbuild.examples.fixtures [--src DIR] [--out DIR]`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tools.refbuild.examples.inputs import (
    read_em_inst,
    read_emissions_energy,
    read_inst_data,
    read_processes,
    read_purchased,
)
from tools.refbuild.examples.outputs import read_products, read_summary_processes
from tools.refbuild.examples.sheet import Sheet
from transforms.paths import REPO_ROOT

EXAMPLES = {"cement": "example-cement.xlsx", "steel_eaf_alloys": "example-steel-eaf-alloys.xlsx"}
SHARED_EXAMPLES = REPO_ROOT.parent / "shared" / "reference" / "cbam" / "examples"
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "cbam_examples"


def extract(path: Path) -> dict[str, Any]:
    """One workbook → fixture dict (inputs as entered, outputs as the template computed them)."""
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # conditional-formatting extensions openpyxl does not support
        wb = openpyxl.load_workbook(path, data_only=True, read_only=False)
    sheets = {
        name: Sheet(wb[name])
        for name in (
            "A_InstData",
            "B_EmInst",
            "C_Emissions&Energy",
            "D_Processes",
            "E_PurchPrec",
            "Summary_Processes",
            "Summary_Products",
            "Summary_Communication",
        )
    }
    a = read_inst_data(sheets["A_InstData"])
    return {
        "source": {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "extracted_by": "tools/refbuild/examples",
        },
        "period_start": a["period_start"],
        "period_end": a["period_end"],
        "installation": a["installation"],
        "goods": a["goods"],
        "processes_list": a["processes"],
        "purchased_precursors_list": a["purchased_precursors"],
        "emission_sources": read_em_inst(sheets["B_EmInst"]),
        "installation_totals": read_emissions_energy(sheets["C_Emissions&Energy"]),
        "processes": read_processes(sheets["D_Processes"]),
        "purchased_precursors": read_purchased(sheets["E_PurchPrec"]),
        "expected": {
            "summary_processes": read_summary_processes(sheets["Summary_Processes"]),
            "summary_products": read_products(sheets["Summary_Products"]),
            "summary_communication": read_products(sheets["Summary_Communication"]),
        },
    }


def build(src: Path = SHARED_EXAMPLES, out: Path = FIXTURE_DIR) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, file in EXAMPLES.items():
        fixture = {"name": name, **extract(src / file)}
        p = out / f"{name}.json"
        p.write_text(
            json.dumps(fixture, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
        )
        written.append(p)
    return written


def load_fixture(name: str, directory: Path = FIXTURE_DIR) -> dict[str, Any]:
    return json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=SHARED_EXAMPLES)
    ap.add_argument("--out", type=Path, default=FIXTURE_DIR)
    args = ap.parse_args()
    for p in build(args.src, args.out):
        print(p)


if __name__ == "__main__":
    main()
