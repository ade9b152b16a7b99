{#-
  One row per customer with an order in int_orders_filtered: the clickstream behind the portrait's
  preference and engagement tags (device, platform, hours, sessions, activity, carts). Only signed-in
  events on or before the as-of date A and outside a window of withdrawn browsing consent
  (int_customer_consents_windowed) count. No rows while events has not landed (no rows at all): the
  portrait's tags are then null, not zero.
-#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

events as (

    select * from {{ ref('stg_shop__events') }}

),

consent_windows as (

    select * from {{ ref('int_customer_consents_windowed') }}

),

customers as (

    select distinct customer_id from orders

),

event_facts as (

    select
        customer_id,
        session_id,
        event_date,
        event_type,
        dwell_seconds,
        device,
        platform,
        case
            when extract(hour from occurred_at) < 6 then 'night'
            when extract(hour from occurred_at) < 12 then 'morning'
            when extract(hour from occurred_at) < 18 then 'afternoon'
            else 'evening'
        end as hour_band,
        -- 0 = Monday ... 6 = Sunday, counted from Monday 1970-01-05
        mod({{ dbt.datediff("cast('1970-01-05' as date)", 'event_date', 'day') }}, 7) >= 5 as is_weekend,
        {{ dbt.datediff('event_date', as_of_date(), 'day') }} as days_ago

    from events
    where customer_id is not null
        and event_date <= {{ as_of_date() }}
        and {{ consented('events', 'browsing', 'occurred_at_utc') }}

),

sessions as (

    select
        customer_id,
        session_id,
        min(days_ago) as days_ago,
        sum(coalesce(dwell_seconds, 0)) as dwell_seconds,
        max(case when event_type = 'search' then 1 else 0 end) as searched,
        max(case when event_type = 'add_to_cart' then 1 else 0 end) as carted,
        max(case when event_type = 'purchase' then 1 else 0 end) as purchased

    from event_facts
    group by customer_id, session_id

),

browsing as (

    select
        customer_id,
        count(*) as events,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_views,
        sum(case when event_type = 'review_view' then 1 else 0 end) as review_views,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        sum(case when is_weekend then 1 else 0 end) as weekend_events,
        count(distinct case when days_ago < 7 then event_date end) as active_days_7d,
        count(distinct case when days_ago < 30 then event_date end) as active_days_30d,
        count(distinct case when days_ago < 90 then event_date end) as active_days_90d

    from event_facts
    group by customer_id

),

session_summary as (

    select
        customer_id,
        count(*) as sessions,
        sum(case when days_ago < 7 then 1 else 0 end) as sessions_7d,
        sum(case when days_ago < 30 then 1 else 0 end) as sessions_30d,
        sum(case when days_ago < 90 then 1 else 0 end) as sessions_90d,
        avg(dwell_seconds) as avg_session_dwell_seconds,
        sum(searched) as search_sessions,
        sum(carted) as cart_sessions,
        sum(case when carted = 1 and purchased = 0 then 1 else 0 end) as abandoned_cart_sessions

    from sessions
    group by customer_id

),

top_devices as (

    {{ customer_top_value('event_facts', 'device') }}

),

top_platforms as (

    {{ customer_top_value('event_facts', 'platform') }}

),

top_hour_bands as (

    {{ customer_top_value('event_facts', 'hour_band') }}

)

select
    customers.customer_id,
    top_devices.device as main_device,
    top_platforms.platform as main_platform,
    top_hour_bands.hour_band as active_hour_band,
    case
        when browsing.events > 0
            then case when 2 * browsing.weekend_events > browsing.events then 'weekend' else 'weekday' end
    end as active_day_type,
    case
        when browsing.purchases > 0 then cast(browsing.product_views as double) / browsing.purchases
    end as browse_to_buy_ratio,
    case
        when browsing.purchases > 0
            then cast(browsing.product_views + browsing.review_views as double) / browsing.purchases
    end as views_per_purchase,
    cast(coalesce(session_summary.search_sessions, 0) as double) / nullif(session_summary.sessions, 0)
        as search_session_share,
    coalesce(session_summary.sessions_7d, 0) as sessions_7d,
    coalesce(session_summary.sessions_30d, 0) as sessions_30d,
    coalesce(session_summary.sessions_90d, 0) as sessions_90d,
    coalesce(browsing.active_days_7d, 0) as active_days_7d,
    coalesce(browsing.active_days_30d, 0) as active_days_30d,
    coalesce(browsing.active_days_90d, 0) as active_days_90d,
    session_summary.avg_session_dwell_seconds,
    case
        when session_summary.cart_sessions > 0
            then cast(session_summary.abandoned_cart_sessions as double) / session_summary.cart_sessions
    end as cart_abandonment_rate

from customers
left join browsing on customers.customer_id = browsing.customer_id
left join session_summary on customers.customer_id = session_summary.customer_id
left join top_devices on customers.customer_id = top_devices.customer_id
left join top_platforms on customers.customer_id = top_platforms.customer_id
left join top_hour_bands on customers.customer_id = top_hour_bands.customer_id
where {{ has_rows('events') }}
