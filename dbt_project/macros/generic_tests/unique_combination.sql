{#- Fails with the duplicated key values when `columns` together do not identify a row (nulls compare equal). -#}
{% test unique_combination(model, columns) %}
    select
        {%- for col in columns %}
        {{ adapter.quote(col) }},
        {%- endfor %}
        count(*) as duplicate_rows
    from {{ model }}
    group by all
    having count(*) > 1
{% endtest %}
