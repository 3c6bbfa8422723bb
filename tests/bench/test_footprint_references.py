"""The benchmark's two references for the product footprint engine (tests/bench/pandas_footprint.py and
tests/bench/duckdb_footprint.py) give the same numbers as `compute_product_footprint` on the demo data (scale
0.1, ingested like a real home), from the same inputs: every per-tonne part, the cradle-to-gate and
cradle-to-customer totals, per-piece figures, primary data share and data-quality score to 1e-9 relative, and
the gap flags, gap material names and internal-input flags exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.lib.compute import load_raw
from tests.bench.duckdb_footprint import compute_footprint_duckdb
from tests.bench.pandas_footprint import FLAGS, KEYS, NUMBERS, compute_footprint_pandas, inputs_as_pandas
from tests.bench.pandas_footprint import load_raw as load_raw_pandas
from tests.bench.test_pandas_baseline import _assert_close
from transforms.cbam.engine import compute_cbam
from transforms.footprint import load_factors
from transforms.footprint.engine import compute_product_footprint
from transforms.logistics import compute_logistics

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def three(demo_home) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    raw = load_raw(demo_home)
    factors = load_factors()
    cbam = compute_cbam(raw)
    _, allocations = compute_logistics(raw, factors)
    engine = compute_product_footprint(
        raw, factors, cbam["process_see"], cbam["precursor_inputs"], allocations, cbam["stream_emissions"]
    )
    frames = {
        **cbam,
        "shipment_allocations": allocations,
        "china_grid_factors": factors["china_grid_factors"],
    }
    inputs = inputs_as_pandas(frames)
    pandas_out = compute_footprint_pandas(load_raw_pandas(demo_home.root), **inputs)
    duck = compute_footprint_duckdb(demo_home.root, inputs)
    return engine.select(*KEYS, *NUMBERS, *FLAGS).to_pandas(), pandas_out, duck


def test_the_demo_reaches_every_part(three):
    engine, _, _ = three
    assert len(engine) > 0 and set(engine["period_grain"]) == {"month", "year"}
    for c in ("own_direct_tco2e_per_t", "own_indirect_tco2e_per_t", "precursors_tco2e_per_t",
              "purchased_materials_tco2e_per_t", "inbound_transport_tco2e_per_t", "outbound_transport_tco2e_per_t",
              "cradle_to_gate_kgco2e_per_piece", "electricity_factor_kgco2e_per_kwh"):  # fmt: skip
        assert (engine[c].fillna(0) > 0).any(), c
    assert engine["internal_inputs"].any() and not engine["internal_inputs"].all()
    assert engine["has_gap"].any()


@pytest.mark.parametrize("which", ["pandas", "duckdb"])
def test_reference_gives_the_engines_numbers(three, which):
    engine, pandas_out, duck = three
    ref = pandas_out if which == "pandas" else duck
    assert len(ref) == len(engine)
    _assert_close(engine[KEYS + NUMBERS], ref[KEYS + NUMBERS], KEYS, NUMBERS)
    merged = engine[KEYS + FLAGS].merge(ref[KEYS + FLAGS], on=KEYS, suffixes=("_engine", "_ref"))
    for c in FLAGS:
        a, b = merged[f"{c}_engine"], merged[f"{c}_ref"]
        assert ((a == b) | (a.isna() & b.isna())).all(), merged.loc[
            ~((a == b) | (a.isna() & b.isna())), KEYS + [f"{c}_engine", f"{c}_ref"]
        ]
