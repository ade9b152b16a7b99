{#-
  The portrait's tags in long form, one row per customer and tag that has a value, for audience
  building (WHERE tag = 'churn_risk' AND value = 'high'). A tag whose input is absent (an optional
  table that has not landed, a consent withdrawn, too few customers to fit the CLV model) has no row.
  Whole numbers are rendered as such, other numbers with at most 4 decimals, booleans as true / false.
-#}
{#- every tag of user_portrait (macros/portrait_tags.sql), group by group -#}
{%- set tags = portrait_columns() | selectattr('is_tag') | list -%}
with

portrait as (

    select * from {{ ref('user_portrait') }}

),

tags as (

    {% for column in tags -%}
    {%- set tag, kind = column.name, column.kind %}
    select
        customer_id,
        '{{ column.group }}' as tag_group,
        '{{ tag }}' as tag,
        {%- if kind == 'number' %}
        cast(round(cast({{ tag }} as double), 4) as {{ dbt.type_string() }}) as value,
        {%- elif kind == 'integer' %}
        cast(cast({{ tag }} as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}) as value,
        {%- elif kind == 'boolean' %}
        case when {{ tag }} then 'true' else 'false' end as value,
        {%- else %}
        cast({{ tag }} as {{ dbt.type_string() }}) as value,
        {%- endif %}
        as_of_date
    from portrait
    where {{ tag }} is not null
    {{ 'union all' if not loop.last }}
    {% endfor %}

)

select
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(tag_group as {{ dbt.type_string() }}) as tag_group,
    cast(tag as {{ dbt.type_string() }}) as tag,
    cast(value as {{ dbt.type_string() }}) as value,
    as_of_date

from tags
where {{ required_sources_landed() }}
