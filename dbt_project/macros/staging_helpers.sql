{#- Small building blocks shared by the staging models. -#}

{% macro clean_text(column) -%}
    {#- Trimmed text; an empty string means "no value". -#}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro latest_version_rank(key_columns) -%}
    {#-
      1 for the row to keep per primary key: the one from the file loaded last, then the highest line
      (a file that repeats a key keeps its last occurrence).
    -#}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _loaded_at desc, _file_id desc, _line desc
    )
{%- endmacro %}
