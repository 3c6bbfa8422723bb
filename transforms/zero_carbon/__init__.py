"""Zero-carbon factories and parks (docs/methodology/zero-carbon.md): the green-certificate ledger and retired credits
(`ledger`), the park indicators P1–P6 and factory indicators F1–F7 (`indicators`) and the ISO 14068-1 neutrality
claim view (`claim`). Pure polars: the Dagster asset is orchestration/defs/compute/zero_carbon.py.
"""
