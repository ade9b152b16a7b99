{#-
  One row per customer with at least one order in int_orders_filtered (not cancelled, on or before the as-of
  date A): purchase summary, the BTYD summary (frequency, recency, T, monetary value), RFM scores and
  segment, lifecycle stage, predicted value and churn risk (int_customer_lifetime_values_predicted) and the portrait's
  tags (metrics from int_portrait_behaviour). See _portrait__models.yml for every rule.
-#}
with

btyd_summary as (

    select * from {{ ref('int_customer_btyd_summarized') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

segment_rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

province_regions as (

    select * from {{ ref('province_regions') }}

),

behaviour as (

    select * from {{ ref('int_portrait_behaviour') }}

),

clv as (

    select * from {{ ref('int_customer_lifetime_values_predicted') }}

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

),

{#- value tier: customers ranked by predicted_clv_365d, best first; cume_dist gives the top share -#}
valued as (

    select
        clv.*,
        case
            when clv.predicted_clv_365d is null then null
            else cume_dist() over (order by clv.predicted_clv_365d desc)
        end as value_top_share

    from clv

),

portrait as (

    select
        segmented.*,
        customers.signup_date,
        customers.gender,
        customers.birth_date,
        coalesce(behaviour.location_withdrawn, false) as location_withdrawn,
        customers.city,
        customers.city_tier,
        customers.province,
        province_regions.region,
        customers.acquisition_channel,
        behaviour.customer_id is not null as has_behaviour,
        behaviour.preferred_payment_method,
        behaviour.uses_instalments,
        behaviour.promotion_order_share,
        behaviour.return_rate,
        behaviour.top_category,
        behaviour.top_brand,
        behaviour.main_device,
        behaviour.main_platform,
        behaviour.active_hour_band,
        behaviour.active_day_type,
        behaviour.browse_to_buy_ratio,
        behaviour.views_per_purchase,
        behaviour.search_session_share,
        behaviour.sessions_7d,
        behaviour.sessions_30d,
        behaviour.sessions_90d,
        behaviour.active_days_7d,
        behaviour.active_days_30d,
        behaviour.active_days_90d,
        behaviour.avg_session_dwell_seconds,
        behaviour.cart_abandonment_rate,
        behaviour.review_count,
        behaviour.avg_rating,
        behaviour.negative_review_share,
        behaviour.shares_sent,
        behaviour.friends_referred,
        behaviour.group_buys_joined,
        behaviour.instalments_due,
        behaviour.overdue_rate,
        valued.p_alive,
        valued.expected_purchases_90d,
        valued.expected_order_value,
        valued.predicted_clv_365d,
        valued.value_top_share

    from segmented
    left join customers
        on segmented.customer_id = customers.customer_id
    left join province_regions
        on customers.province = province_regions.province
    left join behaviour
        on segmented.customer_id = behaviour.customer_id
    left join valued
        on segmented.customer_id = valued.customer_id

)

select
    cast(portrait.customer_id as {{ dbt.type_string() }}) as customer_id,
    portrait.first_order_date,
    portrait.last_order_date,
    cast(portrait.order_count as {{ dbt.type_bigint() }}) as order_count,
    cast(portrait.total_revenue as decimal(18, 2)) as total_revenue,
    cast(round(portrait.avg_order_value, 2) as decimal(18, 2)) as avg_order_value,
    cast(portrait.frequency as {{ dbt.type_int() }}) as frequency,
    cast(portrait.recency_days as {{ dbt.type_int() }}) as recency_days,
    cast(portrait.tenure_days as {{ dbt.type_int() }}) as tenure_days,
    cast(round(portrait.monetary_value, 2) as decimal(18, 2)) as monetary_value,
    cast(portrait.days_since_last_order as {{ dbt.type_int() }}) as days_since_last_order,
    cast(portrait.r_score as {{ dbt.type_int() }}) as r_score,
    cast(portrait.f_score as {{ dbt.type_int() }}) as f_score,
    cast(portrait.m_score as {{ dbt.type_int() }}) as m_score,
    cast(portrait.fm_score as {{ dbt.type_int() }}) as fm_score,
    cast(portrait.rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
    cast(
        case
            when portrait.tenure_days <= {{ int_var('lifecycle_new_days') }} then 'new'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_active_days') }}
                and portrait.last_gap_days > {{ int_var('lifecycle_at_risk_days') }} then 'won_back'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_active_days') }} then 'active'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_at_risk_days') }} then 'at_risk'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_dormant_days') }} then 'dormant'
            else 'churned'
        end as {{ dbt.type_string() }}
    ) as lifecycle_stage,
    portrait.signup_date,
    cast(portrait.gender as {{ dbt.type_string() }}) as gender,
    cast(case when not portrait.location_withdrawn then portrait.city_tier end as {{ dbt.type_int() }})
        as city_tier,
    cast(case when not portrait.location_withdrawn then portrait.province end as {{ dbt.type_string() }})
        as province,
    cast(portrait.acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
    -- basic
    cast(
        case
            when portrait.birth_date is null then null
            when {{ age_years('portrait.birth_date') }} < 18 then 'under_18'
            when {{ age_years('portrait.birth_date') }} < 25 then '18-24'
            when {{ age_years('portrait.birth_date') }} < 35 then '25-34'
            when {{ age_years('portrait.birth_date') }} < 45 then '35-44'
            when {{ age_years('portrait.birth_date') }} < 55 then '45-54'
            else '55+'
        end as {{ dbt.type_string() }}
    ) as age_band,
    cast(case when not portrait.location_withdrawn then portrait.city end as {{ dbt.type_string() }}) as city,
    cast(case when not portrait.location_withdrawn then portrait.region end as {{ dbt.type_string() }})
        as region,
    cast(
        case
            when {{ customer_age_days() }} < 90 then 'under_3_months'
            when {{ customer_age_days() }} < 365 then '3_to_12_months'
            when {{ customer_age_days() }} < 730 then '1_to_2_years'
            else 'over_2_years'
        end as {{ dbt.type_string() }}
    ) as tenure_band,
    -- consumption
    cast(
        case
            when portrait.order_count >= {{ int_var('order_frequency_frequent_min') }} then 'frequent'
            when portrait.order_count >= {{ int_var('order_frequency_repeat_min') }} then 'repeat'
            else 'one_time'
        end as {{ dbt.type_string() }}
    ) as order_frequency_band,
    cast(
        case
            when portrait.avg_order_value >= {{ int_var('aov_band_high_min') }} then 'high'
            when portrait.avg_order_value >= {{ int_var('aov_band_mid_min') }} then 'mid'
            else 'low'
        end as {{ dbt.type_string() }}
    ) as aov_band,
    cast(
        case
            when portrait.total_revenue >= {{ int_var('spend_band_high_min') }} then 'high'
            when portrait.total_revenue >= {{ int_var('spend_band_mid_min') }} then 'mid'
            else 'low'
        end as {{ dbt.type_string() }}
    ) as spend_band,
    cast(portrait.top_category as {{ dbt.type_string() }}) as top_category,
    cast(portrait.top_brand as {{ dbt.type_string() }}) as top_brand,
    cast(portrait.preferred_payment_method as {{ dbt.type_string() }}) as preferred_payment_method,
    cast(portrait.uses_instalments as {{ dbt.type_boolean() }}) as uses_instalments,
    cast(portrait.promotion_order_share as double) as promotion_order_share,
    cast(
        portrait.promotion_order_share * 100 >= {{ int_var('promotion_sensitive_share_pct') }}
        as {{ dbt.type_boolean() }}
    ) as promotion_sensitive,
    cast(portrait.return_rate as double) as return_rate,
    -- preference habits
    cast(portrait.main_device as {{ dbt.type_string() }}) as main_device,
    cast(portrait.main_platform as {{ dbt.type_string() }}) as main_platform,
    cast(portrait.active_hour_band as {{ dbt.type_string() }}) as active_hour_band,
    cast(portrait.active_day_type as {{ dbt.type_string() }}) as active_day_type,
    cast(portrait.browse_to_buy_ratio as double) as browse_to_buy_ratio,
    cast(portrait.views_per_purchase as double) as views_per_purchase,
    cast(
        portrait.views_per_purchase >= {{ int_var('researcher_views_per_purchase') }}
        as {{ dbt.type_boolean() }}
    ) as is_researcher,
    cast(portrait.search_session_share as double) as search_session_share,
    -- engagement
    cast(portrait.sessions_7d as {{ dbt.type_int() }}) as sessions_7d,
    cast(portrait.sessions_30d as {{ dbt.type_int() }}) as sessions_30d,
    cast(portrait.sessions_90d as {{ dbt.type_int() }}) as sessions_90d,
    cast(portrait.active_days_7d as {{ dbt.type_int() }}) as active_days_7d,
    cast(portrait.active_days_30d as {{ dbt.type_int() }}) as active_days_30d,
    cast(portrait.active_days_90d as {{ dbt.type_int() }}) as active_days_90d,
    cast(portrait.avg_session_dwell_seconds as double) as avg_session_dwell_seconds,
    cast(portrait.cart_abandonment_rate as double) as cart_abandonment_rate,
    cast(
        case
            when portrait.active_days_30d is null then null
            when portrait.active_days_30d >= {{ int_var('engagement_high_active_days_30d') }} then 'high'
            when portrait.active_days_30d >= {{ int_var('engagement_medium_active_days_30d') }} then 'medium'
            when portrait.active_days_30d >= 1 then 'low'
            else 'inactive'
        end as {{ dbt.type_string() }}
    ) as engagement_level,
    -- reviews
    cast(portrait.review_count as {{ dbt.type_int() }}) as review_count,
    cast(portrait.avg_rating as double) as avg_rating,
    cast(portrait.negative_review_share as double) as negative_review_share,
    cast(
        case
            when portrait.review_count is null then null
            when portrait.review_count = 0 then 'silent'
            when portrait.negative_review_share * 100 >= {{ int_var('negative_review_share_pct') }} then 'critical'
            else 'satisfied'
        end as {{ dbt.type_string() }}
    ) as reviewer_type,
    -- social
    cast(portrait.shares_sent as {{ dbt.type_int() }}) as shares_sent,
    cast(portrait.friends_referred as {{ dbt.type_int() }}) as friends_referred,
    cast(portrait.group_buys_joined as {{ dbt.type_int() }}) as group_buys_joined,
    cast(
        case
            when portrait.shares_sent is null then null
            when portrait.friends_referred > 0 then 'referrer'
            when portrait.group_buys_joined > 0 then 'group_buyer'
            when portrait.shares_sent > 0 then 'sharer'
            else 'none'
        end as {{ dbt.type_string() }}
    ) as social_role,
    -- credit and risk
    cast(portrait.instalments_due as {{ dbt.type_int() }}) as instalments_due,
    cast(portrait.overdue_rate as double) as overdue_rate,
    cast(
        case
            when portrait.instalments_due is null then null
            when portrait.instalments_due = 0 then 'no_history'
            when portrait.overdue_rate = 0 then 'A'
            when portrait.overdue_rate * 100 <= {{ int_var('credit_tier_b_max_overdue_pct') }} then 'B'
            else 'C'
        end as {{ dbt.type_string() }}
    ) as credit_tier,
    -- predicted value and churn risk
    cast(portrait.p_alive as double) as p_alive,
    cast(portrait.expected_purchases_90d as double) as expected_purchases_90d,
    cast(portrait.expected_order_value as double) as expected_order_value,
    cast(portrait.predicted_clv_365d as double) as predicted_clv_365d,
    cast(
        case
            when portrait.value_top_share is null then null
            when portrait.value_top_share * 100 <= {{ int_var('value_tier_high_top_pct') }} then 'high'
            when portrait.value_top_share * 100 <= {{ int_var('value_tier_medium_top_pct') }} then 'medium'
            else 'low'
        end as {{ dbt.type_string() }}
    ) as value_tier,
    cast(
        case
            when portrait.p_alive is null then null
            when portrait.p_alive * 100 < {{ int_var('churn_risk_high_below_pct') }} then 'high'
            when portrait.p_alive * 100 < {{ int_var('churn_risk_medium_below_pct') }} then 'medium'
            else 'low'
        end as {{ dbt.type_string() }}
    ) as churn_risk,
    portrait.as_of_date

from portrait
where {{ required_sources_landed() }}
