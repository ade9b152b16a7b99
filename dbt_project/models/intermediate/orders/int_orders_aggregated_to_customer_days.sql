{#- One row per customer and business day with an order (int_orders_filtered): the grain of BTYD and cohorts. -#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

order_days as (

    select
        customer_id,
        order_date,
        count(*) as order_count,
        sum(total_amount) as revenue

    from orders
    group by customer_id, order_date

)

select
    customer_id,
    order_date,
    row_number() over (partition by customer_id order by order_date) as order_day_number,
    order_count,
    revenue

from order_days
