{#- Fails with the rows whose `period` does not match its `period_grain`: `YYYY` for year, `YYYY-MM` for month. -#}
{% test valid_period(model, period="period", grain="period_grain") %}
    select *
    from {{ model }}
    where not coalesce(
        ({{ grain }} = 'year' and regexp_full_match({{ period }}, '[0-9]{4}'))
        or ({{ grain }} = 'month' and regexp_full_match({{ period }}, '[0-9]{4}-(0[1-9]|1[0-2])')),
        false
    )
{% endtest %}
