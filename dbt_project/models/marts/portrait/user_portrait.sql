{#-
  One row per customer with at least one order in int_orders_filtered (not cancelled, on or before the
  as-of date A): purchase summary, the BTYD summary (frequency, recency, T, monetary value), RFM scores
  and segment (int_customer_rfm_scored), then the portrait's tags, group by group: each rule is declared once in
  macros/portrait_tags.sql (user_tags reads the same list), over the customer summaries of
  models/intermediate/portrait. See _portrait__models.yml for every definition.
-#}
with

segmented as (

    select * from {{ ref('int_customer_rfm_scored') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

province_regions as (

    select * from {{ ref('province_regions') }}

),

consent_windows as (

    select * from {{ ref('int_customer_consents_windowed') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_summarized') }}

),

sessions as (

    select * from {{ ref('int_customer_sessions_summarized') }}

),

reviews as (

    select * from {{ ref('int_customer_reviews_summarized') }}

),

social as (

    select * from {{ ref('int_customer_social_summarized') }}

),

credit as (

    select * from {{ ref('int_customer_credit_summarized') }}

),

clv as (

    select * from {{ ref('int_customer_lifetime_values_predicted') }}

),

{# value tier: customers ranked by predicted_clv_365d, best first; cume_dist gives the top share -#}
valued as (

    select
        clv.*,
        case
            when clv.predicted_clv_365d is null then null
            else cume_dist() over (order by clv.predicted_clv_365d desc)
        end as value_top_share

    from clv

),

{# location withdrawn: the customer's last location consent change by A is a withdrawal -#}
location_withdrawals as (

    select distinct customer_id
    from consent_windows
    where data_type = 'location' and withdrawn_until is null

),

portrait as (

    select
        segmented.*,
        customers.signup_date,
        customers.gender,
        customers.birth_date,
        location_withdrawals.customer_id is not null as location_withdrawn,
        customers.city,
        customers.city_tier,
        customers.province,
        province_regions.region,
        customers.acquisition_channel,
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
    left join location_withdrawals
        on segmented.customer_id = location_withdrawals.customer_id
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
    portrait.signup_date,
    cast(portrait.acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
    {%- for column in portrait_columns() %}
    cast({{ column.rule }} as {{ portrait_column_type(column.kind) }}) as {{ column.name }},
    {%- endfor %}
    portrait.as_of_date

from portrait
left join purchases on portrait.customer_id = purchases.customer_id
left join sessions on portrait.customer_id = sessions.customer_id
left join reviews on portrait.customer_id = reviews.customer_id
left join social on portrait.customer_id = social.customer_id
left join credit on portrait.customer_id = credit.customer_id
where {{ required_sources_landed() }}
