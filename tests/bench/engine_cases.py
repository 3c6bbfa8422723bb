"""Engine cases of `make bench` (tests/bench/run.py): the CBAM engine against a plain pandas implementation of
the same calculation (tests/bench/pandas_cbam.py), measured in the same run, and the logistics engine.

run.py has generated `<workdir>/landing` and ingested it into `<workdir>/home` for the scale. Each case runs in
its own process (harness.measure: wall time, peak RSS). The ratio compares the seconds each child reports for
reading the raw lake plus computing (interpreter start-up and imports excluded). Targets (issue): at scale 100
the engine at least 20× faster than pandas, peak memory under 4 GB. The pandas child stops after
PANDAS_BUDGET_S; its time and the ratio then read "> N s" / ">= R" (a lower bound).
"""

from __future__ import annotations

from pathlib import Path

from tests.bench.harness import Measurement, measure

PANDAS_BUDGET_S = 900
TARGET_SPEEDUP, TARGET_PEAK_MB, TARGET_SCALE = 20.0, 4096.0, 100
REL = 1e-9
TOTALS = ("export_direct_tco2e", "export_indirect_tco2e", "goods_see_direct_sum")


def _same_totals(a: dict, b: dict) -> bool:
    return all(abs(a[k] - b[k]) <= REL * max(abs(a[k]), abs(b[k]), 1e-300) for k in TOTALS)


def run(workdir: Path, scale: int) -> list[Measurement]:
    home = str(workdir / "home")
    polars = measure(f"cbam engine (scale {scale})", "tests.bench.cbam_polars_case", home)
    pandas = measure(
        f"cbam pandas baseline (scale {scale})", "tests.bench.cbam_pandas_case", home, str(PANDAS_BUDGET_S)
    )
    logistics = measure(f"logistics engine (scale {scale})", "tests.bench.logistics_case", home)

    p, b = polars.info, pandas.info
    polars_s = p["seconds"]
    if b.get("timed_out"):
        ratio = f">= {b['budget_s'] / polars_s:.3g}"
        pandas_info = {"pandas_s": f"> {b['budget_s']:.0f}", "polars_s": polars_s, "ratio": ratio}
    else:
        ratio = f"{b['seconds'] / polars_s:.3g}"
        pandas_info = {
            "pandas_s": b["seconds"],
            "load_s": b["load_s"],
            "polars_s": polars_s,
            "ratio": ratio,
            "same_numbers": _same_totals(p, b),
        }
    polars_info = {
        "seconds": polars_s,
        "invoices": p["invoices"],
        "export_lines": p["export_lines"],
        "speedup_vs_pandas": ratio,
    }
    if scale >= TARGET_SCALE:
        speedup = float(ratio.lstrip(">= "))
        if speedup >= TARGET_SPEEDUP:
            polars_info["target_20x"] = "met"
        else:
            polars_info["target_20x"] = "unknown" if b.get("timed_out") else "missed"
        polars_info["peak_under_4gb"] = "met" if polars.peak_mb < TARGET_PEAK_MB else "missed"
    polars.info, pandas.info = polars_info, pandas_info
    logistics.info = {k: logistics.info[k] for k in ("seconds", "legs", "legs_per_s", "allocations")}
    return [polars, pandas, logistics]
