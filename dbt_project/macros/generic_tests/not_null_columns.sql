{#- Fails with the rows where any of `columns` is null (one test node instead of one per column).
    `since_column` with `since_env`: as in `unique_combination`, when the environment variable holds a time only
    the rows whose `since_column` is at or after it (or null) are read: the rows before it are ones an earlier
    build checked and no later change touched. Unset or empty: every row. -#}
{% test not_null_columns(model, columns, since_column=none, since_env=none) %}
    {%- set since = env_var(since_env, '') if since_env else '' %}
    select *
    from {{ model }}
    where
    {%- if since_column and since %}
        ({{ adapter.quote(since_column) }} >= timestamp '{{ since }}' or {{ adapter.quote(since_column) }} is null)
        and (
    {%- endif %}
    {%- for col in columns %}
        {{ "or " if not loop.first }}{{ adapter.quote(col) }} is null
    {%- endfor %}
    {%- if since_column and since %}
        )
    {%- endif %}
{% endtest %}
