{#-
  Per attribution model (and grain, when the mart has a grain column), conversions must add up to
  the number of rows of `orders` and revenue to their revenue (within `tolerance`, for fractional
  credits). When a raw table the mart requires has not landed, the mart must instead be empty.
  Returns one row per violation.
-#}
{% test attribution_reconciles_with_orders(model, orders, models, requires_sources, grains=none, revenue_column='total_amount', tolerance=0.01) %}
{%- set landed = [] -%}
{%- for table_name in requires_sources if ecom.source_has_landed('shop', table_name) -%}
    {%- do landed.append(table_name) -%}
{%- endfor -%}
{%- set grain_names = grains or ['all'] -%}

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
        {{ 'grain' if grains else "'all'" }} as grain,
        model,
        sum(conversions) as conversions,
        sum(revenue) as revenue
    from {{ model }}
    group by 1, 2

),

attribution_models as (

    {% for name in models -%}
    {% set outer = loop -%}
    {% for grain in grain_names -%}
    select '{{ grain }}' as grain, '{{ name }}' as model{{ ' union all' if not (outer.last and loop.last) }}
    {% endfor %}
    {%- endfor %}

)

select
    attribution_models.grain,
    attribution_models.model,
    expected.conversions as expected_conversions,
    attributed.conversions,
    expected.revenue as expected_revenue,
    attributed.revenue
from attribution_models
cross join expected
left join attributed
    on attribution_models.model = attributed.model
    and attribution_models.grain = attributed.grain
where abs(coalesce(attributed.conversions, 0) - expected.conversions) > {{ tolerance }}
    or abs(coalesce(attributed.revenue, 0) - expected.revenue) > {{ tolerance }}
{% else %}
select *
from {{ model }}
{% endif %}
{% endtest %}
