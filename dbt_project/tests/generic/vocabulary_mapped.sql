{#-
  The column's values that are no group of `vocabulary` (seed shop_vocabulary): values the shop's
  vocabulary does not map, kept under their own names. One row per value, with its rows. Warns by
  default, so a steward can map them in the seed (docs/vocabulary.md).
-#}
{% test vocabulary_mapped(model, column_name, vocabulary) %}
{{ config(severity='warn') }}

select
    {{ column_name }} as unmapped_value,
    count(*) as unmapped_rows

from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (
        select canonical_value from {{ ref('stg_shop__vocabulary') }} where vocabulary = '{{ vocabulary }}'
    )
group by {{ column_name }}

{% endtest %}
