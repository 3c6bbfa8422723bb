"""Run a Great Expectations 1.x suite on a polars frame (ephemeral context, pandas batch).

GX is imported inside the function: it takes seconds to import and most code paths never need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass
class SuiteResult:
    suite: str
    success: bool
    failures: dict[str, Any] = field(
        default_factory=dict
    )  # expectation → details (unexpected values/indices)
    evaluated: int = 0

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: {self.evaluated} expectations passed"
        return f"{self.suite}: " + "; ".join(f"{k} {v}" for k, v in self.failures.items())


def validate(df: pl.DataFrame, suite, id_columns: list[str] | None = None) -> SuiteResult:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        ctx.data_sources.add_pandas("frames")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("whole")
    )
    vd = gx.ValidationDefinition(name=suite.name, data=batch, suite=ctx.suites.add(suite))
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if id_columns:
        result_format["unexpected_index_column_names"] = id_columns
    res = vd.run(batch_parameters={"dataframe": df.to_pandas()}, result_format=result_format)
    failures = {}
    for r in res.results:
        if not r.success:
            cfg = r.expectation_config
            col = cfg.kwargs.get("column", "")
            detail = (
                r.result.get("unexpected_index_list")
                or r.result.get("partial_unexpected_list")
                or r.result.get("observed_value")
            )
            failures[f"{cfg.type}({col})"] = str(detail)[:300]
    return SuiteResult(suite.name, bool(res.success), failures, len(res.results))
