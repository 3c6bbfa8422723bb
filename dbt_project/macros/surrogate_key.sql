{#-
    Deterministic text key of a row from several columns: md5 of the values joined by '||'.
    Nulls become a marker first (concat_ws would skip them and make (a, null, b) equal to (a, b, null)).
-#}
{% macro surrogate_key(fields) -%}
    md5(concat_ws('||'
    {%- for field in fields -%}
        , coalesce(cast({{ field }} as varchar), '<null>')
    {%- endfor -%}
    ))
{%- endmacro %}
