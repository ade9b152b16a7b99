{#-
  Each order of int_orders with its journey: the touchpoints of the same customer at most
  attribution_lookback_days before the order and not after it (compared in UTC), numbered in time
  order. Orders without any touch have no row here (the attribution mart credits them to 'direct').
  Touches of anonymous visitors (no customer_id) cannot be tied to an order and are left out.
-#}
with

orders as (

    select * from {{ ref('int_orders') }}

),

touchpoints as (

    select * from {{ ref('stg_shop__touchpoints') }}

),

order_touches as (

    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at_utc,
        orders.total_amount as order_revenue,
        touchpoints.touchpoint_id,
        touchpoints.channel,
        touchpoints.campaign_id,
        touchpoints.touch_type,
        touchpoints.occurred_at_utc as touched_at_utc,
        touchpoints.occurred_at as touched_at

    from orders
    inner join touchpoints
        on touchpoints.customer_id = orders.customer_id
        and touchpoints.occurred_at_utc <= orders.ordered_at_utc
        and touchpoints.occurred_at_utc >= {{ dbt.dateadd(
            'day', -1 * int_var('attribution_lookback_days'), 'orders.ordered_at_utc') }}

)

select
    order_id,
    customer_id,
    ordered_at_utc,
    order_revenue,
    touchpoint_id,
    channel,
    campaign_id,
    touch_type,
    touched_at_utc,
    touched_at,
    row_number() over (
        partition by order_id order by touched_at_utc, touchpoint_id
    ) as touch_position,
    count(*) over (partition by order_id) as touch_count

from order_touches
