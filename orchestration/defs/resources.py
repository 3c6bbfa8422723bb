"""Resources shared by all assets (the only `@dg.definitions` inside defs/)."""

import dagster as dg

from orchestration.lib.config import LingtanConfig


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"lingtan": LingtanConfig()})
