{#-
  Size and value of each portrait segment, per dimension (rfm_segment, lifecycle_stage, value_tier,
  churn_risk): customers and their share, revenue to date and its share, average predicted 365-day
  value. Customers without a value (no CLV fit) count under the segment 'unscored'.
-#}
{%- set dimensions = ['rfm_segment', 'lifecycle_stage', 'value_tier', 'churn_risk'] -%}
with

portrait as (

    select * from {{ ref('user_portrait') }}

),

totals as (

    select
        count(*) as customers,
        sum(total_revenue) as revenue
    from portrait

),

segments as (

    {% for dimension in dimensions -%}
    select
        '{{ dimension }}' as dimension,
        coalesce({{ dimension }}, 'unscored') as segment,
        count(*) as customers,
        sum(total_revenue) as revenue,
        avg(predicted_clv_365d) as avg_predicted_clv_365d,
        max(as_of_date) as as_of_date
    from portrait
    group by coalesce({{ dimension }}, 'unscored')
    {{ 'union all' if not loop.last }}
    {% endfor %}

)

select
    cast(segments.dimension as {{ dbt.type_string() }}) as dimension,
    cast(segments.segment as {{ dbt.type_string() }}) as segment,
    cast(segments.customers as {{ dbt.type_bigint() }}) as customers,
    cast(segments.customers as double) / totals.customers as customer_share,
    cast(segments.revenue as decimal(18, 2)) as revenue,
    cast(segments.revenue as double) / nullif(totals.revenue, 0) as revenue_share,
    cast(segments.avg_predicted_clv_365d as double) as avg_predicted_clv_365d,
    segments.as_of_date

from segments
cross join totals
where {{ required_sources_landed() }}
