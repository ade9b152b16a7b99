{#-
  The raw column's values that no row of `vocabulary` in the seed shop_vocabulary maps: kept under
  their own names by staging. One row per value, with its rows. Generated on the vocabulary columns of
  the dbt sources from the raw contract; warns by default, so a steward can map them in the seed
  (docs/vocabulary.md), and errs for vocabularies the model must interpret. An optional table that
  never landed has no relation, so nothing unmapped.
-#}
{% test vocabulary_mapped(model, column_name, vocabulary) %}
{{ config(severity='warn') }}
{%- set landed = not execute or adapter.get_relation(
        database=model.database, schema=model.schema, identifier=model.identifier) is not none %}

{% if not landed -%}
select null as unmapped_value, 0 as unmapped_rows where false
{%- else -%}
select
    {{ column_name }} as unmapped_value,
    count(*) as unmapped_rows

from {{ model }}
where {{ column_name }} is not null
    and {{ ecom.vocabulary_key(column_name) }} not in (
        select value_key from {{ ref('stg_shop__vocabulary') }} where vocabulary = '{{ vocabulary }}'
    )
group by {{ column_name }}
{%- endif %}

{% endtest %}
