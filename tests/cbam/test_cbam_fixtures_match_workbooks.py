"""The committed example fixtures are exactly what tools/refbuild/examples extracts from the
Commission's workbooks (skipped where the shared folder is absent; all other tests use the fixtures)."""

from __future__ import annotations

import pytest

from tools.refbuild.examples.fixtures import EXAMPLES, extract, load_fixture
from transforms.paths import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared" / "reference" / "cbam" / "examples"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/reference/cbam/examples"),
]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_fixture_equals_workbook(name: str) -> None:
    fresh = {"name": name, **extract(SHARED / EXAMPLES[name])}
    assert load_fixture(name) == fresh
