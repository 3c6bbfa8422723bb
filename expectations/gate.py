"""The one verdict type of every gate (raw, computed, report): a name and the failure lines; it passes when
there are none. Each failure line names what is wrong and where to look, so it can be shown to a person as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Gate:
    name: str
    failures: tuple[str, ...] = ()
    checked: int = 0  # rules evaluated (a suite's expectations); 0 when the gate does not count them

    @staticmethod
    def of(name: str, failures: Iterable[str], checked: int = 0) -> Gate:
        return Gate(name, tuple(failures), checked)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def details(self) -> str:
        """'ok', or the failures joined by '; ' (one line, for a check's metadata and the files ledger)."""
        return "ok" if self.passed else "; ".join(self.failures)

    def summary(self) -> str:
        """One line prefixed with the gate's name: how many rules passed, or what failed."""
        if self.passed:
            return f"{self.name}: {self.checked} expectations passed"
        return f"{self.name}: {self.details}"
