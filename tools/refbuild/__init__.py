"""Builders that derive the committed reference seed tables (dbt_project/seeds/reference/) and the worked-example
fixtures from the official sources.

They run on a developer's machine, never during a user's run; users' runs read only the committed CSVs
(through transforms/reference). Entry points:
- `python -m tools.refbuild.build --source DIR` (or `lingtan refdata build`): every CBAM table from the
  Commission's files (default values, CN scope, grid factors, benchmarks, MIR factors/GWPs/constants);
- `tools.refbuild.countries.build(path)` (part of `lingtan refdata build`): countries.csv;
- `python -m tools.refbuild.sea_routes`: ghg_sea_distances.csv;
- `python -m tools.refbuild.examples.fixtures`: tests/fixtures/cbam_examples/*.json from the worked examples.
"""
