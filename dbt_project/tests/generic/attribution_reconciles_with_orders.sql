{#-
  Per attribution model, conversions must add up to the number of orders and revenue to their
  revenue (within `tolerance`, for the fractional credits of linear). When a raw table the mart
  requires has not landed, the mart must instead be empty. Returns one row per violation.
-#}
{% test attribution_reconciles_with_orders(model, orders, models, requires_sources, revenue_column='total_amount', tolerance=0.01) %}
{%- set landed = [] -%}
{%- for table_name in requires_sources if ecom.source_has_landed('shop', table_name) -%}
    {%- do landed.append(table_name) -%}
{%- endfor -%}

{% if landed | length == requires_sources | length %}
with

expected as (

    select
        count(*) as conversions,
        coalesce(sum({{ revenue_column }}), 0) as revenue
    from {{ orders }}

),

attributed as (

    select
        model,
        sum(conversions) as conversions,
        sum(revenue) as revenue
    from {{ model }}
    group by model

),

attribution_models as (

    {% for name in models -%}
    select '{{ name }}' as model{{ ' union all' if not loop.last }}
    {% endfor %}

)

select
    attribution_models.model,
    expected.conversions as expected_conversions,
    attributed.conversions,
    expected.revenue as expected_revenue,
    attributed.revenue
from attribution_models
cross join expected
left join attributed
    on attribution_models.model = attributed.model
where abs(coalesce(attributed.conversions, 0) - expected.conversions) > {{ tolerance }}
    or abs(coalesce(attributed.revenue, 0) - expected.revenue) > {{ tolerance }}
{% else %}
select *
from {{ model }}
{% endif %}
{% endtest %}
