{#-
  The shop's vocabulary (seed shop_vocabulary, staged as stg_shop__vocabulary): staging maps every
  column the raw contract marks `vocabulary: <name>` to its canonical group. docs/vocabulary.md.
-#}

{% macro vocabulary_key(expression) -%}
    {#- How values are compared with the seed's: trimmed, lower case, '' for the empty value (ecom.vocabulary.value_key). -#}
    lower(trim(coalesce({{ expression }}, '')))
{%- endmacro %}

{% macro vocabulary_value(column, relation='source') -%}
    {#-
      The canonical group of raw `column` (read from `relation`, the model's import CTE of its source) in
      the vocabulary the raw contract gives it (the source column's meta.vocabulary); a value the seed
      does not map keeps its own (trimmed) name, and an empty value with no mapping stays null.
    -#}
    {%- set expression = relation ~ '.' ~ column -%}
    coalesce(
        {{ ecom.vocabulary_lookup(ecom.source_column_vocabulary(column), ecom.vocabulary_key(expression)) }},
        {{ ecom.clean_text(expression) }}
    )
{%- endmacro %}

{% macro vocabulary_lookup(vocabulary, value_key) -%}
    {#- The canonical group of `value_key` (a vocabulary_key expression) in `vocabulary`; null when unmapped. -#}
    {{ return(adapter.dispatch('vocabulary_lookup', 'ecom')(vocabulary, value_key)) }}
{%- endmacro %}

{% macro default__vocabulary_lookup(vocabulary, value_key) -%}
    (
        select shop_vocabulary.canonical_value
        from {{ ref('stg_shop__vocabulary') }} as shop_vocabulary
        where shop_vocabulary.vocabulary = '{{ vocabulary }}'
            and shop_vocabulary.value_key = {{ value_key }}
    )
{%- endmacro %}

{% macro duckdb__vocabulary_lookup(vocabulary, value_key) -%}
    {#- The vocabulary as one map, built once (an uncorrelated subquery), looked up per row: the correlated
        subquery of default__ cost stg_shop__events 283 of its 324 s at medium (25M rows, 4 columns). -#}
    map_extract_value(
        (
            select map(list(value_key), list(canonical_value))
            from {{ ref('stg_shop__vocabulary') }}
            where vocabulary = '{{ vocabulary }}'
        ),
        {{ value_key }}
    )
{%- endmacro %}

{% macro spark__vocabulary_lookup(vocabulary, value_key) -%}
    try_element_at(
        (
            select map_from_arrays(collect_list(value_key), collect_list(canonical_value))
            from {{ ref('stg_shop__vocabulary') }}
            where vocabulary = '{{ vocabulary }}'
        ),
        {{ value_key }}
    )
{%- endmacro %}

{% macro source_column_vocabulary(column) -%}
    {#- The vocabulary of `column` of the model's one source (generated from the raw contract). -#}
    {%- if execute -%}
        {%- set source_name, table_name = model.sources[0] -%}
        {%- set node = ecom.source_node(source_name, table_name) -%}
        {%- set vocabulary = (node.columns.get(column) or {}).get('meta', {}).get('vocabulary') -%}
        {%- if not vocabulary -%}
            {{ exceptions.raise_compiler_error(
                "source " ~ source_name ~ "." ~ table_name ~ " column " ~ column
                ~ " has no vocabulary in the raw contract") }}
        {%- endif -%}
        {{- vocabulary -}}
    {%- endif -%}
{%- endmacro %}

{% macro vocabulary_version() -%}
    {#- A fingerprint of the whole vocabulary: incremental models store it and re-derive every key when it changes. -#}
    (
        select md5(coalesce(string_agg(
            vocabulary || chr(31) || value_key || chr(31) || canonical_value, chr(30)
            order by vocabulary, value_key
        ), ''))
        from {{ ref('stg_shop__vocabulary') }}
    )
{%- endmacro %}

{% macro vocabulary_changed_since_last_build() -%}
    {#- SQL condition: the vocabulary differs from the one this incremental model's rows were mapped with. -#}
    {{ ecom.vocabulary_version() }} is distinct from (select max(_vocabulary_version) from {{ this }})
{%- endmacro %}
