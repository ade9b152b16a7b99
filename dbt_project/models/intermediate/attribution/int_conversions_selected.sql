{#-
  The conversions attribution credits: the orders of int_orders_filtered (var attribution_conversion_type =
  all_orders, the default) or only each customer's first order (first_orders). Orders are numbered per
  customer in time order (ties by order_id).
-#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

numbered as (

    select
        order_id,
        customer_id,
        ordered_at_utc,
        ordered_at,
        order_date,
        total_amount,
        row_number() over (
            partition by customer_id order by ordered_at_utc, order_id
        ) as customer_order_number

    from orders

)

select
    order_id,
    customer_id,
    ordered_at_utc,
    ordered_at,
    order_date,
    total_amount as revenue,
    customer_order_number

from numbered
{%- if attribution_conversion_type() == 'first_orders' %}
where customer_order_number = 1
{%- endif %}
