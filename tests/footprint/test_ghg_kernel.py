"""The GHG kernel (transforms/ghg) and `compute_ghg`: the kernel depends on no engine, the engines share it
instead of importing each other, and `compute_ghg` gives exactly what the engines give when wired by hand."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.footprint import synthetic
from transforms.computed import conform_all
from transforms.footprint import compute_product_footprint
from transforms.ghg.compute import GHG_TABLES, compute_ghg
from transforms.ghg.factors import emission_factor_catalog
from transforms.inventory import compute_park_progress, compute_site_inventory, scope2_lines
from transforms.logistics import compute_logistics

TRANSFORMS = Path(__file__).resolve().parents[2] / "transforms"
ENGINES = ("footprint", "logistics", "inventory")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "transforms" else None


@pytest.mark.parametrize("path", sorted((TRANSFORMS / "ghg").glob("*.py")), ids=lambda p: p.name)
def test_the_kernel_imports_no_engine(path: Path) -> None:
    if path.name == "compute.py":  # the stage runner, built on the engines (not imported by the kernel)
        assert "transforms.ghg.compute" not in _imports(TRANSFORMS / "ghg" / "__init__.py")
        return
    assert not {m for m in _imports(path) if _package(m) in ENGINES}


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_import_the_kernel_not_each_other(engine: str) -> None:
    used = {_package(m) for p in (TRANSFORMS / engine).glob("*.py") for m in _imports(p)}
    assert "ghg" in used
    assert not (used & set(ENGINES)) - {engine}


def test_compute_ghg_is_the_engines_wired_in_order(raw, factors) -> None:
    se, ps, pi = synthetic.stream_emissions(), synthetic.process_see(), synthetic.precursor_inputs()
    as_of = date(2026, 1, 15)
    parks = pl.DataFrame(
        {"installation_id": ["NB1", "NB2"], "park_id": ["P1", "P1"], "park_name": ["Park", "Park"]}
    )
    got = compute_ghg(raw, factors, se, ps, pi, inventory_as_of=as_of, parks=parks)
    assert tuple(got) == GHG_TABLES
    legs, alloc = compute_logistics(raw, factors)
    sites = compute_site_inventory(raw, factors, se, pi, alloc, parks=parks, as_of=as_of)
    # through the same contracts (data_contracts/computed/) that fix each published table's column types
    by_hand = conform_all({
        "shipment_emissions": legs,
        "shipment_allocations": alloc,
        "product_footprint": compute_product_footprint(raw, factors, ps, pi, alloc, se),
        "site_inventory": sites,
        "scope2_lines": scope2_lines(raw, factors).collect(),
        "park_progress": compute_park_progress(sites, raw, parks),
        "factor_catalog": emission_factor_catalog(factors.reference_dir),
    })  # fmt: skip
    for name in GHG_TABLES:
        assert got[name].height > 0, name
        # scope2_lines is a lazy detail without a sort order of its own: compare it as a set of rows
        assert_frame_equal(got[name], by_hand[name], check_row_order=name != "scope2_lines")
    assert set(got["park_progress"]["park_id"]) >= {"P1"}
