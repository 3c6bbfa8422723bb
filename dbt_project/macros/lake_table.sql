{#-
    Selects the lake file behind a source `relation` (its meta.external_location), or, when that file does not
    exist yet (an optional dataset never dropped, an engine that has not run), an empty relation with the given
    `columns` ({name: duckdb type}), so the views and marts still build and simply hold no rows.
    Only checked at execution: at parse time the source() call registers the lineage.
    Every source of the lake is read through this macro: it puts the home into the location (lake_location).
-#}
{% macro lake_table(relation, columns) -%}
    {%- if execute and not lake_file_exists(relation) -%}
        {{ log("lake_table: no file behind " ~ relation ~ "; treated as empty", info=true) }}
        select
        {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- elif execute -%}
        select * from {{ lake_location(relation) }}
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}


{#-
    The source's external location with its placeholder $LINGTAN_HOME replaced by the home folder (env var
    LINGTAN_HOME, default '../data'). Called at execution only: an env_var() read while parsing would be recorded
    in the parse state and make dbt re-parse the model for each home; the sources' YAML holds the placeholder
    for the same reason (models/staging/lake/_lake__sources.yml).
-#}
{% macro lake_location(relation) -%}
    {{ return(relation.render() | replace("$LINGTAN_HOME", env_var("LINGTAN_HOME", "../data"))) }}
{%- endmacro %}


{#- True when the path or glob quoted in the relation's external location matches at least one file. -#}
{% macro lake_file_exists(relation) -%}
    {%- set location = modules.re.search("'([^']+)'", lake_location(relation)) -%}
    {%- if location is none -%}
        {{ exceptions.raise_compiler_error("lake_table: " ~ relation ~ " has no meta.external_location with a quoted path") }}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob('" ~ location.group(1) ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
