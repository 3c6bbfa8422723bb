{#-
    Selects the lake file behind a source `relation` (its meta.external_location), or, when that file does not
    exist yet (an optional dataset never dropped, an engine that has not run), an empty relation with the given
    `columns` ({name: duckdb type}), so the views and marts still build and simply hold no rows.
    Only checked at execution: at parse time the source() call registers the lineage.
-#}
{% macro lake_table(relation, columns) -%}
    {%- if execute and not lake_file_exists(relation) -%}
        {{ log("lake_table: no file behind " ~ relation ~ "; treated as empty", info=true) }}
        select
        {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}


{#- True when the path or glob quoted in the relation's external location matches at least one file. -#}
{% macro lake_file_exists(relation) -%}
    {%- set location = modules.re.search("'([^']+)'", relation.render()) -%}
    {%- if location is none -%}
        {{ exceptions.raise_compiler_error("lake_table: " ~ relation ~ " has no meta.external_location with a quoted path") }}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob('" ~ location.group(1) ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
