"""Re-run the builders on the Commission's files in ../shared and compare with the committed CSVs byte for byte.

Skipped when ../shared is absent (CI); the committed CSVs are tested on their own in the other modules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED, needs_shared
from transforms.reference.seeds import REFERENCE_DIR

SOURCE = SHARED / "reference" / "cbam"
TABLES = ["cbam_default_values", "cbam_markups", "cbam_cn_goods", "cbam_grid_factors", "cbam_benchmarks",
          "cbam_fuel_factors", "cbam_gwp", "cbam_constants"]  # fmt: skip

pytestmark = [needs_shared, pytest.mark.shared]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    from tools.refbuild.build import build_all

    out = tmp_path_factory.mktemp("refbuild")
    return out, build_all(SOURCE, out)


def test_build_all_writes_every_table(rebuilt):
    out, counts = rebuilt
    assert sorted(counts) == sorted(TABLES)
    assert all(n > 0 for n in counts.values())


@pytest.mark.parametrize("table", TABLES)
def test_committed_csv_equals_fresh_build(rebuilt, table):
    out, counts = rebuilt
    fresh = (out / f"{table}.csv").read_bytes()
    committed = (REFERENCE_DIR / f"{table}.csv").read_bytes()
    assert fresh == committed, (
        f"{table}.csv differs from a fresh build: run `lingtan refdata build` and commit"
    )
    assert fresh.count(b"\n") == counts[table] + 1
