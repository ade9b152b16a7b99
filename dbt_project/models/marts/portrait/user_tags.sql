{#-
  The portrait's tags in long form, one row per customer and tag that has a value, for audience
  building (WHERE tag = 'churn_risk' AND value = 'high'). A tag whose input is absent (an optional
  table that has not landed, a consent withdrawn, too few customers to fit the CLV model) has no row.
  Whole numbers are rendered as such, other numbers with at most 4 decimals, booleans as true / false.
-#}
{%- set tags = [
    ('basic', 'age_band', 'text'), ('basic', 'gender', 'text'), ('basic', 'city', 'text'),
    ('basic', 'city_tier', 'integer'), ('basic', 'province', 'text'), ('basic', 'region', 'text'),
    ('basic', 'tenure_band', 'text'),
    ('consumption', 'order_frequency_band', 'text'), ('consumption', 'aov_band', 'text'),
    ('consumption', 'spend_band', 'text'), ('consumption', 'top_category', 'text'),
    ('consumption', 'top_brand', 'text'), ('consumption', 'preferred_payment_method', 'text'),
    ('consumption', 'uses_instalments', 'boolean'), ('consumption', 'promotion_sensitive', 'boolean'),
    ('consumption', 'return_rate', 'number'),
    ('preference', 'main_device', 'text'), ('preference', 'main_platform', 'text'),
    ('preference', 'active_hour_band', 'text'), ('preference', 'active_day_type', 'text'),
    ('preference', 'browse_to_buy_ratio', 'number'), ('preference', 'is_researcher', 'boolean'),
    ('preference', 'search_session_share', 'number'),
    ('engagement', 'sessions_7d', 'integer'), ('engagement', 'sessions_30d', 'integer'),
    ('engagement', 'sessions_90d', 'integer'), ('engagement', 'active_days_7d', 'integer'),
    ('engagement', 'active_days_30d', 'integer'), ('engagement', 'active_days_90d', 'integer'),
    ('engagement', 'avg_session_dwell_seconds', 'number'), ('engagement', 'cart_abandonment_rate', 'number'),
    ('engagement', 'engagement_level', 'text'),
    ('reviews', 'review_count', 'integer'), ('reviews', 'avg_rating', 'number'),
    ('reviews', 'negative_review_share', 'number'), ('reviews', 'reviewer_type', 'text'),
    ('social', 'shares_sent', 'integer'), ('social', 'friends_referred', 'integer'),
    ('social', 'group_buys_joined', 'integer'), ('social', 'social_role', 'text'),
    ('credit', 'instalments_due', 'integer'), ('credit', 'overdue_rate', 'number'),
    ('credit', 'credit_tier', 'text'),
    ('value', 'rfm_segment', 'text'), ('value', 'lifecycle_stage', 'text'),
    ('value', 'value_tier', 'text'), ('value', 'churn_risk', 'text'), ('value', 'p_alive', 'number'),
    ('value', 'expected_purchases_90d', 'number'), ('value', 'predicted_clv_365d', 'number'),
] -%}
with

portrait as (

    select * from {{ ref('user_portrait') }}

),

tags as (

    {% for tag_group, tag, kind in tags -%}
    select
        customer_id,
        '{{ tag_group }}' as tag_group,
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
