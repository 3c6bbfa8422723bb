{#- True when `period` (text `YYYY` or `YYYY-MM`) lies in the current calendar year or later: the current year is
    reported year-to-date and marked provisional (docs/outputs.md). -#}
{% macro is_provisional(period) -%}
    (cast(left({{ period }}, 4) as integer) >= year(current_date))
{%- endmacro %}
