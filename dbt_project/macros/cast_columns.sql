{#- `cast(<name> as <type>) as <name>` for every entry of `columns` ({name: duckdb type}), comma-separated:
    the staging select of a table whose columns are declared once, in the model. -#}
{% macro cast_columns(columns) -%}
    {%- for name, type in columns.items() %}
        cast({{ adapter.quote(name) }} as {{ type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
