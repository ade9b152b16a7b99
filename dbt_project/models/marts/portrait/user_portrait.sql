{#-
  One row per customer with at least one order in int_orders (not cancelled, on or before the as-of
  date A): purchase summary, the BTYD summary (frequency, recency, T, monetary value), RFM scores and
  segment, lifecycle stage. See _marts.yml for every rule.
-#}
with

order_days as (

    select * from {{ ref('int_customer_order_days') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

segment_rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

customer_orders as (

    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        sum(order_count) as order_count,
        sum(revenue) as total_revenue,
        count(*) - 1 as frequency,
        sum(case when order_day_number > 1 then revenue else 0 end) as repeat_revenue

    from order_days
    group by customer_id

),

btyd_summary as (

    select
        customer_id,
        first_order_date,
        last_order_date,
        order_count,
        total_revenue,
        total_revenue / order_count as avg_order_value,
        frequency,
        {{ dbt.datediff('first_order_date', 'last_order_date', 'day') }} as recency_days,
        {{ dbt.datediff('first_order_date', as_of_date(), 'day') }} as tenure_days,
        case when frequency = 0 then 0 else repeat_revenue / frequency end as monetary_value,
        {{ dbt.datediff('last_order_date', as_of_date(), 'day') }} as days_since_last_order

    from customer_orders

),

{#-
  Scores 1..5, 5 best: 1 + floor(5 × percent_rank), customers ranked from worst to best. Tied
  values share a rank, hence a score; the single best value (percent_rank 1) is capped at 5.
-#}
rfm_scores as (

    select
        *,
        least(5, 1 + floor(5 * percent_rank() over (order by days_since_last_order desc))) as r_score,
        least(5, 1 + floor(5 * percent_rank() over (order by order_count))) as f_score,
        least(5, 1 + floor(5 * percent_rank() over (order by total_revenue))) as m_score

    from btyd_summary

),

fm_scores as (

    select
        *,
        -- mean of F and M, halves rounded up
        floor((f_score + m_score + 1) / 2) as fm_score

    from rfm_scores

),

segmented as (

    select
        fm_scores.*,
        segment_rules.segment as rfm_segment

    from fm_scores
    left join segment_rules
        on fm_scores.r_score between segment_rules.r_score_min and segment_rules.r_score_max
        and fm_scores.fm_score between segment_rules.fm_score_min and segment_rules.fm_score_max

)

select
    cast(segmented.customer_id as {{ dbt.type_string() }}) as customer_id,
    segmented.first_order_date,
    segmented.last_order_date,
    cast(segmented.order_count as {{ dbt.type_bigint() }}) as order_count,
    cast(segmented.total_revenue as decimal(18, 2)) as total_revenue,
    cast(round(segmented.avg_order_value, 2) as decimal(18, 2)) as avg_order_value,
    cast(segmented.frequency as {{ dbt.type_int() }}) as frequency,
    cast(segmented.recency_days as {{ dbt.type_int() }}) as recency_days,
    cast(segmented.tenure_days as {{ dbt.type_int() }}) as tenure_days,
    cast(round(segmented.monetary_value, 2) as decimal(18, 2)) as monetary_value,
    cast(segmented.days_since_last_order as {{ dbt.type_int() }}) as days_since_last_order,
    cast(segmented.r_score as {{ dbt.type_int() }}) as r_score,
    cast(segmented.f_score as {{ dbt.type_int() }}) as f_score,
    cast(segmented.m_score as {{ dbt.type_int() }}) as m_score,
    cast(segmented.fm_score as {{ dbt.type_int() }}) as fm_score,
    cast(segmented.rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
    cast(
        case
            when segmented.tenure_days <= {{ int_var('lifecycle_new_days') }} then 'new'
            when segmented.days_since_last_order <= {{ int_var('lifecycle_active_days') }} then 'active'
            when segmented.days_since_last_order <= {{ int_var('lifecycle_at_risk_days') }} then 'at_risk'
            when segmented.days_since_last_order <= {{ int_var('lifecycle_dormant_days') }} then 'dormant'
            else 'churned'
        end as {{ dbt.type_string() }}
    ) as lifecycle_stage,
    customers.signup_date,
    cast(customers.gender as {{ dbt.type_string() }}) as gender,
    cast(customers.city_tier as {{ dbt.type_int() }}) as city_tier,
    cast(customers.province as {{ dbt.type_string() }}) as province,
    cast(customers.acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel

from segmented
left join customers
    on segmented.customer_id = customers.customer_id
where {{ required_sources_landed() }}
