"""A pytest plugin for the reliability figures in docs/reliability.md: how many S3 requests the fault tests'
proxy (tests/reliability/faultproxy.py) saw and how many faults it injected, per proxy, printed at the end.

    .venv/bin/pytest -q -p no:cacheprovider -p tests.bench.faultcount tests/reliability
"""

from __future__ import annotations

import pytest

from tests.reliability.faultproxy import FaultProxy

SEEN: list[tuple[str, int, dict[str, int]]] = []


@pytest.fixture(autouse=True)
def _count_faults(request, monkeypatch):
    exit_ = FaultProxy.__exit__

    def counted(self, *exc):
        SEEN.append((request.node.name, self.requests, dict(self.injected)))
        return exit_(self, *exc)

    monkeypatch.setattr(FaultProxy, "__exit__", counted)
    yield


def pytest_terminal_summary(terminalreporter):
    if not SEEN:
        return
    terminalreporter.section("S3 fault proxy")
    for name, requests, injected in SEEN:
        total = sum(injected.values())
        terminalreporter.write_line(f"{name}: {requests} requests, {total} faults injected {injected}")
