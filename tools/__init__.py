"""Developer-side tools, outside lingtan's run-time path: `refbuild` derives the committed reference tables
(dbt_project/seeds/reference) and the worked-example fixtures from the official sources. A user's run never
imports this package; the run-time lookups over the tables are in transforms/reference."""
