{% macro spend_when_landed(spend_column, spend_relation='marketing_spend') -%}
    {#-
      The spend an attribution mart publishes for a row: its summed spend (spend_column of the mart's
      spend CTE joined to the row), 0 when it has none, and null when marketing_spend (the mart's import
      CTE spend_relation) has no rows at all, that is, spend data never landed.
    -#}
    case when exists (select 1 from {{ spend_relation }}) then coalesce({{ spend_column }}, 0) end
{%- endmacro %}
