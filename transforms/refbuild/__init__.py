"""Builders that derive the committed reference seed tables (dbt_project/seeds/reference/).

They run on a developer's machine (`lingtan refdata build`), never during a user's run; users' runs read
only the committed CSVs.
"""
