{#- The orders that count: not cancelled, placed on or before the as-of date (business day). -#}
with

orders as (

    select * from {{ ref('stg_shop__orders') }}

)

select
    order_id,
    customer_id,
    ordered_at_utc,
    ordered_at,
    order_date,
    cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month,
    total_amount,
    status,
    payment_method,
    coupon_code,
    discount_amount,
    platform

from orders
where not is_cancelled
    and order_date <= {{ as_of_date() }}
