"""Benchmark case: the pandas baseline on an ingested home
(python -m tests.bench.cbam_pandas_case HOME [BUDGET_S]).

Times reading the raw lake with pandas plus `compute_cbam_pandas` and prints one JSON line with the same
figures as cbam_polars_case. Past BUDGET_S seconds (default 900) it stops and reports `timed_out` instead, so
`make bench` still finishes (the ratio is then a lower bound)."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

from tests.bench.harness import child_clock
from tests.bench.pandas_cbam import compute_cbam_pandas, load_raw

DEFAULT_BUDGET_S = 900.0


class BudgetExceeded(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    raise BudgetExceeded


def main() -> None:
    budget = float(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_BUDGET_S
    signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, budget)
    start = time.perf_counter()
    clock = child_clock()
    try:
        raw = load_raw(Path(sys.argv[1]))
        loaded = time.perf_counter() - start
        out = compute_cbam_pandas(raw)
    except BudgetExceeded:
        print(
            json.dumps(
                {"timed_out": True, "budget_s": budget, "seconds": round(time.perf_counter() - start, 3)}
            )
        )
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    times = clock()
    lines, goods = out["export_lines"], out["goods_see"]
    goods = goods[goods["period_grain"] == "year"]
    print(
        json.dumps(
            {
                **times,
                "load_s": round(loaded, 3),
                "invoices": len(raw["supplier_invoices"]),
                "export_lines": len(lines),
                "export_direct_tco2e": float(lines["embedded_direct_tco2e"].sum()),
                "export_indirect_tco2e": float(lines["embedded_indirect_tco2e"].sum()),
                "goods_see_direct_sum": float(goods["see_direct"].sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
