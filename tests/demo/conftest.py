from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.demo import DemoManifest, generate

SMALL = 0.1  # ≈ 2,000 invoice lines a year: every file kind and fault, generated in well under a second


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    landing = tmp_path_factory.mktemp("demo") / "landing"
    return landing, generate(landing, scale=SMALL, seed=7)
