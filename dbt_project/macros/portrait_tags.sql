{#-
  The portrait's tags, one macro per tag group (user_tags.tag_group). Each returns its user_portrait
  columns as portrait_column(group, name, kind, rule, is_tag):
  - kind: text | integer | number | boolean, the column's type and how user_tags renders its value;
  - rule: SQL over user_portrait's CTEs: portrait (summary, RFM, customer attributes, CLV) and the
    summaries purchases, sessions, reviews, social, credit (models/intermediate/portrait);
  - is_tag: false for a metric user_portrait shows beside the tags but user_tags leaves out.
  A new tag is one entry here, plus its column (contract and definition) in _portrait__models.yml:
  user_portrait and user_tags follow. Thresholds are dbt vars (dbt_project.yml).
-#}

{% macro portrait_column(group, name, kind, rule, is_tag=true) -%}
    {%- if kind not in ['text', 'integer', 'number', 'boolean'] -%}
        {{ exceptions.raise_compiler_error("portrait column " ~ name ~ ": unknown kind " ~ kind) }}
    {%- endif -%}
    {{ return({'group': group, 'name': name, 'kind': kind, 'rule': rule | trim, 'is_tag': is_tag}) }}
{%- endmacro %}

{% macro portrait_column_type(kind) -%}
    {{ return({'text': dbt.type_string(), 'integer': dbt.type_int(), 'number': 'double',
               'boolean': dbt.type_boolean()}[kind]) }}
{%- endmacro %}

{% macro portrait_columns() -%}
    {#- Every tag group's columns, in group order. -#}
    {{ return(portrait_basic_tags() + portrait_consumption_tags() + portrait_preference_tags()
              + portrait_engagement_tags() + portrait_reviews_tags() + portrait_social_tags()
              + portrait_credit_tags() + portrait_value_tags()) }}
{%- endmacro %}

{% macro portrait_basic_tags() -%}
    {%- set age_band -%}
        case
            when portrait.birth_date is null then null
            when {{ age_years('portrait.birth_date') }} < 18 then 'under_18'
            when {{ age_years('portrait.birth_date') }} < 25 then '18-24'
            when {{ age_years('portrait.birth_date') }} < 35 then '25-34'
            when {{ age_years('portrait.birth_date') }} < 45 then '35-44'
            when {{ age_years('portrait.birth_date') }} < 55 then '45-54'
            else '55+'
        end
    {%- endset -%}
    {%- set tenure_band -%}
        case
            when {{ customer_age_days() }} < 90 then 'under_3_months'
            when {{ customer_age_days() }} < 365 then '3_to_12_months'
            when {{ customer_age_days() }} < 730 then '1_to_2_years'
            else 'over_2_years'
        end
    {%- endset -%}
    {%- set tags = [
        portrait_column('basic', 'age_band', 'text', age_band),
        portrait_column('basic', 'gender', 'text', 'portrait.gender'),
        portrait_column('basic', 'tenure_band', 'text', tenure_band),
    ] -%}
    {#- a withdrawn location consent empties every location column -#}
    {%- for name, kind in [('city', 'text'), ('city_tier', 'integer'), ('province', 'text'), ('region', 'text')] -%}
        {%- do tags.append(portrait_column('basic', name, kind,
            'case when not portrait.location_withdrawn then portrait.' ~ name ~ ' end')) -%}
    {%- endfor -%}
    {{ return(tags) }}
{%- endmacro %}

{% macro portrait_consumption_tags() -%}
    {%- set order_frequency_band -%}
        case
            when portrait.order_count >= {{ int_var('order_frequency_frequent_min') }} then 'frequent'
            when portrait.order_count >= {{ int_var('order_frequency_repeat_min') }} then 'repeat'
            else 'one_time'
        end
    {%- endset -%}
    {%- set bands = {} -%}
    {%- for band, column in [('aov_band', 'avg_order_value'), ('spend_band', 'total_revenue')] -%}
        {%- set rule -%}
            case
                when portrait.{{ column }} >= {{ int_var(band ~ '_high_min') }} then 'high'
                when portrait.{{ column }} >= {{ int_var(band ~ '_mid_min') }} then 'mid'
                else 'low'
            end
        {%- endset -%}
        {%- do bands.update({band: rule}) -%}
    {%- endfor -%}
    {%- set promotion_sensitive -%}
        purchases.promotion_order_share * 100 >= {{ int_var('promotion_sensitive_share_pct') }}
    {%- endset -%}
    {{ return([
        portrait_column('consumption', 'order_frequency_band', 'text', order_frequency_band),
        portrait_column('consumption', 'aov_band', 'text', bands['aov_band']),
        portrait_column('consumption', 'spend_band', 'text', bands['spend_band']),
        portrait_column('consumption', 'top_category', 'text', 'purchases.top_category'),
        portrait_column('consumption', 'top_brand', 'text', 'purchases.top_brand'),
        portrait_column('consumption', 'preferred_payment_method', 'text', 'purchases.preferred_payment_method'),
        portrait_column('consumption', 'uses_instalments', 'boolean', 'purchases.uses_instalments'),
        portrait_column('consumption', 'promotion_order_share', 'number', 'purchases.promotion_order_share',
            is_tag=false),
        portrait_column('consumption', 'promotion_sensitive', 'boolean', promotion_sensitive),
        portrait_column('consumption', 'return_rate', 'number', 'purchases.return_rate'),
    ]) }}
{%- endmacro %}

{% macro portrait_preference_tags() -%}
    {%- set tags = [] -%}
    {%- for name, kind in [('main_device', 'text'), ('main_platform', 'text'), ('active_hour_band', 'text'),
                           ('active_day_type', 'text'), ('browse_to_buy_ratio', 'number')] -%}
        {%- do tags.append(portrait_column('preference', name, kind, 'sessions.' ~ name)) -%}
    {%- endfor -%}
    {%- set is_researcher -%}
        sessions.views_per_purchase >= {{ int_var('researcher_views_per_purchase') }}
    {%- endset -%}
    {{ return(tags + [
        portrait_column('preference', 'views_per_purchase', 'number', 'sessions.views_per_purchase',
            is_tag=false),
        portrait_column('preference', 'is_researcher', 'boolean', is_researcher),
        portrait_column('preference', 'search_session_share', 'number', 'sessions.search_session_share'),
    ]) }}
{%- endmacro %}

{% macro portrait_engagement_tags() -%}
    {%- set tags = [] -%}
    {%- for name in ['sessions_7d', 'sessions_30d', 'sessions_90d', 'active_days_7d', 'active_days_30d',
                     'active_days_90d'] -%}
        {%- do tags.append(portrait_column('engagement', name, 'integer', 'sessions.' ~ name)) -%}
    {%- endfor -%}
    {%- set engagement_level -%}
        case
            when sessions.active_days_30d is null then null
            when sessions.active_days_30d >= {{ int_var('engagement_high_active_days_30d') }} then 'high'
            when sessions.active_days_30d >= {{ int_var('engagement_medium_active_days_30d') }} then 'medium'
            when sessions.active_days_30d >= 1 then 'low'
            else 'inactive'
        end
    {%- endset -%}
    {{ return(tags + [
        portrait_column('engagement', 'avg_session_dwell_seconds', 'number', 'sessions.avg_session_dwell_seconds'),
        portrait_column('engagement', 'cart_abandonment_rate', 'number', 'sessions.cart_abandonment_rate'),
        portrait_column('engagement', 'engagement_level', 'text', engagement_level),
    ]) }}
{%- endmacro %}

{% macro portrait_reviews_tags() -%}
    {%- set reviewer_type -%}
        case
            when reviews.review_count is null then null
            when reviews.review_count = 0 then 'silent'
            when reviews.negative_review_share * 100 >= {{ int_var('negative_review_share_pct') }} then 'critical'
            else 'satisfied'
        end
    {%- endset -%}
    {{ return([
        portrait_column('reviews', 'review_count', 'integer', 'reviews.review_count'),
        portrait_column('reviews', 'avg_rating', 'number', 'reviews.avg_rating'),
        portrait_column('reviews', 'negative_review_share', 'number', 'reviews.negative_review_share'),
        portrait_column('reviews', 'reviewer_type', 'text', reviewer_type),
    ]) }}
{%- endmacro %}

{% macro portrait_social_tags() -%}
    {%- set social_role -%}
        case
            when social.shares_sent is null then null
            when social.friends_referred > 0 then 'referrer'
            when social.group_buys_joined > 0 then 'group_buyer'
            when social.shares_sent > 0 then 'sharer'
            else 'none'
        end
    {%- endset -%}
    {{ return([
        portrait_column('social', 'shares_sent', 'integer', 'social.shares_sent'),
        portrait_column('social', 'friends_referred', 'integer', 'social.friends_referred'),
        portrait_column('social', 'group_buys_joined', 'integer', 'social.group_buys_joined'),
        portrait_column('social', 'social_role', 'text', social_role),
    ]) }}
{%- endmacro %}

{% macro portrait_credit_tags() -%}
    {%- set credit_tier -%}
        case
            when credit.instalments_due is null then null
            when credit.instalments_due = 0 then 'no_history'
            when credit.overdue_rate = 0 then 'A'
            when credit.overdue_rate * 100 <= {{ int_var('credit_tier_b_max_overdue_pct') }} then 'B'
            else 'C'
        end
    {%- endset -%}
    {{ return([
        portrait_column('credit', 'instalments_due', 'integer', 'credit.instalments_due'),
        portrait_column('credit', 'overdue_rate', 'number', 'credit.overdue_rate'),
        portrait_column('credit', 'credit_tier', 'text', credit_tier),
    ]) }}
{%- endmacro %}

{% macro portrait_value_tags() -%}
    {%- set lifecycle_stage -%}
        case
            when portrait.tenure_days <= {{ int_var('lifecycle_new_days') }} then 'new'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_active_days') }}
                and portrait.last_gap_days > {{ int_var('lifecycle_at_risk_days') }} then 'won_back'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_active_days') }} then 'active'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_at_risk_days') }} then 'at_risk'
            when portrait.days_since_last_order <= {{ int_var('lifecycle_dormant_days') }} then 'dormant'
            else 'churned'
        end
    {%- endset -%}
    {%- set value_tier -%}
        case
            when portrait.value_top_share is null then null
            when portrait.value_top_share * 100 <= {{ int_var('value_tier_high_top_pct') }} then 'high'
            when portrait.value_top_share * 100 <= {{ int_var('value_tier_medium_top_pct') }} then 'medium'
            else 'low'
        end
    {%- endset -%}
    {%- set churn_risk -%}
        case
            when portrait.p_alive is null then null
            when portrait.p_alive * 100 < {{ int_var('churn_risk_high_below_pct') }} then 'high'
            when portrait.p_alive * 100 < {{ int_var('churn_risk_medium_below_pct') }} then 'medium'
            else 'low'
        end
    {%- endset -%}
    {{ return([
        portrait_column('value', 'rfm_segment', 'text', 'portrait.rfm_segment'),
        portrait_column('value', 'lifecycle_stage', 'text', lifecycle_stage),
        portrait_column('value', 'p_alive', 'number', 'portrait.p_alive'),
        portrait_column('value', 'expected_purchases_90d', 'number', 'portrait.expected_purchases_90d'),
        portrait_column('value', 'expected_order_value', 'number', 'portrait.expected_order_value', is_tag=false),
        portrait_column('value', 'predicted_clv_365d', 'number', 'portrait.predicted_clv_365d'),
        portrait_column('value', 'value_tier', 'text', value_tier),
        portrait_column('value', 'churn_risk', 'text', churn_risk),
    ]) }}
{%- endmacro %}
