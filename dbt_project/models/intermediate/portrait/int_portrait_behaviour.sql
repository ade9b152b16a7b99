{#-
  One row per customer with an order in int_orders_filtered: the behaviour metrics the portrait's tags are
  computed from (consumption, preference, engagement, reviews, social, credit), consent honoured.

  Consent (stg_shop__consents, changes on or before the as-of date A): a data type is withdrawn from a
  'withdrawn' change until the next 'granted' change of the same customer and type (or forever). Rows
  of that data type dated inside a withdrawn period are not used: browsing → events, purchase_history
  → the order details of the consumption tags (payment, coupons, returns, categories, brands).
  location → location_withdrawn (the portrait then shows no city, tier, province or region).
  Optional tables that hold no rows (not landed) give null metrics, never zeros.
-#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

events as (

    select * from {{ ref('stg_shop__events') }}

),

reviews as (

    select * from {{ ref('stg_shop__reviews') }}

),

social_activities as (

    select * from {{ ref('stg_shop__social_activities') }}

),

repayments as (

    select * from {{ ref('stg_shop__repayments') }}

),

consents as (

    select * from {{ ref('stg_shop__consents') }}
    where changed_date <= {{ as_of_date() }}

),

customers as (

    select distinct customer_id from orders

),

withdrawn_periods as (

    select customer_id, data_type, withdrawn_from, withdrawn_until
    from (
        select
            customer_id,
            data_type,
            status,
            changed_at_utc as withdrawn_from,
            lead(changed_at_utc) over (
                partition by customer_id, data_type order by changed_at_utc
            ) as withdrawn_until
        from consents
    ) as changes
    where status = 'withdrawn'

),

location_consent as (

    select customer_id, status = 'withdrawn' as location_withdrawn
    from (
        select
            customer_id,
            status,
            row_number() over (partition by customer_id order by changed_at_utc desc) as change_rank
        from consents
        where data_type = 'location'
    ) as latest
    where change_rank = 1

),

{#- purchase_history consent: orders placed inside a withdrawn period are left out of the detail tags -#}
consented_orders as (

    select orders.*
    from orders
    where not exists (
        select 1 from withdrawn_periods
        where withdrawn_periods.customer_id = orders.customer_id
            and withdrawn_periods.data_type = 'purchase_history'
            and orders.ordered_at_utc >= withdrawn_periods.withdrawn_from
            and (withdrawn_periods.withdrawn_until is null
                or orders.ordered_at_utc < withdrawn_periods.withdrawn_until)
    )

),

{#- browsing consent: signed-in events on or before A, outside withdrawn periods -#}
consented_events as (

    select events.*
    from events
    where events.customer_id is not null
        and events.event_date <= {{ as_of_date() }}
        and not exists (
            select 1 from withdrawn_periods
            where withdrawn_periods.customer_id = events.customer_id
                and withdrawn_periods.data_type = 'browsing'
                and events.occurred_at_utc >= withdrawn_periods.withdrawn_from
                and (withdrawn_periods.withdrawn_until is null
                    or events.occurred_at_utc < withdrawn_periods.withdrawn_until)
        )

),

order_details as (

    select
        customer_id,
        count(*) as detail_orders,
        sum(case when payment_method = 'instalment' then 1 else 0 end) as instalment_orders,
        sum(case when coupon_code is not null or coalesce(discount_amount, 0) > 0 then 1 else 0 end)
            as promotion_orders,
        sum(case when status = 'returned' then 1 else 0 end) as returned_orders

    from consented_orders
    group by customer_id

),

payment_ranked as (

    select
        customer_id,
        payment_method,
        row_number() over (partition by customer_id order by count(*) desc, payment_method) as choice_rank

    from consented_orders
    where payment_method is not null
    group by customer_id, payment_method

),

item_spend as (

    select
        consented_orders.customer_id,
        products.category,
        products.brand,
        order_items.quantity * order_items.unit_price - coalesce(order_items.discount_amount, 0) as spend

    from order_items
    inner join consented_orders on order_items.order_id = consented_orders.order_id
    left join products on order_items.product_id = products.product_id

),

category_ranked as (

    select
        customer_id,
        category,
        row_number() over (partition by customer_id order by sum(spend) desc, category) as choice_rank
    from item_spend
    where category is not null
    group by customer_id, category

),

brand_ranked as (

    select
        customer_id,
        brand,
        row_number() over (partition by customer_id order by sum(spend) desc, brand) as choice_rank
    from item_spend
    where brand is not null
    group by customer_id, brand

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

    from consented_events

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

device_ranked as (

    select
        customer_id,
        device,
        row_number() over (partition by customer_id order by count(*) desc, device) as choice_rank
    from event_facts
    where device is not null
    group by customer_id, device

),

platform_ranked as (

    select
        customer_id,
        platform,
        row_number() over (partition by customer_id order by count(*) desc, platform) as choice_rank
    from event_facts
    where platform is not null
    group by customer_id, platform

),

hour_band_ranked as (

    select
        customer_id,
        hour_band,
        row_number() over (partition by customer_id order by count(*) desc, hour_band) as choice_rank
    from event_facts
    group by customer_id, hour_band

),

{#-
  Review sentiment: rating 1-2 negative, 4-5 positive; a 3 is negative when its text carries a
  negative word (Chinese or English), else neutral.
-#}
review_sentiment as (

    select
        customer_id,
        rating,
        case
            when rating <= 2 then 'negative'
            when rating >= 4 then 'positive'
            when {% for word in ['差', '失望', '坏', '慢', '退货', 'bad', 'poor', 'disappoint', 'broken', 'slow', 'terrible'] -%}
                lower(coalesce(review_text, '')) like '%{{ word }}%'{{ ' or ' if not loop.last }}
                {%- endfor %} then 'negative'
            else 'neutral'
        end as sentiment

    from reviews
    where review_date <= {{ as_of_date() }}

),

review_summary as (

    select
        customer_id,
        count(*) as review_count,
        avg(rating) as avg_rating,
        avg(case when sentiment = 'negative' then 1.0 else 0.0 end) as negative_review_share

    from review_sentiment
    group by customer_id

),

social_summary as (

    select
        customer_id,
        sum(case when activity_type = 'share' then 1 else 0 end) as shares_sent,
        sum(case when activity_type = 'referral' then 1 else 0 end) as friends_referred,
        count(distinct case when activity_type = 'group_buy' then group_buy_id end) as group_buys_joined

    from social_activities
    where activity_date <= {{ as_of_date() }}
    group by customer_id

),

{#- overdue: due before A and paid after the due day, or still unpaid at A -#}
credit_summary as (

    select
        customer_id,
        count(*) as instalments_due,
        sum(
            case
                when paid_date is not null and paid_date <= {{ as_of_date() }} and paid_date <= due_date then 0
                when due_date < {{ as_of_date() }} then 1
                else 0
            end
        ) as overdue_instalments

    from repayments
    where due_date <= {{ as_of_date() }}
    group by customer_id

),

{#- an optional table with no rows at all has not landed: its metrics are null, not zero -#}
landed as (

    select
        (select count(*) from events) > 0 as events_landed,
        (select count(*) from reviews) > 0 as reviews_landed,
        (select count(*) from social_activities) > 0 as social_landed,
        (select count(*) from repayments) > 0 as repayments_landed

)

select
    customers.customer_id,
    coalesce(location_consent.location_withdrawn, false) as location_withdrawn,
    order_details.detail_orders,
    payment_ranked.payment_method as preferred_payment_method,
    order_details.instalment_orders > 0 as uses_instalments,
    cast(order_details.promotion_orders as double) / order_details.detail_orders as promotion_order_share,
    cast(order_details.returned_orders as double) / order_details.detail_orders as return_rate,
    category_ranked.category as top_category,
    brand_ranked.brand as top_brand,
    case when landed.events_landed then device_ranked.device end as main_device,
    case when landed.events_landed then platform_ranked.platform end as main_platform,
    case when landed.events_landed then hour_band_ranked.hour_band end as active_hour_band,
    case
        when landed.events_landed and browsing.events > 0
            then case when 2 * browsing.weekend_events > browsing.events then 'weekend' else 'weekday' end
    end as active_day_type,
    case
        when landed.events_landed and browsing.purchases > 0
            then cast(browsing.product_views as double) / browsing.purchases
    end as browse_to_buy_ratio,
    case
        when landed.events_landed and browsing.purchases > 0
            then cast(browsing.product_views + browsing.review_views as double) / browsing.purchases
    end as views_per_purchase,
    case
        when landed.events_landed
            then cast(coalesce(session_summary.search_sessions, 0) as double)
                / nullif(session_summary.sessions, 0)
    end as search_session_share,
    case when landed.events_landed then coalesce(session_summary.sessions_7d, 0) end as sessions_7d,
    case when landed.events_landed then coalesce(session_summary.sessions_30d, 0) end as sessions_30d,
    case when landed.events_landed then coalesce(session_summary.sessions_90d, 0) end as sessions_90d,
    case when landed.events_landed then coalesce(browsing.active_days_7d, 0) end as active_days_7d,
    case when landed.events_landed then coalesce(browsing.active_days_30d, 0) end as active_days_30d,
    case when landed.events_landed then coalesce(browsing.active_days_90d, 0) end as active_days_90d,
    case when landed.events_landed then session_summary.avg_session_dwell_seconds end as avg_session_dwell_seconds,
    case
        when landed.events_landed and session_summary.cart_sessions > 0
            then cast(session_summary.abandoned_cart_sessions as double) / session_summary.cart_sessions
    end as cart_abandonment_rate,
    case when landed.reviews_landed then coalesce(review_summary.review_count, 0) end as review_count,
    review_summary.avg_rating,
    review_summary.negative_review_share,
    case when landed.social_landed then coalesce(social_summary.shares_sent, 0) end as shares_sent,
    case when landed.social_landed then coalesce(social_summary.friends_referred, 0) end as friends_referred,
    case when landed.social_landed then coalesce(social_summary.group_buys_joined, 0) end as group_buys_joined,
    case when landed.repayments_landed then coalesce(credit_summary.instalments_due, 0) end as instalments_due,
    case
        when landed.repayments_landed and credit_summary.instalments_due > 0
            then cast(credit_summary.overdue_instalments as double) / credit_summary.instalments_due
    end as overdue_rate

from customers
cross join landed
left join location_consent on customers.customer_id = location_consent.customer_id
left join order_details on customers.customer_id = order_details.customer_id
left join payment_ranked
    on customers.customer_id = payment_ranked.customer_id and payment_ranked.choice_rank = 1
left join category_ranked
    on customers.customer_id = category_ranked.customer_id and category_ranked.choice_rank = 1
left join brand_ranked
    on customers.customer_id = brand_ranked.customer_id and brand_ranked.choice_rank = 1
left join browsing on customers.customer_id = browsing.customer_id
left join session_summary on customers.customer_id = session_summary.customer_id
left join device_ranked
    on customers.customer_id = device_ranked.customer_id and device_ranked.choice_rank = 1
left join platform_ranked
    on customers.customer_id = platform_ranked.customer_id and platform_ranked.choice_rank = 1
left join hour_band_ranked
    on customers.customer_id = hour_band_ranked.customer_id and hour_band_ranked.choice_rank = 1
left join review_summary on customers.customer_id = review_summary.customer_id
left join social_summary on customers.customer_id = social_summary.customer_id
left join credit_summary on customers.customer_id = credit_summary.customer_id
