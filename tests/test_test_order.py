"""The suite's scheduling list (tests/conftest.py LONGEST_FIRST) names modules that exist: a renamed module would
silently drop back to the end of the queue and make `make test` wait on it."""

from pathlib import Path

from tests.conftest import LONGEST_FIRST

ROOT = Path(__file__).resolve().parents[1]


def test_longest_first_names_existing_modules():
    missing = [p for p in LONGEST_FIRST if not (ROOT / p).is_file()]
    assert not missing, missing
