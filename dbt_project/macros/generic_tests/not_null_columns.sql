{#- Fails with the rows where any of `columns` is null (one test node instead of one per column). -#}
{% test not_null_columns(model, columns) %}
    select *
    from {{ model }}
    where
    {%- for col in columns %}
        {{ "or " if not loop.first }}{{ adapter.quote(col) }} is null
    {%- endfor %}
{% endtest %}
