{#-
  sum() whose bits do not depend on row order or DuckDB's threads (docs/reliability.md, "Determinism").

  DuckDB adds a group's values in the order its parallel hash aggregation and joins deliver them, and float addition
  is not associative: a plain sum() of the same rows can differ in the last bits between two builds. Here the
  group's values are sorted first and added in that order, so the same multiset of values always gives the same
  bits. NULLs count as nothing, and a group without values (or whose `where` keeps none) is NULL, as with sum().
  Costs a sort per group: meant for the marts' sums over lines, not over hourly rows.
-#}
{% macro stable_sum(expr, where=none) -%}
list_sum(list_sort(list({{ expr }}){% if where %} filter (where {{ where }}){% endif %}))
{%- endmacro %}
