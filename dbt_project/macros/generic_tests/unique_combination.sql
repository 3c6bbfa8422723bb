{#- Fails with the duplicated key values when `columns` together do not identify a row (nulls compare equal).
    `since_column` with `since_env`: when the environment variable holds a time, only the rows whose
    `since_column` is at or after it are read. The dbt step sets it when every row before it is one an earlier
    build checked and no later change touched (orchestration/defs/warehouse/dbt.py `keys_since`); a duplicate
    always has a row at or after it then. Unset or empty: every row. -#}
{% test unique_combination(model, columns, since_column=none, since_env=none) %}
    {%- set since = env_var(since_env, '') if since_env else '' %}
    select
        {%- for col in columns %}
        {{ adapter.quote(col) }},
        {%- endfor %}
        count(*) as duplicate_rows
    from {{ model }}
    {%- if since_column and since %}
    where {{ adapter.quote(since_column) }} >= timestamp '{{ since }}'
    {%- endif %}
    group by all
    having count(*) > 1
{% endtest %}
